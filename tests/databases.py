"""Test databases: a fresh SQLite file or a fresh PostgreSQL database per test run."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def postgres_unavailable_reason() -> str | None:
    """None when the PostgreSQL server answers, else why it does not."""
    engine = sa.create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
    try:
        with engine.connect():
            return None
    except sa.exc.OperationalError as error:
        return f"PostgreSQL is not reachable at {engine.url.render_as_string()}: {error.orig}"
    finally:
        engine.dispose()


def require_postgres() -> None:
    """Skip (or fail, with REQUIRE_POSTGRES=1) when PostgreSQL is missing."""
    reason = postgres_unavailable_reason()
    if reason is None:
        return
    if os.environ.get("REQUIRE_POSTGRES") == "1":
        pytest.fail(f"REQUIRE_POSTGRES=1 but {reason}", pytrace=False)
    pytest.skip(f"{reason} (set TEST_POSTGRES_URL, or REQUIRE_POSTGRES=1 to make this a failure)")


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """Create an empty database for this run and drop it afterwards."""
    name = f"ba_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def sqlite_url(directory: Path) -> str:
    return f"sqlite:///{directory / 'test.db'}"
