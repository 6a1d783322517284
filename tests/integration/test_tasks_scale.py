"""The Tasks page stays one page of work however many tasks there are: no query per row."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from webapp.extensions import db
from webapp.models import TASK_PRIORITIES, Project, Task, Thread, User, new_id, utcnow

from ..conftest import other_client

SPREAD = 60  # more projects and chats than a page has rows, so a query per row would show


@contextmanager
def counted_queries(app: Flask) -> Iterator[list[str]]:
    with app.app_context():
        engine = db.engine
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)


def _owner_things(user_id: str) -> tuple[list[str], list[str]]:
    projects = [Project(user_id=user_id, name=f"Project {n}") for n in range(SPREAD)]
    threads = [Thread(user_id=user_id, title=f"Chat {n}", model_provider="offline") for n in range(SPREAD)]
    db.session.add_all(projects + threads)
    db.session.flush()
    return [p.id for p in projects], [t.id for t in threads]


def _add_tasks(user_id: str, first: int, count: int) -> None:
    """Insert `count` tasks in one statement, each in its own project and chat, round robin."""
    projects, threads = _owner_things(user_id)
    start = utcnow() - timedelta(days=60)
    rows = [
        {
            "id": new_id(),
            "user_id": user_id,
            "title": f"Follow-up {n}",
            "description": f"Notes for {n}",
            "project_id": projects[n % SPREAD],
            "thread_id": threads[n % SPREAD],
            "completed": n % 4 == 0,
            "completed_at": start if n % 4 == 0 else None,
            "due_date": date(2030, 1, 1) + timedelta(days=n % 90) if n % 3 else None,
            "priority": TASK_PRIORITIES[n % 3],
            "created_at": start + timedelta(seconds=n),
            "updated_at": start,
        }
        for n in range(first, first + count)
    ]
    db.session.execute(sa.insert(Task), rows)
    db.session.commit()


def _user_id(app: Flask, email: str) -> str:
    with app.app_context():
        return db.session.scalar(sa.select(User.id).where(User.email == email))


URLS = ["/tasks", "/tasks?sort=due", "/tasks?sort=priority&status=pending", "/tasks?q=follow", "/tasks?page=3"]


def _queries_for(app: Flask, client: FlaskClient, url: str) -> tuple[int, str]:
    with counted_queries(app) as statements:
        response = client.get(url)
    assert response.status_code == 200
    return len(statements), response.get_data(as_text=True)


def test_first_page_costs_the_same_queries_for_ten_or_ten_thousand_tasks(
    app: Flask, client: FlaskClient, user: User
) -> None:
    other_client(app)
    ben = _user_id(app, "ben@example.com")
    with app.app_context():
        _add_tasks(user.id, 0, 10)
    client.get("/tasks")  # the first request connects; count from the second on
    small = {url: _queries_for(app, client, url)[0] for url in URLS}

    with app.app_context():
        _add_tasks(user.id, 10, 9_990)
        _add_tasks(ben, 0, 10_000)
    started = time.perf_counter()
    count, page = _queries_for(app, client, "/tasks")
    elapsed = time.perf_counter() - started

    assert count == small["/tasks"] <= 5
    assert len(re.findall(r'class="task-title"', page)) == 50
    assert "Follow-up 9999" in page and "Project: Project 39" in page and "From chat: Chat 39" in page
    assert "<strong>7500</strong> pending · <strong>2500</strong> completed" in page
    assert 'hx-get="/tasks?page=2"' in page
    assert elapsed < 5, f"the first page took {elapsed:.2f}s"
    for url in URLS[1:]:
        assert _queries_for(app, client, url)[0] == small[url], url


@pytest.mark.parametrize("url", ["/tasks?page=2"])
def test_load_more_fragment_is_constant_too(app: Flask, client: FlaskClient, user: User, url: str) -> None:
    with app.app_context():
        _add_tasks(user.id, 0, 120)
    headers = {"HX-Request": "true", "HX-Target": "task-more"}
    client.get(url, headers=headers)
    with counted_queries(app) as statements:
        html = client.get(url, headers=headers).get_data(as_text=True)
    assert len(re.findall(r'class="task-title"', html)) == 50
    assert len(statements) <= 5
