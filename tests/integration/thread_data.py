"""Rows for thread tests, written straight to the database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Flask

from webapp.chat.branches import selected_branch
from webapp.extensions import db
from webapp.models import Message, Project, Thread, new_id

START = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def add_project(app: Flask, user_id: str, name: str = "Acme rollout", **fields: Any) -> str:
    with app.app_context():
        project = Project(user_id=user_id, name=name, **fields)
        db.session.add(project)
        db.session.commit()
        return project.id


def add_thread(app: Flask, user_id: str, **fields: Any) -> str:
    fields.setdefault("model_provider", "offline")
    with app.app_context():
        thread = Thread(user_id=user_id, **fields)
        db.session.add(thread)
        db.session.commit()
        return thread.id


def add_message(app: Flask, thread_id: str, content: str, **fields: Any) -> str:
    """A message at the end of the branch the thread shows, as posting one puts it."""
    fields.setdefault("role", "user")
    with app.app_context():
        fields.setdefault("parent_id", selected_branch(db.session.get(Thread, thread_id)).tip_id)
        message = Message(thread_id=thread_id, content=content, **fields)
        db.session.add(message)
        db.session.commit()
        return message.id


def add_threads(app: Flask, user_id: str, count: int, **fields: Any) -> list[str]:
    """`count` threads titled "Chat 0".."Chat n", each an hour more recently active than the last."""
    ids = [new_id() for _ in range(count)]
    rows = [
        {
            "id": thread_id,
            "user_id": user_id,
            "title": f"Chat {number}",
            "model_provider": "offline",
            "thread_type": "ba_assistant",
            "created_at": START + timedelta(hours=number),
            "last_activity_at": START + timedelta(hours=number),
            **fields,
        }
        for number, thread_id in enumerate(ids)
    ]
    with app.app_context():
        db.session.execute(sa.insert(Thread), rows)
        db.session.commit()
    return ids


def get_thread(app: Flask, thread_id: str) -> Thread | None:
    with app.app_context():
        thread = db.session.get(Thread, thread_id)
        if thread is not None:
            db.session.expunge(thread)
        return thread


def threads_of(app: Flask, user_id: str) -> list[Thread]:
    with app.app_context():
        threads = list(db.session.scalars(sa.select(Thread).where(Thread.user_id == user_id)))
        db.session.expunge_all()
        return threads


@dataclass
class QueryLog:
    statements: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.statements)


@contextmanager
def counting_queries(app: Flask) -> Iterator[QueryLog]:
    """Record every SQL statement the app sends while the block runs."""
    log = QueryLog()

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        log.statements.append(statement)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield log
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
