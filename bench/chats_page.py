"""Time the Chats page and chat search for one user with 10,000 chats, on SQLite and PostgreSQL.

Run: python -m bench.chats_page [--threads 10000]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade

from tests.conftest import AuthActions, make_app
from tests.databases import fresh_postgres_database, postgres_unavailable_reason, sqlite_url
from webapp.extensions import db
from webapp.models import Message, Project, Thread, User, new_id

START = datetime(2024, 1, 1, tzinfo=UTC)
WORDS = "scope budget stakeholder invoice approval workshop risk owner timeline migration".split()


def _fill(app: Flask, user_id: str, count: int) -> None:
    projects = [{"id": new_id(), "user_id": user_id, "name": f"Project {n}"} for n in range(20)]
    threads = [
        {
            "id": new_id(),
            "user_id": user_id,
            "title": f"Chat {n} about {WORDS[n % len(WORDS)]}",
            "model_provider": ("offline", "anthropic", "gemini")[n % 3],
            "thread_type": "ba_assistant",
            "project_id": projects[n % 20]["id"] if n % 4 else None,
            "created_at": START + timedelta(minutes=n),
            "last_activity_at": START + timedelta(minutes=n),
        }
        for n in range(count)
    ]
    messages = [
        {
            "id": new_id(),
            "thread_id": thread["id"],
            "role": "user",
            "status": "complete",
            "content": " ".join(WORDS[(n + k) % len(WORDS)] for k in range(40)),
            "created_at": START,
        }
        for n, thread in enumerate(threads)
        for _ in range(3)
    ]
    with app.app_context():
        db.session.execute(sa.insert(Project), projects)
        db.session.execute(sa.insert(Thread), threads)
        db.session.execute(sa.insert(Message), messages)
        db.session.commit()


def _time(client: FlaskClient, url: str, runs: int = 15) -> float:
    client.get(url)
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return statistics.median(samples)


def _deep_cursor_url(app: Flask, user_id: str) -> str:
    with app.app_context():
        thread = db.session.scalars(
            sa.select(Thread).where(Thread.user_id == user_id).order_by(Thread.last_activity_at).limit(1).offset(30)
        ).one()
        return f"/chats?after={thread.last_activity_at.isoformat()}~{thread.id}".replace("+", "%2B")


def _bench(backend: str, url: str, count: int) -> list[tuple[str, str, float]]:
    app = make_app(url)
    with app.app_context():
        upgrade()
    client = app.test_client()
    AuthActions(client).register()
    with app.app_context():
        user_id = db.session.scalar(sa.select(User.id))
    _fill(app, user_id, count)
    pages = {
        "Chats, first page": "/chats",
        "Chats, near the end": _deep_cursor_url(app, user_id),
        "Chats, provider filter": "/chats?provider=gemini",
        "Chats, title search": "/chats?q=workshop",
        "Home": "/",
        "Search messages": "/chats/search?q=stakeholder+approval",
    }
    rows = [(backend, name, _time(client, page)) for name, page in pages.items()]
    with app.app_context():
        db.engine.dispose()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=10_000)
    count = parser.parse_args().threads
    rows = []
    with ExitStack() as stack:
        directory = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        rows += _bench("sqlite", sqlite_url(directory), count)
        if postgres_unavailable_reason() is None:
            rows += _bench("postgresql", stack.enter_context(fresh_postgres_database()), count)
    print(f"\n{count} chats with 3 messages each; median of 15 requests through the test client\n")
    print(f"{'backend':<12} {'page':<24} {'ms':>8}")
    for backend, name, ms in rows:
        print(f"{backend:<12} {name:<24} {ms:>8.1f}")


if __name__ == "__main__":
    main()
