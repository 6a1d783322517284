"""Per-connection settings that SQLAlchemy cannot express in the schema, SQLite connections whose
waits for the write lock leave the gevent loop running, and a session helper."""

from __future__ import annotations

import sqlite3
from typing import Any

import sqlalchemy as sa
from flask import Flask

from .extensions import db
from .turns import off_the_loop

# How long a SQLite write waits for another one to finish before giving up. Writes are kept
# short (imports write in small batches), so a wait is short too; this is the backstop.
SQLITE_BUSY_TIMEOUT_MS = 30_000


def _configure_sqlite(dbapi_connection: Any, connection_record: Any) -> None:
    # SQLite ignores foreign keys unless asked on every connection; WAL lets the
    # reply runner write checkpoints while pages read.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


# Statements that never wait for SQLite's write lock.
_READS = ("SELECT", "PRAGMA", "EXPLAIN")


class _CooperativeCursor(sqlite3.Cursor):
    """Waits for SQLite's write lock in a native thread, so that under gevent it waits alone.

    The wait happens inside the C library: on gevent's one thread it would stop every other
    request of the process with it.
    """

    def execute(self, sql: str, parameters: Any = (), /) -> _CooperativeCursor:
        # Only the statement that takes the lock can wait for it: once a transaction writes, it
        # holds the lock until its commit, and reads never wait for it (WAL). Keeping the rest on
        # the loop also means a lock holder never waits for a thread held by a waiter.
        if not self.connection.in_transaction and not sql.lstrip()[:7].upper().startswith(_READS):
            return off_the_loop(super().execute, sql, parameters)
        return super().execute(sql, parameters)

    def executemany(self, sql: str, parameters: Any, /) -> _CooperativeCursor:
        if not self.connection.in_transaction:
            return off_the_loop(super().executemany, sql, parameters)
        return super().executemany(sql, parameters)


class CooperativeConnection(sqlite3.Connection):
    """A SQLite connection whose waits for the write lock leave the gevent loop running."""

    def cursor(self, factory: Any = _CooperativeCursor) -> Any:
        return super().cursor(factory)

    def commit(self) -> None:
        # A commit may also copy the write-ahead log back into the database (each time it has
        # grown past a thousand pages, as imports make it), a wait on the disk.
        if self.in_transaction:
            off_the_loop(super().commit, holds_lock=True)


# The full-text tables, columns and indexes are made by hand in the migrations (FTS5 on SQLite,
# a stored tsvector column and GIN indexes on PostgreSQL); the models do not describe them.
FULL_TEXT_MARKER = "_fts"


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Alembic filter: leave the full-text objects out of schema comparisons."""
    return not (name and FULL_TEXT_MARKER in name)


def commit_without_expiring() -> None:
    """Commit, keeping the loaded objects as they are instead of reading them back.

    For a caller that goes on with the values it has just written: after a plain commit the
    next attribute it reads costs a query (and takes a connection from the pool again).
    """
    session = db.session()
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True


def sqlite_engine_settings(engine: sa.Engine) -> None:
    """Apply the per-connection SQLite settings to `engine` (any engine, not only the app's)."""
    if engine.dialect.name == "sqlite" and not sa.event.contains(engine, "connect", _configure_sqlite):
        sa.event.listen(engine, "connect", _configure_sqlite)


def init_app(app: Flask) -> None:
    with app.app_context():
        sqlite_engine_settings(db.engine)
