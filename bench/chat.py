"""Time the chat path end to end against a fake Anthropic server, and print one table.

a. Added time to first token: POST a message, then the first `delta` at an SSE client,
   minus a raw HTTP client's time to the first token of the same reply from the fake.
b. Relay throughput of one unpaced 2,000-token reply, POST to `done`, at the SSE client.
c. 100 concurrent replies at 20 tokens/s under the production server (gunicorn.conf.py):
   every token arrives, gaps between deltas, time to first token, server memory.
d. The thread page with 1,000 messages (a tree: earlier versions of some replies and a few
   edited questions with their own continuations beside them) and the Chats page with 10,000
   chats, through the test client, on SQLite (and PostgreSQL when it answers at 127.0.0.1:5432).

The fake runs in its own process, so it does not compete for this process's GIL; the
server is gunicorn in another. Only 127.0.0.1 is used; every child ends with the run.

    /work/main/.venv/bin/python bench/chat.py [--quick]
"""

from __future__ import annotations

import argparse
import html
import json
import multiprocessing as mp
import os
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.client import HTTPConnection, HTTPResponse, RemoteDisconnected
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fakes import FakeAnthropic, text_reply, token_reply  # noqa: E402
from tests.fakes.server import RecordedRequest  # noqa: E402

T = TypeVar("T")

QUESTION = "Write the user stories for the invoice approval workshop."
PASSWORD = "correct horse battery staple"
# titles.py asks for at most 30 tokens; the fake answers those requests with a short title.
TITLE_MAX_TOKENS = 30
READ_TIMEOUT = 30.0
WARMUP = 3
PAUSE = 0.6

FIRST_TOKEN_REPLY = 20
THROUGHPUT_REPLY = 2_000
LOAD_CLIENTS = 100
LOAD_TOKENS = 100
LOAD_DELAY_MS = 50
# The load's replies start over this many seconds (people do not press Send in the same millisecond).
LOAD_RAMP = 0.5
# Four replies (and streams) per user: within MAX_STREAMS_PER_USER, so no stream falls back to polling.
LOAD_USERS = 25
LOAD_TIMEOUT = LOAD_TOKENS * LOAD_DELAY_MS / 1000 + 60
PAGE_MESSAGES = 1_000
# In the big thread: every VERSIONS_EVERY-th reply has two earlier versions, and every
# EDITS_EVERY-th question an earlier version with an exchange of its own after it.
VERSIONS_EVERY = 10
EDITS_EVERY = 100
LIST_THREADS = 10_000


@dataclass(frozen=True)
class Plan:
    first_token_runs: int
    throughput_runs: int
    page_runs: int


FULL = Plan(first_token_runs=30, throughput_runs=7, page_runs=30)
QUICK = Plan(first_token_runs=10, throughput_runs=3, page_runs=10)


# -- the fake provider, in a child process ------------------------------------------------

BENCH_MODEL = re.compile(r"claude-bench-(\d+)-(\d+)")


def bench_model(tokens: int, delay_ms: int) -> str:
    """A model name that tells the fake the reply's shape (and a 1M-token window to the app)."""
    return f"claude-bench-{tokens}-{delay_ms}"


class ShapedAnthropic(FakeAnthropic):
    """Answers every request, in the shape its model name asks for."""

    def _answer(self, handler: Any, request: RecordedRequest) -> None:
        self.requests.clear()  # nothing reads them; keep the child's memory flat
        body = request.json()
        match = BENCH_MODEL.fullmatch(str(body.get("model", "")))
        if match is None or int(body.get("max_tokens", 0)) <= TITLE_MAX_TOKENS:
            reply = text_reply("Invoice approval stories")
        else:
            reply = token_reply(int(match[1]), delay=int(match[2]) / 1000)
        self._stream(handler, reply, request)


def _serve_fake(urls: Any, stop: Any) -> None:
    with ShapedAnthropic() as fake:
        urls.put(fake.url)
        stop.wait(timeout=900)


@contextmanager
def fake_in_child() -> Iterator[str]:
    ctx = mp.get_context("spawn")
    urls, stop = ctx.Queue(), ctx.Event()
    child = ctx.Process(target=_serve_fake, args=(urls, stop), daemon=True)
    child.start()
    try:
        yield urls.get(timeout=60)
    finally:
        stop.set()
        child.join(timeout=10)
        if child.is_alive():
            child.terminate()
            child.join(timeout=5)


# -- reading event streams ---------------------------------------------------------------


@dataclass
class Reply:
    """One reply as a client saw it: when it asked, when each token came, what they said."""

    started: float
    arrivals: list[float] = field(default_factory=list)
    parts: list[str] = field(default_factory=list)
    finished: float | None = None
    answered: float | None = None  # when the POST's answer came back (app replies only)

    def add(self, now: float, text: str) -> None:
        self.arrivals.append(now)
        self.parts.append(text)

    @property
    def first_token(self) -> float:
        return self.arrivals[0] - self.started

    @property
    def duration(self) -> float:
        assert self.finished is not None
        return self.finished - self.started

    @property
    def gaps(self) -> list[float]:
        return [b - a for a, b in zip(self.arrivals, self.arrivals[1:], strict=False)]

    def complete(self, tokens: int) -> bool:
        return self.finished is not None and "".join(self.parts) == expected_text(tokens)


def expected_text(tokens: int) -> str:
    return "".join(f"word{i} " for i in range(tokens))


def _events(response: HTTPResponse, deadline: float) -> Iterator[tuple[float, bytes]]:
    """Each event's raw text with the moment its last byte arrived."""
    buffer = b""
    while time.monotonic() < deadline:
        chunk = response.read1(65536)
        if not chunk:
            return
        now = time.perf_counter()
        buffer += chunk
        *complete, buffer = buffer.split(b"\n\n")
        for raw in complete:
            yield now, raw


def _fields(raw: bytes) -> tuple[str, str]:
    """An event's name and its data lines joined, as EventSource reads them."""
    name, data = "message", []
    for line in raw.decode().split("\n"):
        key, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if key == "event":
            name = value
        elif key == "data":
            data.append(value)
    return name, "\n".join(data)


def raw_reply(fake_port: int, model: str) -> Reply:
    """Read a reply straight from the fake: the baseline."""
    body = json.dumps(
        {"model": model, "max_tokens": 4096, "stream": True, "messages": [{"role": "user", "content": QUESTION}]}
    )
    headers = {"Content-Type": "application/json", "x-api-key": "bench", "anthropic-version": "2023-06-01"}
    connection = HTTPConnection("127.0.0.1", fake_port, timeout=READ_TIMEOUT)
    reply = Reply(time.perf_counter())
    try:
        connection.request("POST", "/v1/messages", body, headers)
        for now, raw in _events(connection.getresponse(), time.monotonic() + 120):
            name, data = _fields(raw)
            if name == "content_block_delta":
                reply.add(now, json.loads(data)["delta"]["text"])
            elif name == "message_stop":
                reply.finished = now
                break
    finally:
        connection.close()
    return reply


def sdk_reply(client: Any, model: str) -> Reply:
    """Read a reply through the anthropic SDK alone, as a script with no web app would."""
    reply = Reply(time.perf_counter())
    with client.messages.create(
        model=model, max_tokens=4096, stream=True, messages=[{"role": "user", "content": QUESTION}]
    ) as events:
        for event in events:
            if event.type == "content_block_delta":
                reply.add(time.perf_counter(), event.delta.text)
            elif event.type == "message_stop":
                reply.finished = time.perf_counter()
    return reply


def _sdk_load(fake_url: str, model: str, results: Any) -> None:
    import anthropic

    client = anthropic.Anthropic(api_key="bench", base_url=fake_url, max_retries=0)
    sdk_reply(client, model)  # warm: the first request pays for lazy imports
    began = time.process_time()
    replies = run_together([lambda: sdk_reply(client, model)] * LOAD_CLIENTS, LOAD_RAMP, LOAD_TIMEOUT)
    results.put(([r for r in replies if isinstance(r, Reply)], time.process_time() - began))


def sdk_load_in_child(fake_url: str, model: str) -> tuple[list[Reply], float]:
    """The load of part c through the SDK alone, in a process of its own: the replies and the CPU they took."""
    ctx = mp.get_context("spawn")
    results = ctx.Queue()
    child = ctx.Process(target=_sdk_load, args=(fake_url, model, results), daemon=True)
    child.start()
    try:
        return results.get(timeout=LOAD_TIMEOUT + 60)
    finally:
        child.join(timeout=10)


# -- a signed-in user of the real server -------------------------------------------------

CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')
CSRF_HEADER = re.compile(r'"X-CSRFToken": "([^"]+)"')
STREAM_URL = re.compile(r'sse-connect="([^"]+)"')


class Browser:
    """One user's cookies and CSRF token, with a keep-alive connection of its own."""

    def __init__(self, port: int, cookies: dict[str, str] | None = None, csrf: str = "") -> None:
        self.port = port
        self.cookies = dict(cookies or {})
        self.csrf = csrf
        self._connection = HTTPConnection("127.0.0.1", port, timeout=READ_TIMEOUT)

    def clone(self) -> Browser:
        """The same user on a connection of its own (one per concurrent client)."""
        return Browser(self.port, self.cookies, self.csrf)

    def close(self) -> None:
        self._connection.close()

    @property
    def cookie_header(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())

    def request(
        self, method: str, path: str, form: dict[str, str] | None = None, *, htmx: bool = False
    ) -> tuple[int, str, str]:
        """Status, Location and body of one request."""
        headers = {"Cookie": self.cookie_header}
        body = urlencode(form) if form is not None else None
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if htmx:
            headers.update({"HX-Request": "true", "X-CSRFToken": self.csrf})
        try:
            self._connection.request(method, path, body, headers)
            response = self._connection.getresponse()
        except (ConnectionError, RemoteDisconnected):
            # The server closed the idle keep-alive connection (gunicorn's keepalive); open another.
            self._connection.close()
            self._connection.request(method, path, body, headers)
            response = self._connection.getresponse()
        text = response.read().decode()
        for cookie in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = cookie.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        return response.status, response.headers.get("Location", ""), text

    def register(self, email: str) -> None:
        _, _, page = self.request("GET", "/register")
        form = {
            "csrf_token": _csrf_field(page),
            "email": email,
            "display_name": email.split("@")[0],
            "password": PASSWORD,
            "confirm": PASSWORD,
        }
        status, _, _ = self.request("POST", "/register", form)
        assert status == 303, f"registering {email} answered {status}"
        login = {"csrf_token": form["csrf_token"], "email": email, "password": PASSWORD}
        status, _, _ = self.request("POST", "/login", login)
        assert status == 303, f"logging in as {email} answered {status}"
        _, _, page = self.request("GET", "/chats")
        match = CSRF_HEADER.search(page)
        assert match, "no CSRF token on the Chats page"
        self.csrf = match[1]

    def new_chat(self, model: str) -> str:
        """Start an Anthropic chat through the New chat form; return its id."""
        form = {
            "csrf_token": self.csrf,
            "project_id": "",
            "title": "",
            "provider": "anthropic",
            "model": model,
            "mode": "",
        }
        status, location, _ = self.request("POST", "/chats", form)
        assert status == 303 and "/threads/" in location, f"new chat answered {status}"
        return location.rsplit("/threads/", 1)[1].split("?")[0].split("#")[0]


def _csrf_field(page: str) -> str:
    match = CSRF_FIELD.search(page)
    assert match, "no csrf_token field in the form"
    return match[1] or match[2]


def app_reply(user: Browser, thread_id: str) -> Reply:
    """Post a message as htmx does, then follow the bubble's stream to `done`."""
    reply = Reply(time.perf_counter())
    status, _, bubbles = user.request("POST", f"/threads/{thread_id}/messages", {"content": QUESTION}, htmx=True)
    reply.answered = time.perf_counter()
    match = STREAM_URL.search(bubbles)
    assert status == 200 and match, f"posting a message answered {status}"
    connection = HTTPConnection("127.0.0.1", user.port, timeout=READ_TIMEOUT)
    try:
        connection.request(
            "GET", html.unescape(match[1]), headers={"Cookie": user.cookie_header, "Accept": "text/event-stream"}
        )
        for now, raw in _events(connection.getresponse(), time.monotonic() + 120):
            name, data = _fields(raw)
            if name == "delta":
                reply.add(now, html.unescape(data))
            elif name == "done":
                reply.finished = now
                break
    finally:
        connection.close()
    return reply


# -- the production server ---------------------------------------------------------------

# Settings the run must not inherit from the shell: it measures the defaults.
INHERITED_PREFIXES = ("ANTHROPIC_", "GEMINI_", "OPENAI_", "DEEPSEEK_", "WEB_", "CHAT_", "REDIS_", "DATABASE_")


@dataclass(frozen=True)
class Server:
    port: int
    pid: int


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _server_env(fake_url: str, workdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(INHERITED_PREFIXES)}
    env.update(
        {
            "DATABASE_URL": f"sqlite:///{workdir / 'bench.db'}",
            "SECRET_KEY": secrets.token_hex(32),
            "ANTHROPIC_API_KEY": "bench",
            "ANTHROPIC_BASE_URL": fake_url,
            "FLASK_APP": "webapp",
            # One user posts every reply of a part (or uploads every file, in bench/imports.py):
            # the benches measure replies and imports, not the per-user limits.
            "CHAT_RATE_LIMIT": "1000 per minute",
            "UPLOAD_RATE_LIMIT": "1000 per minute",
        }
    )
    return env


def _wait_until_ready(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            connection = HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/login")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.1)
        finally:
            connection.close()
    raise RuntimeError(f"gunicorn did not answer within 60 s:\n{log.read_text()[-3000:]}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@contextmanager
def production_server(fake_url: str, workdir: Path) -> Iterator[Server]:
    """gunicorn with gunicorn.conf.py on a fresh SQLite database, stopped on the way out."""
    env = _server_env(fake_url, workdir)
    subprocess.run(
        [sys.executable, "-m", "flask", "db", "upgrade"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    port, log = _free_port(), workdir / "gunicorn.log"
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "--config",
        "gunicorn.conf.py",
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
        yield Server(port, process.pid)
    finally:
        _stop(process)


def _children(pid: int) -> list[int]:
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _rss_kb(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
    return int(match[1]) if match else 0


def _cpu_ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])  # utime and stime


def server_cpu_seconds(pid: int) -> float:
    """The processor time the gunicorn master and its workers have used so far."""
    return sum(_cpu_ticks(p) for p in [pid, *_children(pid)]) / os.sysconf("SC_CLK_TCK")


def server_rss_mb(pid: int) -> float:
    """The resident memory of the gunicorn master and its workers, summed."""
    return sum(_rss_kb(p) for p in [pid, *_children(pid)]) / 1024


class PeakSampler:
    """Samples a value in a background thread and keeps the highest."""

    def __init__(self, sample: Callable[[], float], interval: float = 0.05) -> None:
        self.peak = 0.0
        self._sample, self._interval = sample, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._sample())
            self._stop.wait(self._interval)

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.peak = max(self.peak, self._sample())


# -- statistics and the table ------------------------------------------------------------


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[18] if len(values) > 1 else values[0]


def p5(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[0] if len(values) > 1 else values[0]


@dataclass(frozen=True)
class Row:
    name: str
    unit: str
    median: float
    tail: float | None
    target: str = ""
    passed: bool | None = None
    baseline: float | None = None


def ms_row(
    name: str,
    seconds: list[float],
    target: str = "",
    limit: float | None = None,
    *,
    on_tail: bool = False,
    baseline: list[float] | None = None,
) -> Row:
    """A row of times in ms; `limit` (ms) applies to the median, or to the p95 with `on_tail`."""
    values = [s * 1000 for s in seconds]
    median, tail = statistics.median(values), p95(values)
    passed = None if limit is None else (tail if on_tail else median) <= limit
    base = statistics.median(b * 1000 for b in baseline) if baseline else None
    return Row(name, "ms", median, tail, target, passed, base)


def print_table(rows: list[Row], notes: list[str]) -> None:
    header = f"{'measurement':<52} {'median':>12} {'p95':>12}  {'target':<20} {'vs baseline':>11}  result"
    print("\n" + header)
    print("-" * len(header))
    for row in rows:
        ratio = f"{row.median / row.baseline:.2f}x" if row.baseline else ""
        result = "" if row.passed is None else ("PASS" if row.passed else "FAIL")
        tail = "" if row.tail is None else _number(row.tail, row.unit)
        print(f"{row.name:<52} {_number(row.median, row.unit):>12} {tail:>12}  {row.target:<20} {ratio:>11}  {result}")
    print()
    for note in notes:
        print(note)


def _number(value: float, unit: str) -> str:
    if unit == "tok/s":
        return f"{value:,.0f} {unit}"
    if unit in ("", "of"):
        return f"{value:g}"
    return f"{value:.1f} {unit}"


# -- a. time to first token, b. throughput -----------------------------------------------


def _paired(user: Browser, fake_port: int, tokens: int, runs: int) -> list[tuple[Reply, Reply]]:
    """Raw and app replies of the same shape, alternately first, after a warm-up."""
    model = bench_model(tokens, 0)
    pairs = []
    for i in range(runs + WARMUP):
        thread_id = user.new_chat(model)
        if i % 2:
            raw, app = raw_reply(fake_port, model), app_reply(user, thread_id)
        else:
            app, raw = app_reply(user, thread_id), raw_reply(fake_port, model)
        assert raw.complete(tokens) and app.complete(tokens), "a reply lost tokens"
        if i >= WARMUP:
            pairs.append((raw, app))
        # Let the reply's after-work (its title, from a second provider call) end before the next.
        time.sleep(PAUSE)
    return pairs


def first_token_rows(user: Browser, fake_port: int, runs: int) -> list[Row]:
    pairs = _paired(user, fake_port, FIRST_TOKEN_REPLY, runs)
    raw = [r.first_token for r, _ in pairs]
    app = [a.first_token for _, a in pairs]
    added = [a - r for r, a in zip(raw, app, strict=False)]
    return [
        ms_row("a. first token, raw client from the fake (baseline)", raw),
        ms_row("a. first token, POST to first SSE delta", app, baseline=raw),
        ms_row("a. added time to first token (paired)", added, "median <= 15 ms", 15),
    ]


def throughput_rows(user: Browser, fake_port: int, runs: int) -> list[Row]:
    pairs = _paired(user, fake_port, THROUGHPUT_REPLY, runs)
    raw = [THROUGHPUT_REPLY / r.duration for r, _ in pairs]
    app = [THROUGHPUT_REPLY / a.duration for _, a in pairs]
    median = statistics.median(app)
    return [
        Row("b. 2,000-token reply, raw client (baseline)", "tok/s", statistics.median(raw), p5(raw)),
        Row(
            "b. 2,000-token reply, POST to done at SSE client",
            "tok/s",
            median,
            p5(app),
            "median >= 5,000 tok/s",
            median >= 5000,
            statistics.median(raw),
        ),
    ]


# -- c. concurrent replies ---------------------------------------------------------------


def run_together(tasks: list[Callable[[], T]], ramp: float, timeout: float) -> list[T]:
    """Run each task in a thread of its own, starting them evenly over `ramp` seconds."""
    results: list[Any] = [None] * len(tasks)
    start = time.monotonic() + 0.2

    def run(index: int) -> None:
        time.sleep(max(0.0, start + ramp * index / len(tasks) - time.monotonic()))
        try:
            results[index] = tasks[index]()
        except Exception as error:  # noqa: BLE001 - reported below, with the others
            results[index] = error

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(len(tasks))]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    return [r if r is not None else TimeoutError("did not finish in time") for r in results]


def _chats_for_load(users: list[Browser], model: str) -> list[tuple[Browser, str]]:
    """One chat per concurrent reply (a chat writes one reply at a time), spread over the users."""
    chats = []
    for i in range(LOAD_CLIENTS):
        user = users[i % len(users)]
        chats.append((user, user.new_chat(model)))
    return chats


def _app_task(user: Browser, thread_id: str) -> Callable[[], Reply]:
    def task() -> Reply:
        own = user.clone()
        try:
            return app_reply(own, thread_id)
        finally:
            own.close()

    return task


def load_rows(server: Server, users: list[Browser], fake_port: int) -> list[Row]:
    model = bench_model(LOAD_TOKENS, LOAD_DELAY_MS)
    chats = _chats_for_load(users, model)
    app_reply(users[0], users[0].new_chat(model))  # a warm server: SDK imported, templates compiled
    raw = run_together([lambda: raw_reply(fake_port, model)] * LOAD_CLIENTS, LOAD_RAMP, LOAD_TIMEOUT)
    sdk, sdk_cpu = sdk_load_in_child(f"http://127.0.0.1:{fake_port}", model)
    idle_mb = server_rss_mb(server.pid)
    cpu_before = server_cpu_seconds(server.pid)
    with PeakSampler(lambda: server_rss_mb(server.pid)) as rss:
        app = run_together([_app_task(user, thread_id) for user, thread_id in chats], LOAD_RAMP, LOAD_TIMEOUT)
    cpu_per_reply = (server_cpu_seconds(server.pid) - cpu_before) / LOAD_CLIENTS
    good_raw = _complete(raw)
    good_sdk = _complete(sdk)
    good = _complete(app)
    if os.environ.get("BENCH_DEBUG"):
        posts = sorted((r.answered - r.started) * 1000 for r in good)
        print("POST ms: median", statistics.median(posts), "p95", p95(posts), "max", posts[-1], file=sys.stderr)
    raw_gaps = [gap for reply in good_raw for gap in reply.gaps]
    gaps = [gap for reply in good for gap in reply.gaps] or [float("inf")]
    return [
        ms_row(f"c. gap between deltas, raw x{LOAD_CLIENTS} (baseline)", raw_gaps),
        ms_row(
            f"c. gap between deltas, {LOAD_CLIENTS} replies at 20 tok/s",
            gaps,
            "p95 <= 75 ms",
            75,
            on_tail=True,
            baseline=raw_gaps,
        ),
        ms_row(f"c. first token, raw x{LOAD_CLIENTS} (baseline)", [r.first_token for r in good_raw]),
        ms_row(
            f"c. first token, anthropic SDK alone x{LOAD_CLIENTS}",
            [r.first_token for r in good_sdk] or [float("inf")],
            baseline=[r.first_token for r in good_raw],
        ),
        ms_row(
            f"c. first token, {LOAD_CLIENTS} replies at 20 tok/s",
            [r.first_token for r in good] or [float("inf")],
            "median <= 500 ms",
            500,
            baseline=[r.first_token for r in good_raw],
        ),
        Row(
            "c. replies complete with every token",
            "of",
            len(good),
            None,
            f"all {LOAD_CLIENTS}",
            len(good) == LOAD_CLIENTS,
        ),
        Row(f"c. CPU per reply, anthropic SDK alone ({LOAD_TOKENS} tokens)", "ms", sdk_cpu / LOAD_CLIENTS * 1000, None),
        # The ratio column is the server's own cost per reply against the SDK's alone.
        Row(
            f"c. CPU per reply, server ({LOAD_TOKENS} tokens, and a title)",
            "ms",
            cpu_per_reply * 1000,
            None,
            "<= 2x the SDK's",
            cpu_per_reply <= 2 * sdk_cpu / LOAD_CLIENTS,
            sdk_cpu / LOAD_CLIENTS * 1000,
        ),
        Row("c. server RSS, master + workers (idle, peak)", "MB", idle_mb, rss.peak, "peak <= 150 MB", rss.peak <= 150),
    ]


def _complete(results: list[Any]) -> list[Reply]:
    good = [r for r in results if isinstance(r, Reply) and r.complete(LOAD_TOKENS)]
    for problem in {repr(r) for r in results if not isinstance(r, Reply)}:
        print(f"  a client failed: {problem}", file=sys.stderr)
    return good


def server_rows(fake_url: str, workdir: Path, plan: Plan, parts: str) -> list[Row]:
    fake_port = int(fake_url.rsplit(":", 1)[1])
    rows: list[Row] = []
    with production_server(fake_url, workdir) as server:
        users = [Browser(server.port) for _ in range(LOAD_USERS)]
        for n, user in enumerate(users):
            user.register(f"analyst{n}@example.com")
        if "a" in parts:
            rows += first_token_rows(users[0], fake_port, plan.first_token_runs)
        if "b" in parts:
            rows += throughput_rows(users[0], fake_port, plan.throughput_runs)
        if "c" in parts:
            rows += load_rows(server, users, fake_port)
        for user in users:
            user.close()
    return rows


# -- d. pages over big data --------------------------------------------------------------

START = datetime(2025, 1, 1, tzinfo=UTC)
WORDS = "scope budget stakeholder invoice approval workshop risk owner timeline migration".split()
ANSWER = (
    "## User stories\n\n"
    + "\n".join(f"- As an **approver**, I want to see the {w} so that I can decide quickly." for w in WORDS)
    + "\n\n| Story | Priority |\n|---|---|\n| Approve invoice | High |\n| Reject invoice | Medium |\n"
)


def _thread_rows(user_id: str, projects: list[str]) -> list[dict[str, Any]]:
    from webapp.models import new_id

    return [
        {
            "id": new_id(),
            "user_id": user_id,
            "title": f"Chat {n} about {WORDS[n % len(WORDS)]}",
            "model_provider": ("offline", "anthropic", "gemini")[n % 3],
            "thread_type": "ba_assistant",
            "project_id": projects[n % len(projects)] if n % 4 else None,
            "current_leaf_id": None,
            "created_at": START + timedelta(minutes=n),
            "last_activity_at": START + timedelta(minutes=n),
        }
        for n in range(LIST_THREADS)
    ]


def _message_row(thread_id: str, n: int, at: datetime, parent_id: str | None) -> dict[str, Any]:
    from webapp.models import new_id

    return {
        "id": new_id(),
        "thread_id": thread_id,
        "parent_id": parent_id,
        "role": "user" if n % 2 == 0 else "assistant",
        "status": "complete",
        "content": QUESTION if n % 2 == 0 else ANSWER,
        "provider": "anthropic",
        "model": "claude-sonnet-5-5",
        "input_tokens": 900,
        "output_tokens": 300,
        "created_at": at,
    }


def _message_rows(thread_id: str, count: int, first: datetime) -> list[dict[str, Any]]:
    """`count` messages, one after the other."""
    rows: list[dict[str, Any]] = []
    for n in range(count):
        rows.append(_message_row(thread_id, n, first + timedelta(seconds=n), rows[-1]["id"] if rows else None))
    return rows


def _other_versions(thread_id: str, shown: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Versions beside the messages `shown`, written before them (the thread shows the newest)."""
    rows = []
    for n, message in enumerate(shown):
        at, parent_id = message["created_at"], message["parent_id"]
        if n % 2 == 1 and (n // 2) % VERSIONS_EVERY == 0:
            rows += [_message_row(thread_id, n, at - timedelta(milliseconds=k), parent_id) for k in (2, 1)]
        if n % 2 == 0 and n and (n // 2) % EDITS_EVERY == 0:
            question = _message_row(thread_id, n, at - timedelta(milliseconds=3), parent_id)
            reply = _message_row(thread_id, n + 1, at - timedelta(milliseconds=2), question["id"])
            rows += [question, reply, _message_row(thread_id, n + 2, at - timedelta(milliseconds=1), reply["id"])]
    return rows


def _usage_rows(user_id: str, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    from decimal import Decimal

    from webapp.models import new_id

    return [
        {
            "id": new_id(),
            "user_id": user_id,
            "thread_id": m["thread_id"],
            "message_id": m["id"],
            "provider": "anthropic",
            "model": "claude-sonnet-5-5",
            "purpose": "chat",
            "input_tokens": 900,
            "output_tokens": 300,
            "cost": Decimal("0.0072"),
            "created_at": datetime.now(UTC),
        }
        for m in messages
        if m["role"] == "assistant"
    ]


def _seed(user_id: str) -> str:
    """10,000 chats with two messages each, one of them with 1,000; return the big one's id."""
    import sqlalchemy as sa

    from webapp.extensions import db
    from webapp.models import Message, Project, Thread, TokenUsage, new_id

    projects = [{"id": new_id(), "user_id": user_id, "name": f"Project {n}"} for n in range(20)]
    threads = _thread_rows(user_id, [p["id"] for p in projects])
    big = threads[-1]["id"]
    messages = [m for t in threads[:-1] for m in _message_rows(t["id"], 2, t["created_at"])]
    page = _message_rows(big, PAGE_MESSAGES, START)
    threads[-1]["current_leaf_id"] = page[-1]["id"]
    db.session.execute(sa.insert(Project), projects)
    db.session.execute(sa.insert(Thread), threads)
    db.session.execute(sa.insert(Message), messages + page + _other_versions(big, page))
    db.session.execute(sa.insert(TokenUsage), _usage_rows(user_id, page))
    db.session.commit()
    # A live database has planner statistics (autovacuum gathers them); a freshly bulk-loaded
    # one has none until then, and its query plans would be the ones of an empty table.
    db.session.execute(sa.text("ANALYZE"))
    db.session.commit()
    return big


def _time_page(client: Any, url: str, runs: int) -> list[float]:
    for _ in range(WARMUP):
        client.get(url)
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        response = client.get(url)
        samples.append(time.perf_counter() - began)
        assert response.status_code == 200, (url, response.status_code)
    return samples


def page_rows(backend: str, url: str, runs: int) -> list[Row]:
    import sqlalchemy as sa
    from flask_migrate import upgrade

    from tests.conftest import AuthActions, make_app
    from webapp.extensions import db
    from webapp.models import User

    # Request log lines would bury the table; the production run (a-c) keeps them.
    app = make_app(url, LOG_LEVEL="WARNING")
    with app.app_context():
        upgrade()
    client = app.test_client()
    AuthActions(client).register()
    with app.app_context():
        big = _seed(db.session.scalar(sa.select(User.id)))
    try:
        thread_page = _time_page(client, f"/threads/{big}", runs)
        chats_page = _time_page(client, "/chats", runs)
    finally:
        app.extensions["chat.runner"].shutdown()
        app.extensions["llm"].close()
        with app.app_context():
            db.engine.dispose()
    return [
        ms_row(
            f"d. thread page, {PAGE_MESSAGES:,} messages and other versions ({backend})",
            thread_page,
            "median <= 50 ms",
            50,
        ),
        ms_row(f"d. Chats page, {LIST_THREADS:,} chats ({backend})", chats_page, "median <= 25 ms", 25),
    ]


def database_rows(stack: ExitStack, workdir: Path, runs: int) -> list[Row]:
    from tests.databases import fresh_postgres_database, postgres_unavailable_reason

    rows = page_rows("sqlite", f"sqlite:///{workdir / 'pages.db'}", runs)
    reason = postgres_unavailable_reason()
    if reason is None:
        rows += page_rows("postgresql", stack.enter_context(fresh_postgres_database()), runs)
    else:
        print(f"  PostgreSQL skipped: {reason}", file=sys.stderr)
    return rows


# -- the run -----------------------------------------------------------------------------


def notes(plan: Plan) -> list[str]:
    return [
        f"a: {plan.first_token_runs} runs of a {FIRST_TOKEN_REPLY}-token reply, raw and app alternately, "
        f"each in a new chat, {PAUSE} s apart; b: {plan.throughput_runs} runs; c: {LOAD_CLIENTS} replies of {LOAD_TOKENS} tokens "
        f"{LOAD_DELAY_MS} ms apart, started over {LOAD_RAMP} s, one chat each, {LOAD_USERS} users;",
        f"d: {plan.page_runs} requests per page through the test client after {WARMUP} warm-ups.",
        "For tok/s rows the p95 column is the 5th percentile (the slow side). Servers: gunicorn with "
        "gunicorn.conf.py and its defaults for a-c; the fake in its own process.",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs of each measurement")
    parser.add_argument("--only", default="abcd", help="the parts to run, e.g. 'c' or 'ad' (default: abcd)")
    args = parser.parse_args()
    plan = QUICK if args.quick else FULL
    began = time.monotonic()
    rows: list[Row] = []
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-chat-")))
        if set(args.only) & set("abc"):
            fake_url = stack.enter_context(fake_in_child())
            rows += server_rows(fake_url, workdir, plan, args.only)
        if "d" in args.only:
            rows += database_rows(stack, workdir, plan.page_runs)
    print_table(rows, notes(plan))
    print(f"\nTook {time.monotonic() - began:.0f} s.")


if __name__ == "__main__":
    main()
