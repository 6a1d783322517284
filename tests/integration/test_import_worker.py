"""With REDIS_URL, imports go through RQ and `flask imports worker` reads them, in a process of its own."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from webapp.extensions import db
from webapp.models import Document, ImportJob, User

from .. import hostile
from ..imports import wait_for_imports
from .test_projects import create_project

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _redis_or_skip() -> Any:
    import redis

    connection = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        connection.ping()
    except redis.exceptions.ConnectionError as error:
        if os.environ.get("REQUIRE_REDIS") == "1":
            pytest.fail(f"REQUIRE_REDIS=1 but Redis is not reachable at {REDIS_URL}: {error}", pytrace=False)
        pytest.skip(f"Redis is not reachable at {REDIS_URL}: {error}")
    return connection


@pytest.fixture
def queue_name() -> Iterator[str]:
    connection = _redis_or_skip()
    name = f"imports-test-{uuid.uuid4().hex[:8]}"
    yield name
    for key in connection.scan_iter(f"rq:*{name}*"):
        connection.delete(key)
    connection.close()


@pytest.fixture
def app_config(queue_name: str) -> dict[str, Any]:
    return {"REDIS_URL": REDIS_URL, "IMPORT_QUEUE": queue_name}


def _worker(database_url: str, queue_name: str, *, redis_url: str | None) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret",
        "IMPORT_QUEUE": queue_name,
        "REDIS_URL": redis_url or "",
        "LOG_LEVEL": "WARNING",
    }
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "webapp", "imports", "worker", "--burst"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=90,
    )


def test_a_worker_reads_the_queued_files(
    app: Flask, client: FlaskClient, user: User, database_url: str, queue_name: str
) -> None:
    project_id = create_project(client)
    files = [
        (io.BytesIO(b"Meeting notes about invoices."), "notes.txt"),
        (io.BytesIO(hostile.pdf_operator_flood()), "flood.pdf"),
    ]
    client.post(f"/projects/{project_id}/documents", data={"files": files})
    with app.app_context():
        states = set(db.session.scalars(sa.select(ImportJob.state)))
    assert states == {"queued"}  # in Redis, waiting for a worker: the web process reads nothing itself
    finished = _worker(database_url, queue_name, redis_url=REDIS_URL)
    assert finished.returncode == 0, finished.stderr
    wait_for_imports(app, timeout=5)
    with app.app_context():
        outcomes = dict(db.session.execute(sa.select(Document.filename, Document.status)).all())
        messages = dict(db.session.execute(sa.select(Document.filename, ImportJob.message).join(ImportJob)).all())
    assert outcomes == {"notes.txt": "stored", "flood.pdf": "refused"}
    assert messages["flood.pdf"] == "Page 1 holds more than the 100,000 drawing operations allowed per page."


def test_the_worker_command_needs_redis(app: Flask, database_url: str, queue_name: str) -> None:
    finished = _worker(database_url, queue_name, redis_url=None)
    assert finished.returncode != 0
    assert "REDIS_URL is not set: without it, imports run in the web server's own pool" in finished.stderr


def test_reading_processes_of_a_python_m_parent_do_not_run_its_module_again(tmp_path: Path) -> None:
    # The fork server loads the parent's main module once; each process forked from it starts
    # with it loaded instead of importing it (and what it imports) before reading its file.
    log = tmp_path / "runs"
    subprocess.run(
        [sys.executable, "-m", "tests.reading_main", f"sqlite:///{tmp_path / 'none.db'}"],
        cwd=ROOT,
        env={**os.environ, "READING_MAIN_LOG": str(log)},
        check=True,
        timeout=120,
    )
    assert len(log.read_text().split()) == 2  # the parent and the fork server
