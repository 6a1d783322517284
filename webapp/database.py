"""Per-connection settings that SQLAlchemy cannot express in the schema, SQLite connections whose
waits for the write lock and checkpoints leave the gevent loop running, and a session helper."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import Flask

from .chat.ticker import Ticker
from .extensions import db
from .turns import gevent_serves, off_the_loop

T = TypeVar("T")

# How long a SQLite write waits for another one to finish before giving up. Writes are kept
# short (imports write in small batches), so a wait is short too; this is the backstop.
SQLITE_BUSY_TIMEOUT_MS = 30_000
# How often a process served by gevent copies SQLite's write-ahead log back into the database
# file (see Checkpoints).
CHECKPOINT_INTERVAL_S = 1.0


def _configure_sqlite(dbapi_connection: Any, connection_record: Any) -> None:
    # SQLite ignores foreign keys unless asked on every connection; WAL lets the
    # reply runner write checkpoints while pages read.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # A cooperative connection does its waiting itself, off the loop (see below).
    waits = 0 if isinstance(dbapi_connection, CooperativeConnection) else SQLITE_BUSY_TIMEOUT_MS
    cursor.execute(f"PRAGMA busy_timeout={waits}")
    if isinstance(dbapi_connection, CooperativeConnection) and gevent_serves():
        cursor.execute("PRAGMA wal_autocheckpoint=0")
        [path] = [file for _, name, file in cursor.execute("PRAGMA database_list") if name == "main"]
        Checkpoints.of(path).start()
    cursor.close()


def _busy(error: sqlite3.OperationalError) -> bool:
    return getattr(error, "sqlite_errorcode", 0) & 0xFF == sqlite3.SQLITE_BUSY


class _CooperativeCursor(sqlite3.Cursor):
    """Runs each statement at once, without waiting; one that meets another connection's lock
    waits for it in a native thread, so that under gevent it waits alone.

    The wait happens inside the C library: on gevent's one thread it would stop every other
    request of the process with it. Nearly every statement finds the way free, and runs on the
    loop without a thread's cost. A statement refused for the lock has changed nothing, so it can
    run again.
    """

    def execute(self, sql: str, parameters: Any = (), /) -> _CooperativeCursor:
        return self._run(super().execute, sql, parameters)

    def executemany(self, sql: str, parameters: Any, /) -> _CooperativeCursor:
        # A generator would be spent by the first try.
        rows = parameters if isinstance(parameters, (list, tuple)) else list(parameters)
        return self._run(super().executemany, sql, rows)

    def _run(self, run: Callable[[str, Any], _CooperativeCursor], sql: str, parameters: Any) -> _CooperativeCursor:
        try:
            return run(sql, parameters)
        except sqlite3.OperationalError as error:
            if not _busy(error):
                raise
        return off_the_loop(self.connection.waiting, run, sql, parameters)


class CooperativeConnection(sqlite3.Connection):
    """A SQLite connection that never waits for the write lock on the gevent loop (busy timeout 0
    but for the statements it runs again in a native thread)."""

    def cursor(self, factory: Any = _CooperativeCursor) -> Any:
        return super().cursor(factory)

    def waiting(self, call: Callable[..., T], *args: Any) -> T:
        """`call`, allowed to wait SQLITE_BUSY_TIMEOUT_MS for the lock."""
        sqlite3.Connection.execute(self, f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        try:
            return call(*args)
        finally:
            sqlite3.Connection.execute(self, "PRAGMA busy_timeout=0")


class Checkpoints:
    """Copies one database's write-ahead log back into its file every CHECKPOINT_INTERVAL_S, in a native thread.

    SQLite makes that copy (a checkpoint) in whichever connection commits once the log holds
    1,000 pages. Under gevent that is a commit on the loop (often a reply's): copying the
    megabytes an import wrote held every other request of the process for as long. So a web
    process's connections make none, and this does.
    """

    _running: dict[str, Checkpoints] = {}
    _lock = threading.Lock()

    @classmethod
    def of(cls, path: str) -> Checkpoints:
        """The process's one checkpointer for the database file at `path`."""
        with cls._lock:
            if path not in cls._running:
                cls._running[path] = cls(path)
            return cls._running[path]

    def __init__(self, path: str) -> None:
        self._path = path
        self._connection: sqlite3.Connection | None = None
        self._ticker = Ticker(lambda: off_the_loop(self.checkpoint), interval=CHECKPOINT_INTERVAL_S, name="wal")

    def start(self) -> None:
        self._ticker.start()

    def checkpoint(self) -> None:
        """Copy what no reader still needs; never wait for a reader or a writer (PASSIVE)."""
        if self._connection is None:
            self._connection = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        self._connection.execute("PRAGMA wal_checkpoint(PASSIVE)")


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
