"""The faults a reply must survive, each played end to end against real servers.

Each scenario starts what it needs (the app, a shaped fake provider, its own PostgreSQL or
Redis when it breaks them), runs replies through a fault, and returns an Outcome: how many
faults it tried, how many replies went through them, and how many of those were damaged
(text lost, a wrong status, a stream without its end) or answered with a 500. The fault
tests assert on the outcomes; `bench/faults.py` prints them as a table.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask_migrate import upgrade

from webapp.extensions import db

from ..conftest import make_app
from .servers import Gunicorn, OwnPostgres, OwnRedis, served
from .visitors import Seen, ShapedAnthropic, Visitor, add_thread, reply_rows, shaped_model, shaped_text, user_id_of


@dataclass
class Outcome:
    """What one scenario did and what became of its replies."""

    fault: str
    tried: int = 0
    replies: int = 0
    damaged: list[str] = field(default_factory=list)
    errors_500: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Expected:
    """A reply a scenario started: its id, the text its provider sends, and how it should end."""

    reply_id: str
    text: str
    status: str = "complete"


def judge(outcome: Outcome, database: sa.Engine, expected: list[Expected], seen: dict[str, Seen]) -> None:
    """Count the replies that were damaged: not saved whole, ended otherwise than shown, or never ended."""
    saved = reply_rows(database, [e.reply_id for e in expected])
    outcome.replies += len(expected)
    for reply in expected:
        status, text = saved.get(reply.reply_id, ("missing", ""))
        reader = seen.get(reply.reply_id)
        problems = []
        if (status, text) != (reply.status, reply.text):
            problems.append(f"saved {status} with {len(text)} of {len(reply.text)} characters")
        if reader is not None and reader.done is None:
            problems.append("its stream never ended")
        elif reader is not None and reader.final_status != status:
            problems.append(f"shown as {reader.final_status}, saved as {status}")
        elif reader is not None and reply.text.strip() not in reader.done.data:
            problems.append("shown without its whole text")
        if problems:
            outcome.damaged.append(f"{reply.reply_id}: {'; '.join(problems)}")


@contextmanager
def shaped_provider() -> Iterator[ShapedAnthropic]:
    with ShapedAnthropic() as fake:
        yield fake


@contextmanager
def running_app(database_url: str, fake_url: str, **settings: Any) -> Iterator[tuple[Flask, str]]:
    """The app on `database_url`, migrated and served on a loopback port in this process."""
    app = make_app(
        database_url,
        ANTHROPIC_API_KEY="k",
        ANTHROPIC_BASE_URL=fake_url,
        LLM_MAX_RETRIES=0,
        LOG_LEVEL="ERROR",
        **settings,
    )
    with app.app_context():
        upgrade()
    try:
        with served(app) as base_url:
            yield app, base_url
    finally:
        app.extensions["chat.runner"].shutdown()
        app.extensions["llm"].close()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def start_replies(
    visitor: Visitor, database: sa.Engine, user_id: str, shapes: list[tuple[int, int]], readers: ThreadPoolExecutor
) -> tuple[list[Expected], dict[str, Any]]:
    """Post one message per shape (chunks, delay in ms) in a chat of its own; follow each reply's stream."""
    expected, futures = [], {}
    for chunks, delay_ms in shapes:
        thread_id = add_thread(database, user_id, shaped_model(chunks, delay_ms))
        answer, reply_id = visitor.post(thread_id, "Write the scope section")
        assert reply_id is not None, f"posting answered {answer.status}"
        expected.append(Expected(reply_id, shaped_text(chunks)))
        futures[reply_id] = readers.submit(visitor.read_reply, reply_id, timeout=120)
    return expected, futures


def wait_for_saved_text(database: sa.Engine, expected: list[Expected], timeout: float = 20) -> None:
    """Wait until every reply has text in the database: they are under way, mid-reply."""
    deadline = time.monotonic() + timeout
    while not all(text for _, text in reply_rows(database, [e.reply_id for e in expected]).values()):
        assert time.monotonic() < deadline, "the replies did not start"
        time.sleep(0.1)


def _engine(app: Flask) -> sa.Engine:
    with app.app_context():
        return db.engine


def postgres_outage(pg: OwnPostgres, *, outage: float = 8.0, replies: int = 5) -> Outcome:
    """PostgreSQL stopped for `outage` seconds while replies of 180 characters stream, then started again.

    The replies take 5 to 13 seconds: some end while the database is away, some after.
    """
    outcome = Outcome(f"PostgreSQL stopped {outage:g} s mid-reply, then started", tried=1)
    began = time.monotonic()
    with pg.database() as url, shaped_provider() as fake, running_app(url, fake.url) as (app, base_url):
        database = _engine(app)
        visitor = Visitor(base_url)
        visitor.register("outage@example.com")
        shapes = [(36, 150 + 50 * n) for n in range(replies)]
        with ThreadPoolExecutor(max_workers=replies) as readers:
            expected, futures = start_replies(
                visitor, database, user_id_of(database, "outage@example.com"), shapes, readers
            )
            wait_for_saved_text(database, expected)
            pg.stop()
            _expect_unavailable(visitor, outcome)
            time.sleep(outage)
            pg.start()
            seen = {reply_id: future.result() for reply_id, future in futures.items()}
        judge(outcome, database, expected, seen)
        outcome.errors_500 = visitor.statuses.count(500) + sum(s.statuses.count(500) for s in seen.values())
    outcome.seconds = time.monotonic() - began
    return outcome


def _expect_unavailable(visitor: Visitor, outcome: Outcome) -> None:
    """While the database is away, pages say so (503), and a stream that starts waits for it."""
    answer = visitor.request("GET", "/chats")
    if answer.status != 503 or "database cannot be reached" not in answer.text:
        outcome.notes.append(f"a page during the outage answered {answer.status}")
        outcome.damaged.append("a page during the outage did not say the database is unreachable")


def redis_outage(redis: OwnRedis, database_url: str, *, down: float = 4.0, replies: int = 4) -> Outcome:
    """Redis killed while replies stream; meanwhile users log in, post, stop and read; then Redis starts again."""
    outcome = Outcome(f"Redis killed mid-reply for {down:g} s, then started again", tried=1)
    began = time.monotonic()
    settings = {"REDIS_URL": redis.url, "RATELIMIT_STORAGE_URI": redis.url}
    with shaped_provider() as fake, running_app(database_url, fake.url, **settings) as (app, base_url):
        database = _engine(app)
        visitor = Visitor(base_url)
        visitor.register("redis@example.com")
        user_id = user_id_of(database, "redis@example.com")
        shapes = [(36, 150 + 50 * n) for n in range(replies)]
        with ThreadPoolExecutor(max_workers=2 * replies + 2) as readers:
            expected, futures = start_replies(visitor, database, user_id, shapes, readers)
            wait_for_saved_text(database, expected)
            redis.kill()
            during, during_futures = _while_redis_is_down(base_url, visitor, database, user_id, readers)
            time.sleep(max(0.0, down - 1.0))
            redis.start()
            after, after_futures = start_replies(visitor, database, user_id, [(20, 50)], readers)
            seen = {key: future.result() for key, future in {**futures, **during_futures, **after_futures}.items()}
        judge(outcome, database, [*expected, *during, *after], seen)
        outcome.errors_500 = visitor.statuses.count(500) + sum(s.statuses.count(500) for s in seen.values())
        _check_broker_is_back(app, after[0].reply_id, outcome)
    outcome.seconds = time.monotonic() - began
    return outcome


def _while_redis_is_down(
    base_url: str, visitor: Visitor, database: sa.Engine, user_id: str, readers: ThreadPoolExecutor
) -> tuple[list[Expected], dict[str, Any]]:
    """Log in, post (and stop one reply), read a page: what users do while Redis is away."""
    newcomer = Visitor(base_url)
    assert newcomer.login("redis@example.com").status == 303, "logging in failed while Redis was down"
    visitor.statuses += newcomer.statuses
    expected, futures = start_replies(visitor, database, user_id, [(30, 100), (200, 50)], readers)
    stopped = expected.pop()
    time.sleep(0.5)
    answer = visitor.request("POST", f"/messages/{stopped.reply_id}/stop", htmx=True)
    assert answer.status == 204, f"Stop answered {answer.status} while Redis was down"
    futures[stopped.reply_id].result()
    _, text = reply_rows(database, [stopped.reply_id])[stopped.reply_id]
    expected.append(Expected(stopped.reply_id, text, "stopped"))
    visitor.request("GET", "/chats")
    return expected, futures


def _check_broker_is_back(app: Flask, reply_id: str, outcome: Outcome) -> None:
    events = app.extensions["chat.broker"].read(reply_id, 0, timeout=0.5) or []
    if not events or events[-1].kind != "done":
        outcome.notes.append("a reply after Redis came back did not stream through Redis")
        outcome.damaged.append(f"{reply_id}: not in Redis after it came back")


def sqlite_import_load(directory: Path, *, seconds: float = 30.0, chats: int = 50) -> Outcome:
    """Large CSV imports, one after another for `seconds`, while each of `chats` chats posts twice and
    follows both replies: `2 * chats` messages posted and replies streamed, on SQLite."""
    outcome = Outcome(f"SQLite: {seconds:g} s of large imports, {2 * chats} messages posted meanwhile", tried=1)
    began = time.monotonic()
    # One user posts and uploads far faster than the per-user limits allow: this is about locking, not limits.
    unlimited = {"CHAT_RATE_LIMIT": "10000 per minute", "UPLOAD_RATE_LIMIT": "10000 per minute"}
    with (
        shaped_provider() as fake,
        running_app(f"sqlite:///{directory / 'load.db'}", fake.url, **unlimited) as (app, base_url),
    ):
        database = _engine(app)
        owner = Visitor(base_url)
        owner.register("load@example.com")
        user_id = user_id_of(database, "load@example.com")
        project_id = _new_project(owner)
        threads = [add_thread(database, user_id, shaped_model(30, 100)) for _ in range(chats)]
        deadline = time.monotonic() + seconds
        with ThreadPoolExecutor(max_workers=chats + 1) as pool:
            imports = pool.submit(_import_until, owner, project_id, deadline)
            talks = [
                pool.submit(_talk_twice, base_url, owner.cookies, thread_id, n * seconds * 0.6 / chats)
                for n, thread_id in enumerate(threads)
            ]
            results = [talk.result() for talk in talks]
            imported, import_statuses = imports.result()
        expected = [e for talk in results for e in talk[0]]
        seen = {k: v for talk in results for k, v in talk[1].items()}
        judge(outcome, database, expected, seen)
        outcome.errors_500 = (
            import_statuses.count(500)
            + sum(talk[2].count(500) for talk in results)
            + sum(s.statuses.count(500) for s in seen.values())
        )
        refused = [s for talk in results for s in talk[2] if s != 200] + [s for s in import_statuses if s != 303]
        outcome.notes.append(f"{imported} imports of {CSV_ROWS:,} rows; answers other than success: {refused}")
    outcome.seconds = time.monotonic() - began
    return outcome


CSV_ROWS = 60_000


def _new_project(visitor: Visitor) -> str:
    answer = visitor.request("POST", "/projects", {"name": "Imports", "description": ""})
    assert answer.status == 303, f"creating a project answered {answer.status}"
    return answer.headers["Location"].rstrip("/").rsplit("/", 1)[1]


def _import_until(visitor: Visitor, project_id: str, deadline: float) -> tuple[int, list[int]]:
    """Upload large CSV files, each different, until `deadline`; how many, and every answer's status."""
    statuses = []
    while time.monotonic() < deadline:
        number = len(statuses)
        rows = "".join(
            f"{i},Customer {i} of batch {number},{i * 3.7:.2f},late payer in quarter {i % 4},EMEA\n"
            for i in range(CSV_ROWS)
        )
        statuses.append(
            visitor.upload(
                f"/projects/{project_id}/documents",
                f"customers-{number}.csv",
                ("id,name,amount,notes,region\n" + rows).encode(),
            )
        )
    return len(statuses), statuses


def _talk_twice(
    base_url: str,
    cookies: dict[str, str],
    thread_id: str,
    wait: float,
) -> tuple[list[Expected], dict[str, Seen], list[int]]:
    """After `wait` seconds, post a message and follow its reply, twice."""
    time.sleep(wait)
    visitor = Visitor(base_url)
    visitor.cookies = dict(cookies)  # CSRF is off in the app these run against
    expected, seen = [], {}
    for question in ("Draft the scope", "Now the risks"):
        answer, reply_id = visitor.post(thread_id, question)
        if reply_id is None:
            continue
        expected.append(Expected(reply_id, shaped_text(30)))
        seen[reply_id] = visitor.read_reply(reply_id, timeout=60)
    return expected, seen, visitor.statuses


@contextmanager
def production_servers(
    count: int, database_url: str, redis_url: str | None, fake_url: str, directory: Path, *, workers: int = 1
) -> Iterator[list[Gunicorn]]:
    """`count` gunicorn servers (gunicorn.conf.py) on one migrated database (and one Redis, if given)."""
    app = make_app(database_url)
    with app.app_context():
        upgrade()
        db.engine.dispose()
    app.extensions["chat.runner"].shutdown()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(SERVER_SETTINGS)},
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url or "",
        "SECRET_KEY": "fault-drill",
        "ANTHROPIC_API_KEY": "k",
        "ANTHROPIC_BASE_URL": fake_url,
        "LLM_MAX_RETRIES": "0",
        "WEB_WORKERS": str(workers),
        "LOG_LEVEL": "WARNING",
    }
    servers: list[Gunicorn] = []
    try:
        for number in range(count):
            servers.append(Gunicorn(env, directory / f"gunicorn-{number}.log"))
        yield servers
    finally:
        for server in servers:
            server.close()


# Settings the servers must not inherit from the shell that runs the tests.
SERVER_SETTINGS = ("ANTHROPIC_", "GEMINI_", "OPENAI_", "DEEPSEEK_", "WEB_", "CHAT_", "REDIS_", "DATABASE_")


def process_killed(pg: OwnPostgres, redis: OwnRedis, directory: Path, *, within: float = 20.0) -> Outcome:
    """A reply's process killed with SIGKILL; the other process shows it interrupted, with its text, in time."""
    outcome = Outcome("The process writing a reply killed (SIGKILL)", tried=1)
    began = time.monotonic()
    with (
        pg.database() as url,
        shaped_provider() as fake,
        production_servers(2, url, redis.url, fake.url, directory) as (writer_server, other_server),
    ):
        database = sa.create_engine(url, poolclass=sa.pool.NullPool)
        writer, other = Visitor(writer_server.url), Visitor(other_server.url)
        writer.register("killed@example.com")
        other.follow(writer)
        thread_id = add_thread(database, user_id_of(database, "killed@example.com"), shaped_model(300, 100))
        answer, reply_id = writer.post(thread_id, "Write the whole BRD")
        assert reply_id is not None, f"posting answered {answer.status}"
        with ThreadPoolExecutor(max_workers=1) as readers:
            reading = readers.submit(other.read_reply, reply_id, timeout=within + 30)
            wait_for_saved_text(database, [Expected(reply_id, "")])
            time.sleep(1)
            writer_server.kill()
            killed_at = time.monotonic()
            shown_after = _until_shown_interrupted(other, thread_id, within + 10)
            seen = reading.result()
        status, text = reply_rows(database, [reply_id])[reply_id]
        judge(outcome, database, [Expected(reply_id, text, "interrupted")], {reply_id: seen})
        if not text or not shaped_text(300).startswith(text):
            outcome.damaged.append(f"{reply_id}: its text was lost ({len(text)} characters kept)")
        if shown_after is None or shown_after - killed_at > within:
            outcome.damaged.append(f"{reply_id}: not shown as interrupted within {within:g} s")
        outcome.notes.append(
            f"shown as interrupted {((shown_after or began) - killed_at):.1f} s after the kill, "
            f"with {len(text)} characters"
        )
        outcome.errors_500 = other.statuses.count(500) + seen.statuses.count(500)
        database.dispose()
    outcome.seconds = time.monotonic() - began
    return outcome


def _until_shown_interrupted(visitor: Visitor, thread_id: str, timeout: float) -> float | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if "Interrupted" in visitor.request("GET", f"/threads/{thread_id}").text:
            return time.monotonic()
        time.sleep(0.25)
    return None


def graceful_reload(pg: OwnPostgres, directory: Path, *, replies: int = 4) -> Outcome:
    """The server, as installed by default (one process, no Redis), reloaded while replies stream.

    SIGHUP: a new worker starts and takes new requests; the old one finishes its replies and
    their streams. The new one must not take them for dead meanwhile.
    """
    outcome = Outcome("Graceful reload (SIGHUP) with replies running", tried=1)
    began = time.monotonic()
    with (
        pg.database() as url,
        shaped_provider() as fake,
        production_servers(1, url, None, fake.url, directory) as (server,),
    ):
        database = sa.create_engine(url, poolclass=sa.pool.NullPool)
        visitor = Visitor(server.url)
        visitor.register("reload@example.com")
        user_id = user_id_of(database, "reload@example.com")
        with ThreadPoolExecutor(max_workers=replies) as readers:
            expected, futures = start_replies(visitor, database, user_id, [(60, 100)] * replies, readers)
            wait_for_saved_text(database, expected)
            server.reload()
            time.sleep(2)  # the new workers are up; the old ones finish what they run
            if any(
                "Interrupted" in visitor.request("GET", f"/threads/{_thread_of(database, e.reply_id)}").text
                for e in expected
            ):
                outcome.damaged.append("a live reply was shown as interrupted after the reload")
            seen = {reply_id: future.result() for reply_id, future in futures.items()}
        judge(outcome, database, expected, seen)
        outcome.errors_500 = visitor.statuses.count(500) + sum(s.statuses.count(500) for s in seen.values())
        database.dispose()
    outcome.seconds = time.monotonic() - began
    return outcome


def _thread_of(database: sa.Engine, reply_id: str) -> str:
    from webapp.models import Message

    with database.connect() as connection:
        return connection.scalar(sa.select(Message.thread_id).where(Message.id == reply_id))
