"""Load a production-like server with many users and open streams, and print one table per setup.

Each setup serves the app with gunicorn and gunicorn.conf.py against a fake Anthropic server in
a process of its own, and runs, in this order:

1. the baseline: `GET /login` on the idle server, and the same replies read straight from the fake;
2. the idle streams: IDLE_USERS users each post one message whose reply the fake holds back, and
   watch it from IDLE_TABS tabs (open streams that receive nothing but heartbeats);
3. the load: USERS users each post a message (started over RAMP seconds) and stream its reply of
   TOKENS tokens at 20 tokens/s, some from extra tabs, while `GET /login` is timed every PROBE s.

Setups: `sqlite` (one process, the defaults), `postgres` (PostgreSQL and Redis, two processes),
`hosts` (the same two processes as two gunicorn masters on two ports, behind a round-robin
loopback proxy this bench starts, as two hosts behind a load balancer). PostgreSQL is the
shared server on 127.0.0.1:5432 (a database of the run's own); Redis is a `redis-server` the
bench starts on a free port. Only 127.0.0.1 is used, every request loop is bounded in count and
time, and every child process ends with the run.

    .venv/bin/python bench/load.py [--setups sqlite,postgres,hosts] [--users 200] [--idle-streams 500]
"""

from __future__ import annotations

import argparse
import asyncio
import html
import json
import multiprocessing as mp
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.chat import (  # noqa: E402
    INHERITED_PREFIXES,
    QUESTION,
    Browser,
    ShapedAnthropic,
    _children,
    _cpu_ticks,
    _fields,
    _rss_kb,
    _stop,
    _wait_until_ready,
    bench_model,
    p95,
    raw_reply,
    run_together,
)
from tests.fakes import token_reply  # noqa: E402
from tests.fakes.server import RecordedRequest  # noqa: E402

TOKENS = 100
DELAY_MS = 50
RAMP = 1.0
PROBE = 0.05
IDLE_TABS = 5
# Extra tabs per active reply, cycled over the users: 1.5 on average, so that 200 users make
# 500 streams receiving tokens.
EXTRA_TABS = (2, 1)
# Long enough to outlast the load: the fake holds these replies back until the run ends.
IDLE_MODEL = "claude-bench-idle"
IDLE_SECONDS = 600
REPLY_TIMEOUT = 90.0
# A request the server has not answered by then counts as failed (a starved server may never answer).
REQUEST_TIMEOUT = 30.0
PROBE_TIMEOUT = 10.0
READ_LIMIT = 1 << 20
TRACEBACK_END = re.compile(r"[A-Za-z_][\w.]*(?:Error|Exception|Timeout): ")


# -- the fake provider, in a child process ------------------------------------------------


class LoadAnthropic(ShapedAnthropic):
    """The shaped fake, plus a model whose replies stay silent for IDLE_SECONDS."""

    def _answer(self, handler: Any, request: RecordedRequest) -> None:
        if request.json().get("model") == IDLE_MODEL and int(request.json().get("max_tokens", 0)) > 30:
            self.requests.clear()
            self._stream(handler, token_reply(1, first_byte_delay=IDLE_SECONDS), request)
            return
        super()._answer(handler, request)


def _serve_fake(urls: Any, stop: Any) -> None:
    with LoadAnthropic() as fake:
        urls.put(fake.url)
        stop.wait(timeout=3600)


@contextmanager
def child(target: Any, *args: Any) -> Iterator[Any]:
    """Run `target(queue, stop, *args)` in a spawned process; yield what it puts on the queue first."""
    ctx = mp.get_context("spawn")
    queue, stop = ctx.Queue(), ctx.Event()
    process = ctx.Process(target=target, args=(queue, stop, *args), daemon=True)
    process.start()
    try:
        yield queue.get(timeout=60), process.pid
    finally:
        stop.set()
        process.join(timeout=10)
        if process.is_alive():
            process.kill()
            process.join(timeout=5)


# -- the round-robin proxy ("two hosts"), in a child process --------------------------------


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


async def _relay(backends: list[int], ports: Any, stop: Any) -> None:
    turn = 0

    async def connect(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        nonlocal turn
        port, turn = backends[turn % len(backends)], turn + 1
        try:
            server_reader, server_writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            client_writer.close()
            return
        try:
            await asyncio.gather(_pipe(client_reader, server_writer), _pipe(server_reader, client_writer))
        except asyncio.CancelledError:  # the run is over
            pass

    server = await asyncio.start_server(connect, "127.0.0.1", 0, backlog=2048)
    ports.put(server.sockets[0].getsockname()[1])
    while not stop.is_set():
        await asyncio.sleep(0.2)
    server.close()


def _serve_proxy(ports: Any, stop: Any, backends: list[int]) -> None:
    asyncio.run(_relay(backends, ports, stop))


# -- servers ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Setup:
    name: str
    title: str
    database: str  # "sqlite" or "postgres"
    hosts: int  # gunicorn masters
    workers: int  # processes per master


SETUPS = {
    "sqlite": Setup("sqlite", "SQLite, one process (the defaults)", "sqlite", 1, 1),
    "postgres": Setup("postgres", "PostgreSQL + Redis, two processes", "postgres", 1, 2),
    "hosts": Setup(
        "hosts", "PostgreSQL + Redis, two hosts of one process behind a round-robin proxy", "postgres", 2, 1
    ),
}


@dataclass
class Deployment:
    port: int  # where clients connect: the one master, or the proxy
    masters: list[int]
    proxy_pid: int | None = None
    redis_pid: int | None = None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def redis_server(workdir: Path) -> Iterator[tuple[str, int]]:
    """A Redis of the run's own, on a free port, gone with the run: its URL and process id."""
    port = free_port()
    process = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(workdir),
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0", process.pid
    finally:
        process.terminate()
        process.wait(timeout=10)


def server_env(
    fake_url: str, database_url: str, redis_url: str | None, workers: int, extra: dict[str, str]
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(INHERITED_PREFIXES)}
    env.update(
        {
            "DATABASE_URL": database_url,
            "SECRET_KEY": "bench-" + "0" * 58,
            "ANTHROPIC_API_KEY": "bench",
            "ANTHROPIC_BASE_URL": fake_url,
            "FLASK_APP": "webapp",
            "WEB_WORKERS": str(workers),
            "LOG_LEVEL": "WARNING",
            # The run's own users post from one address; this bench measures streams, not the limits.
            "CHAT_RATE_LIMIT": "1000 per minute",
            "RATELIMIT_LOGIN": "1000 per minute",
        }
    )
    if redis_url:
        env["REDIS_URL"] = redis_url
    env.update(extra)
    return env


@contextmanager
def gunicorn(env: dict[str, str], config: str, workdir: Path, name: str) -> Iterator[tuple[int, int]]:
    port, log = free_port(), workdir / f"{name}.log"
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "--config",
        config,
        "--bind",
        f"127.0.0.1:{port}",
        "webapp.wsgi:app",
    ]
    with open(log, "wb") as output:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        _wait_until_ready(port, process, log)
        yield port, process.pid
    finally:
        _stop(process)


@contextmanager
def deploy(setup: Setup, fake_url: str, workdir: Path, config: str, extra: dict[str, str]) -> Iterator[Deployment]:
    with ExitStack() as stack:
        redis_url, redis_pid = None, None
        if setup.database == "postgres":
            from tests.databases import fresh_postgres_database

            database_url = stack.enter_context(fresh_postgres_database())
            redis_url, redis_pid = stack.enter_context(redis_server(workdir))
        else:
            database_url = f"sqlite:///{Path(tempfile.mkdtemp(dir=workdir)) / 'bench.db'}"  # fresh for each run
        env = server_env(fake_url, database_url, redis_url, setup.workers, extra)
        subprocess.run(
            [sys.executable, "-m", "flask", "db", "upgrade"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            timeout=180,
        )
        masters = [stack.enter_context(gunicorn(env, config, workdir, f"{setup.name}-{n}")) for n in range(setup.hosts)]
        if setup.hosts == 1:
            yield Deployment(masters[0][0], [pid for _, pid in masters], redis_pid=redis_pid)
            return
        proxy_port, proxy_pid = stack.enter_context(child(_serve_proxy, [port for port, _ in masters]))
        yield Deployment(proxy_port, [pid for _, pid in masters], proxy_pid, redis_pid)


# -- processes: CPU and memory ----------------------------------------------------------------


def _stat(pid: int) -> tuple[float, float]:
    """CPU seconds so far and RSS in MB."""
    return _cpu_ticks(pid) / os.sysconf("SC_CLK_TCK"), _rss_kb(pid) / 1024


def processes(deployment: Deployment) -> dict[str, int]:
    named = {}
    for host, master in enumerate(deployment.masters, start=1):
        prefix = f"host {host} " if len(deployment.masters) > 1 else ""
        named[f"{prefix}master"] = master
        for n, worker in enumerate(_children(master), start=1):
            named[f"{prefix}worker {n}"] = worker
    if deployment.proxy_pid:
        named["round-robin proxy"] = deployment.proxy_pid
    if deployment.redis_pid:
        named["redis-server"] = deployment.redis_pid
    # The bench's own share of the machine's two cores: what the servers could not have.
    named["bench: clients (this process)"] = os.getpid()
    return named


@dataclass
class Usage:
    cpu: dict[str, float] = field(default_factory=dict)
    peak_rss: dict[str, float] = field(default_factory=dict)


async def sample_processes(named: dict[str, int], usage: Usage, done: asyncio.Event) -> None:
    start = {name: _stat(pid)[0] for name, pid in named.items()}
    while True:
        for name, pid in named.items():
            usage.peak_rss[name] = max(usage.peak_rss.get(name, 0.0), _stat(pid)[1])
        if done.is_set():
            break
        await asyncio.sleep(0.2)
    usage.cpu = {name: _stat(pid)[0] - start[name] for name, pid in named.items()}


# -- an HTTP/1.1 client for many connections at once --------------------------------------------


async def _head(reader: asyncio.StreamReader) -> tuple[int, dict[str, str]]:
    status = int((await reader.readline()).split()[1])
    headers = {}
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers


async def request(
    port: int,
    method: str,
    path: str,
    cookie: str = "",
    form: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = REQUEST_TIMEOUT,
) -> tuple[int, str]:
    """One request on a connection of its own: the status and the body (TimeoutError after `timeout`)."""
    return await asyncio.wait_for(_request(port, method, path, cookie, form, headers), timeout)


async def _request(
    port: int, method: str, path: str, cookie: str, form: dict[str, str] | None, headers: dict[str, str] | None
) -> tuple[int, str]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=READ_LIMIT)
    body = urlencode(form).encode() if form is not None else b""
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close", f"Content-Length: {len(body)}"]
    lines += [f"Cookie: {cookie}"] if cookie else []
    lines += ["Content-Type: application/x-www-form-urlencoded"] if form is not None else []
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
    try:
        status, response_headers = await _head(reader)
        if "content-length" in response_headers:
            data = await reader.readexactly(int(response_headers["content-length"]))
        else:
            data = await reader.read()
        return status, data.decode()
    finally:
        writer.close()


async def _chunks(reader: asyncio.StreamReader, chunked: bool) -> Any:
    while True:
        if not chunked:
            data = await reader.read(65536)
            if not data:
                return
            yield data
            continue
        size = int((await reader.readline()).split(b";")[0], 16)
        if size == 0:
            return
        yield await reader.readexactly(size)
        await reader.readexactly(2)


@dataclass
class Stream:
    """What one open stream saw."""

    started: float
    arrivals: list[float] = field(default_factory=list)
    text: str = ""
    done: bool = False
    error: str | None = None

    def add_text(self, now: float, text: str) -> None:
        self.arrivals.append(now)
        self.text += text


async def follow(port: int, path: str, cookie: str, seen: Stream, until: asyncio.Event | None = None) -> None:
    """Read a reply's stream to `done` (or, for an idle one, until `until` is set)."""
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=READ_LIMIT)
    except OSError as error:
        seen.error = repr(error)
        return
    writer.write(
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\nAccept: text/event-stream\r\n\r\n".encode()
    )
    try:
        await _read_events(reader, seen, until)
    except (OSError, asyncio.IncompleteReadError, ValueError, IndexError) as error:
        seen.error = repr(error)
    finally:
        writer.close()


async def _read_events(reader: asyncio.StreamReader, seen: Stream, until: asyncio.Event | None) -> None:
    status, headers = await _head(reader)
    if status != 200:
        seen.error = f"status {status}"
        return
    buffer = b""
    async for chunk in _chunks(reader, headers.get("transfer-encoding") == "chunked"):
        now = time.perf_counter()
        *complete, buffer = (buffer + chunk).split(b"\n\n")
        for raw in complete:
            name, data = _fields(raw)
            if name == "delta":
                seen.add_text(now, html.unescape(data))
            elif name == "replace":  # fell back to the saved text: it holds everything so far
                seen.text = html.unescape(re.sub(r"<[^>]+>", "", data))
                seen.arrivals.append(now)
            elif name == "done":
                seen.done = True
                return
        if until is not None and until.is_set():
            return
    seen.error = seen.error or "closed before done"


# -- users ----------------------------------------------------------------------------------------


@dataclass
class User:
    cookie: str
    csrf: str
    chat: str


def make_users(port: int, count: int, model: str, prefix: str) -> list[User]:
    """Register `count` users through the sign-up form, each with one chat on `model`."""

    def one(n: int) -> User:
        browser = Browser(port)
        try:
            browser.register(f"{prefix}{n}@example.com")
            return User(browser.cookie_header, browser.csrf, browser.new_chat(model))
        finally:
            browser.close()

    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(one, range(count)))


async def post(port: int, user: User) -> str:
    """Post the question as htmx does; return the reply's stream path."""
    status, body = await request(
        port,
        "POST",
        f"/threads/{user.chat}/messages",
        user.cookie,
        {"content": QUESTION},
        {"HX-Request": "true", "X-CSRFToken": user.csrf},
    )
    match = re.search(r'sse-connect="([^"]+)"', body)
    if status != 200 or not match:
        raise RuntimeError(f"posting answered {status}")
    return html.unescape(match[1])


# -- one setup's run ------------------------------------------------------------------------------


@dataclass
class Load:
    users: int
    idle_users: int

    @property
    def idle_streams(self) -> int:
        return self.idle_users * IDLE_TABS


@dataclass
class Outcome:
    posters: list[Stream]
    watchers: list[Stream]  # extra tabs on the active replies
    idle: list[Stream]
    login_before: list[float]
    login_during: list[float]
    raw: list[Any]
    usage: Usage
    failures: list[str]


async def probe_login(port: int, samples: list[float], until: asyncio.Event, limit: int) -> None:
    """Time `GET /login` every PROBE seconds until `until` is set (at most `limit` times)."""
    for _ in range(limit):
        if until.is_set():
            return
        began = time.perf_counter()
        try:
            status, _ = await asyncio.wait_for(request(port, "GET", "/login"), timeout=60)
            samples.append(time.perf_counter() - began if status == 200 else float("inf"))
        except (TimeoutError, OSError):
            samples.append(float("inf"))
        await asyncio.sleep(max(0.0, PROBE - (time.perf_counter() - began)))


async def open_idle(
    port: int, users: list[User], release: asyncio.Event, failures: list[str]
) -> tuple[list[Stream], list[asyncio.Task]]:
    streams = [Stream(time.perf_counter()) for _ in range(len(users) * IDLE_TABS)]
    paths = await asyncio.gather(*(post(port, user) for user in users), return_exceptions=True)
    tasks = []
    for n, (user, path) in enumerate(zip(users, paths, strict=True)):
        tabs = streams[n * IDLE_TABS : (n + 1) * IDLE_TABS]
        if isinstance(path, BaseException):
            failures.append(f"idle post: {path!r}")
            for seen in tabs:
                seen.error = repr(path)
            continue
        tasks += [asyncio.create_task(follow(port, path, user.cookie, seen, release)) for seen in tabs]
    await asyncio.sleep(1.0)  # let every idle stream connect before the load starts
    return streams, tasks


async def active_reply(
    port: int, user: User, tabs: int, delay: float, failures: list[str]
) -> tuple[Stream, list[Stream]]:
    await asyncio.sleep(delay)
    began = time.perf_counter()
    own, extra = Stream(began), [Stream(began) for _ in range(tabs)]
    try:
        await asyncio.wait_for(_post_and_follow(port, user, (own, *extra)), REPLY_TIMEOUT)
    except (OSError, RuntimeError, TimeoutError, asyncio.IncompleteReadError) as error:
        failures.append(repr(error))
    return own, extra


async def _post_and_follow(port: int, user: User, streams: tuple[Stream, ...]) -> None:
    path = await post(port, user)
    await asyncio.gather(*(follow(port, path, user.cookie, seen) for seen in streams))


async def run_load(port: int, named: dict[str, int], active: list[User], idle_users: list[User]) -> Outcome:
    failures: list[str] = []
    before: list[float] = []
    quiet = asyncio.Event()
    quiet_probe = asyncio.create_task(probe_login(port, before, quiet, limit=40))
    await asyncio.sleep(40 * PROBE)
    quiet.set()
    await quiet_probe
    release, finished = asyncio.Event(), asyncio.Event()
    idle, idle_tasks = await open_idle(port, idle_users, release, failures)
    usage = Usage()
    sampler = asyncio.create_task(sample_processes(named, usage, finished))
    during: list[float] = []
    prober = asyncio.create_task(probe_login(port, during, finished, limit=int(2 * REPLY_TIMEOUT / PROBE)))
    replies = [
        active_reply(port, user, EXTRA_TABS[n % len(EXTRA_TABS)], RAMP * n / len(active), failures)
        for n, user in enumerate(active)
    ]
    results = await asyncio.gather(*replies, return_exceptions=True)
    finished.set()
    release.set()
    await asyncio.gather(prober, sampler)
    for task in idle_tasks:
        task.cancel()
    await asyncio.gather(*idle_tasks, return_exceptions=True)
    failures += [repr(r) for r in results if isinstance(r, BaseException)]
    good = [r for r in results if not isinstance(r, BaseException)]
    failures += [f"stream: {s.error}" for own, extra in good for s in (own, *extra) if s.error]
    return Outcome(
        [own for own, _ in good], [s for _, extra in good for s in extra], idle, before, during, [], usage, failures
    )


def raw_baseline(fake_port: int, count: int) -> list[Any]:
    """The same replies straight from the fake, at the same pace: what the app adds to."""
    model = bench_model(TOKENS, DELAY_MS)
    return run_together([lambda: raw_reply(fake_port, model)] * count, RAMP, REPLY_TIMEOUT)


def run_setup(
    setup: Setup,
    load: Load,
    fake_url: str,
    workdir: Path,
    config: str,
    extra: dict[str, str],
    fake_pid: int | None = None,
) -> Outcome:
    fake_port = int(fake_url.rsplit(":", 1)[1])
    with deploy(setup, fake_url, workdir, config, extra) as deployment:
        active = make_users(deployment.port, load.users, bench_model(TOKENS, DELAY_MS), f"{setup.name}-a")
        idle = make_users(deployment.port, load.idle_users, IDLE_MODEL, f"{setup.name}-i")
        raw = raw_baseline(fake_port, load.users)
        named = processes(deployment)
        if fake_pid:
            named["bench: fake provider"] = fake_pid
        outcome = asyncio.run(run_load(deployment.port, named, active, idle))
    outcome.raw = raw
    outcome.failures += server_errors(workdir, setup.name)
    return outcome


def server_errors(workdir: Path, name: str) -> list[str]:
    """What the servers logged as errors: the last line of each exception, or the message."""
    found = []
    for log in workdir.glob(f"{name}-*.log"):
        for line in log.read_text(errors="replace").splitlines():
            if line.startswith("{") and '"level": "error"' in line:
                entry = json.loads(line)
                found.append("server: " + (entry.get("exception") or entry["message"]).strip().splitlines()[-1])
            elif TRACEBACK_END.match(line):  # gunicorn's own traceback of a request that failed
                found.append("server: " + line)
        log.unlink()  # the next run of this setup starts a log of its own
    return found


# -- the table ---------------------------------------------------------------------------------------


def ms(values: list[float]) -> tuple[str, str]:
    if not values:
        return "-", "-"
    return f"{statistics.median(values) * 1000:.1f} ms", f"{p95(values) * 1000:.1f} ms"


def tokens_of(text: str) -> int:
    return len(re.findall(r"\bword\d+ ", text))


def table_rows(outcome: Outcome, load: Load) -> list[tuple[str, str, str, str, str]]:
    receiving = outcome.posters + outcome.watchers
    lost = load.users * (1 + sum(EXTRA_TABS) / len(EXTRA_TABS)) * TOKENS - sum(tokens_of(s.text) for s in receiving)
    complete = sum(1 for s in outcome.posters if s.done and tokens_of(s.text) == TOKENS)
    raw = [r for r in outcome.raw if hasattr(r, "first_token")]
    gaps = [b - a for s in outcome.posters for a, b in zip(s.arrivals, s.arrivals[1:], strict=False)]
    raw_gaps = [gap for r in raw for gap in r.gaps]
    first = [s.arrivals[0] - s.started for s in outcome.posters if s.arrivals]
    open_idle = sum(1 for s in outcome.idle if s.error is None)
    login_p95 = p95(outcome.login_during) * 1000 if outcome.login_during else float("inf")
    rows = [
        (
            "replies completed with every token",
            f"{complete} of {load.users}",
            "",
            f"all {load.users}",
            _verdict(complete == load.users),
        ),
        (f"tokens lost over {len(receiving)} receiving streams", f"{lost:.0f}", "", "0", _verdict(lost == 0)),
        (
            f"idle streams open to the end (of {load.idle_streams})",
            str(open_idle),
            "",
            "all",
            _verdict(open_idle == load.idle_streams),
        ),
        (f"first token, raw from the fake x{load.users} (baseline)", *ms([r.first_token for r in raw]), "", ""),
        ("first token, POST to first delta", *ms(first), "", ""),
        ("gap between deltas, raw from the fake (baseline)", *ms(raw_gaps), "", ""),
        ("gap between deltas, at the poster's tab", *ms(gaps), "", ""),
        ("GET /login, idle server (baseline)", *ms(outcome.login_before), "", ""),
        (
            f"GET /login during the load ({len(outcome.login_during)} requests)",
            *ms(outcome.login_during),
            "p95 <= 100 ms",
            _verdict(login_p95 <= 100),
        ),
    ]
    for name, cpu in outcome.usage.cpu.items():
        rows.append(
            (f"{name}: CPU during the load, peak RSS", f"{cpu:.1f} s", f"{outcome.usage.peak_rss[name]:.0f} MB", "", "")
        )
    return rows


def _verdict(passed: bool) -> str:
    return "PASS" if passed else "FAIL"


def print_table(title: str, rows: list[tuple[str, str, str, str, str]], failures: list[str]) -> None:
    header = f"{'measurement':<58} {'median':>12} {'p95':>12}  {'target':<14} result"
    print(f"\n{title}\n{header}\n{'-' * len(header)}")
    for name, median, tail, target, result in rows:
        print(f"{name:<58} {median:>12} {tail:>12}  {target:<14} {result}")
    for problem in sorted(set(failures))[:5]:
        print(f"  a client failed: {problem}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--setups", default="sqlite,postgres,hosts", help="comma-separated: " + ", ".join(SETUPS))
    parser.add_argument("--users", type=int, default=200, help="users posting and streaming at once")
    parser.add_argument("--idle-streams", type=int, default=500, help=f"idle streams ({IDLE_TABS} tabs per user)")
    parser.add_argument(
        "--config",
        action="append",
        help="gunicorn configuration to serve with (repeat to "
        "compare several, each setup under each in turn; default gunicorn.conf.py)",
    )
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE", help="a server setting")
    args = parser.parse_args()
    configs = args.config or ["gunicorn.conf.py"]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("stopped"))  # end the servers on the way out
    if shutil.which("redis-server") is None and "sqlite" not in args.setups:
        sys.exit("redis-server is needed for the PostgreSQL setups (apt-get install redis-server)")
    load = Load(args.users, max(0, args.idle_streams // IDLE_TABS))
    extra = dict(item.split("=", 1) for item in args.env)
    began = time.monotonic()
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-load-")))
        fake_url, fake_pid = stack.enter_context(child(_serve_fake))
        for name in args.setups.split(","):
            for config in configs:
                setup = SETUPS[name]
                outcome = run_setup(setup, load, fake_url, workdir, config, extra, fake_pid)
                title = (
                    f"{setup.title}: {load.users} users at 20 tok/s ({TOKENS} tokens), "
                    f"{load.users * (1 + sum(EXTRA_TABS) / len(EXTRA_TABS)):.0f} receiving + "
                    f"{load.idle_streams} idle streams; {config} {' '.join(args.env)}"
                )
                print_table(title, table_rows(outcome, load), outcome.failures)
    print(
        f"\nMedian and p95 over every sample; the fake provider and the proxy run in processes of their own, the clients in this one. "
        f"Took {time.monotonic() - began:.0f} s."
    )


if __name__ == "__main__":
    main()
