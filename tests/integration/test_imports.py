"""Import jobs through HTTP: their states, the memory and time limits, cancelling, restarts and the per-user line.

The slow file is a PDF page of tens of thousands of text operations, with the operator budget
raised so that it is read (for a second or two) rather than refused at once.
"""

from __future__ import annotations

import io
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from webapp.extensions import db
from webapp.models import Document, DocumentChunk, ImportJob, User

from .. import hostile, samples
from ..conftest import PASSWORD, make_app, other_client
from ..imports import require_tesseract, wait_for_imports
from .test_projects import create_project

ROOT = Path(__file__).resolve().parents[2]
HTMX_UPLOAD = {"HX-Request": "true", "HX-Target": "upload-results"}
LIST = {"HX-Request": "true", "HX-Target": "document-list"}
SLOW = {"IMPORT_PDF_MAX_OPERATORS": 10_000_000, "IMPORT_TIMEOUT_S": 60}


def slow_pdf(number: int = 0, pages: int = 4) -> bytes:
    """A PDF that takes about a quarter of a second a page to read; each number makes a different file."""
    return hostile.pdf_operator_flood(operations=90_000 + number, pages=pages)


def post(client: FlaskClient, url: str, *files: tuple[bytes, str]) -> str:
    response = client.post(url, data={"files": [(io.BytesIO(data), name) for data, name in files]}, headers=HTMX_UPLOAD)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def job_of(app: Flask, filename: str) -> ImportJob | None:
    with app.app_context():
        job = db.session.scalar(sa.select(ImportJob).join(Document).where(Document.filename == filename))
        if job is not None:
            db.session.expunge(job)
        db.session.remove()
        return job


def status_of(app: Flask, filename: str) -> str | None:
    with app.app_context():
        status = db.session.scalar(sa.select(Document.status).where(Document.filename == filename))
        db.session.remove()
        return status


def wait_for(condition: Any, *, timeout: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def wait_running(app: Flask, filename: str) -> None:
    wait_for(lambda: (job_of(app, filename) or ImportJob()).state == "running", what=f"{filename} to run")


@pytest.fixture
def project_id(client: FlaskClient, user: User) -> str:
    return create_project(client)


class TestStates:
    @pytest.fixture
    def app_config(self) -> dict[str, Any]:
        return {**SLOW, "IMPORT_JOBS_PER_USER": 1}

    def test_files_wait_then_are_read_one_at_a_time_and_end_stored(
        self, app: Flask, client: FlaskClient, project_id: str
    ) -> None:
        html = post(
            client, f"/projects/{project_id}/documents", (slow_pdf(), "slow.pdf"), (b"Meeting notes.", "notes.txt")
        )
        assert "Received" in html and 'hx-trigger="every 1s"' in html  # the list follows them
        wait_running(app, "slow.pdf")
        assert job_of(app, "notes.txt").state == "waiting"  # the user's one place is taken
        listing = client.get(f"/projects/{project_id}/documents", headers=LIST).get_data(as_text=True)
        assert ">Reading</span>" in listing and ">Waiting</span>" in listing and "Waiting to be read…" in listing
        wait_for_imports(app)
        slow, notes = job_of(app, "slow.pdf"), job_of(app, "notes.txt")
        assert (slow.state, slow.attempts, notes.state) == ("finished", 1, "finished")
        assert slow.message == "Stored: 4 pages, 4 passages." and notes.message == "Stored: 1 passage."
        assert notes.started_at >= slow.finished_at and slow.peak_memory_kb > 1000
        assert status_of(app, "slow.pdf") == status_of(app, "notes.txt") == "stored"


def test_a_refused_file_says_why_on_its_own_page_and_can_be_removed(
    app: Flask, client: FlaskClient, project_id: str
) -> None:
    post(client, f"/projects/{project_id}/documents", (samples.PNG, "whiteboard.png"))
    wait_for_imports(app)
    with app.app_context():
        document_id = db.session.scalar(sa.select(Document.id))
    page = client.get(f"/documents/{document_id}").get_data(as_text=True)
    assert "Not stored." in page and "This is an image (PNG). Only text documents can be searched." in page
    listing = client.post(f"/documents/{document_id}/delete", headers=LIST).get_data(as_text=True)
    assert "whiteboard.png" not in listing and "No documents yet" in listing
    assert job_of(app, "whiteboard.png") is None


class TestTimeLimit:
    @pytest.fixture
    def app_config(self) -> dict[str, Any]:
        return {**SLOW, "IMPORT_TIMEOUT_S": 1.5, "IMPORT_WORKERS": 1}

    def test_a_file_over_the_time_limit_is_refused_and_the_next_one_read(
        self, app: Flask, client: FlaskClient, project_id: str
    ) -> None:
        post(
            client,
            f"/projects/{project_id}/documents",
            (slow_pdf(pages=12), "endless.pdf"),
            (b"Meeting notes.", "notes.txt"),
        )
        wait_for_imports(app)
        endless = job_of(app, "endless.pdf")
        assert endless.message == "Reading this file took longer than 1.5 s, the most one import may take."
        assert (endless.finished_at - endless.started_at).total_seconds() < 5
        assert status_of(app, "endless.pdf") == "refused" and status_of(app, "notes.txt") == "stored"
        listing = client.get(f"/projects/{project_id}/documents", headers=LIST).get_data(as_text=True)
        assert "took longer than 1.5 s" in listing and "Remove endless.pdf" in listing


class TestMemoryCapInThePdfReader:
    @pytest.fixture
    def app_config(self) -> dict[str, Any]:
        return {"IMPORT_MAX_MEMORY_MB": 300, "IMPORT_PDF_MAX_OPERATORS": 10_000_000, "IMPORT_WORKERS": 1}

    def test_a_page_the_text_extractor_cannot_hold_ends_with_the_memory_message(
        self, app: Flask, client: FlaskClient, project_id: str
    ) -> None:
        post(
            client,
            f"/projects/{project_id}/documents",
            (hostile.pdf_operator_flood(operations=1_000_000), "dense.pdf"),
            (b"Meeting notes.", "notes.txt"),
        )
        wait_for_imports(app)
        assert job_of(app, "dense.pdf").message == (
            "This file needs more than 300 MB of memory to read, the most one import may use."
        )
        assert status_of(app, "dense.pdf") == "refused" and status_of(app, "notes.txt") == "stored"


class TestMemoryCap:
    @pytest.fixture
    def app_config(self) -> dict[str, Any]:
        return {"IMPORT_MAX_MEMORY_MB": 300, "IMPORT_MAX_CELLS": 10**10, "IMPORT_WORKERS": 1}

    def test_a_file_over_the_memory_cap_ends_only_its_own_job(
        self, app: Flask, client: FlaskClient, project_id: str
    ) -> None:
        post(
            client,
            f"/projects/{project_id}/documents",
            (hostile.xlsx_far_column(), "wide.xlsx"),
            (b"Meeting notes.", "notes.txt"),
        )
        wait_for_imports(app)
        assert job_of(app, "wide.xlsx").message == (
            "This file needs more than 300 MB of memory to read, the most one import may use."
        )
        assert status_of(app, "notes.txt") == "stored"
        with app.app_context():
            assert db.session.scalar(sa.select(sa.func.count()).select_from(DocumentChunk)) == 1


class TestCancel:
    @pytest.fixture
    def app_config(self) -> dict[str, Any]:
        return {**SLOW, "IMPORT_WORKERS": 1}

    def test_deleting_a_document_stops_its_import(self, app: Flask, client: FlaskClient, project_id: str) -> None:
        post(client, f"/projects/{project_id}/documents", (slow_pdf(pages=12), "long.pdf"))
        wait_running(app, "long.pdf")
        with app.app_context():
            document_id = db.session.scalar(sa.select(Document.id))
        response = client.post(f"/documents/{document_id}/delete", headers=LIST)
        assert ">long.pdf</a>" not in response.get_data(as_text=True)
        # The only reader is free at once: the next file is read long before the first would have been.
        post(client, f"/projects/{project_id}/documents", (b"Meeting notes.", "notes.txt"))
        wait_for_imports(app, timeout=10)
        assert status_of(app, "notes.txt") == "stored" and job_of(app, "long.pdf") is None

    def test_deleting_the_project_stops_its_imports(self, app: Flask, client: FlaskClient, project_id: str) -> None:
        post(client, f"/projects/{project_id}/documents", (slow_pdf(pages=12), "long.pdf"))
        wait_running(app, "long.pdf")
        assert client.post(f"/projects/{project_id}/delete").status_code == 303
        other = create_project(client, "Other")
        post(client, f"/projects/{other}/documents", (b"Meeting notes.", "notes.txt"))
        wait_for_imports(app, timeout=10)
        assert status_of(app, "notes.txt") == "stored" and status_of(app, "long.pdf") is None


class TestFairShare:
    @pytest.fixture
    def app_config(self) -> dict[str, Any]:
        return {**SLOW, "IMPORT_JOBS_PER_USER": 1, "IMPORT_WORKERS": 2}

    def test_each_user_has_one_running_import_and_the_rest_wait_in_order(
        self, app: Flask, client: FlaskClient, project_id: str
    ) -> None:
        post(client, f"/projects/{project_id}/documents", *[(slow_pdf(n, pages=2), f"ana-{n}.pdf") for n in range(3)])
        wait_running(app, "ana-0.pdf")
        ben = other_client(app)
        post(ben, f"/projects/{create_project(ben, 'Ben')}/documents", (slow_pdf(9, pages=2), "ben.pdf"))
        wait_for_imports(app)
        ana = [job_of(app, f"ana-{n}.pdf") for n in range(3)]
        ben_job = job_of(app, "ben.pdf")
        for earlier, later in zip(ana, ana[1:], strict=False):
            assert later.started_at >= earlier.finished_at  # one at a time, in upload order
        assert ben_job.started_at < ana[2].started_at  # Ben did not wait behind Ana's line
        assert all(job.message.startswith("Stored") for job in [*ana, ben_job])


def test_a_scanned_pdf_is_stored_with_its_recognised_text(app: Flask, client: FlaskClient, project_id: str) -> None:
    require_tesseract()
    scan = samples.scanned_pdf(["Invoice approval workflow", "The sponsor signs off every release."])
    post(client, f"/projects/{project_id}/documents", (scan, "scan.pdf"))
    wait_for_imports(app)
    assert job_of(app, "scan.pdf").message == "Stored: 1 page (text recognised by OCR), 1 passage."
    page = client.get("/search?q=sponsor").get_data(as_text=True)
    assert ">scan.pdf</a>" in page and "<mark>sponsor</mark>" in page


class TestTryAgain:
    @pytest.fixture
    def app_config(self) -> dict[str, Any]:
        return {"IMPORT_PDF_MAX_OPERATORS": 1_000}

    def test_a_file_refused_by_a_limit_is_read_once_the_limit_is_raised(
        self, app: Flask, client: FlaskClient, project_id: str, database_url: str
    ) -> None:
        flood = hostile.pdf_operator_flood(operations=3_000)
        post(client, f"/projects/{project_id}/documents", (flood, "drawing.pdf"))
        wait_for_imports(app)
        assert (
            job_of(app, "drawing.pdf").message
            == "Page 1 holds more than the 1,000 drawing operations allowed per page."
        )
        raised = make_app(database_url, IMPORT_PDF_MAX_OPERATORS=10_000)
        try:
            again = raised.test_client()
            again.post("/login", data={"email": "ana@example.com", "password": PASSWORD})
            html = post(again, f"/projects/{project_id}/documents", (flood, "drawing.pdf"))
            assert "Received" in html and "Already uploaded" not in html
            wait_for_imports(raised)
        finally:
            raised.extensions["imports"].shutdown()
            raised.extensions["chat.runner"].shutdown()
            raised.extensions["llm"].close()
            with raised.app_context():
                db.engine.dispose()
        assert status_of(app, "drawing.pdf") == "stored"
        with app.app_context():
            assert db.session.scalar(sa.select(sa.func.count()).select_from(Document)) == 1


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serve(database_url: str, overrides: str) -> tuple[subprocess.Popen[str], str]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.live_app", database_url, str(port), overrides],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    assert process.stdout is not None and process.stdout.readline().strip() == "ready"
    return process, f"http://127.0.0.1:{port}"


def _kill(process: subprocess.Popen[str]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(10)
    if process.stdout is not None:
        process.stdout.close()


@pytest.fixture
def servers() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        _kill(process)


def test_a_job_running_when_its_server_dies_is_read_again_by_the_next_server(
    app: Flask, database_url: str, servers: list[subprocess.Popen[str]]
) -> None:
    overrides = '{"IMPORT_LEASE_S": 2, "IMPORT_PDF_MAX_OPERATORS": 10000000, "IMPORT_WORKERS": 1}'
    first, url = _serve(database_url, overrides)
    servers.append(first)
    with httpx2.Client(base_url=url, timeout=30) as browser:
        browser.post(
            "/register",
            data={"email": "ana@example.com", "display_name": "Ana", "password": PASSWORD, "confirm": PASSWORD},
        )
        browser.post("/login", data={"email": "ana@example.com", "password": PASSWORD})
        project = browser.post("/projects", data={"name": "Restart"}).headers["Location"].rsplit("/", 1)[1]
        browser.post(f"/projects/{project}/documents", files={"files": ("long.pdf", slow_pdf(pages=12))})
    wait_running(app, "long.pdf")
    _kill(first)  # the server, its fork server and (through PR_SET_PDEATHSIG) the reading process
    assert job_of(app, "long.pdf").state == "running"  # until its lease lapses
    second, _ = _serve(database_url, overrides)
    servers.append(second)
    wait_for(lambda: status_of(app, "long.pdf") != "processing", timeout=60, what="the second server to read it")
    job = job_of(app, "long.pdf")
    assert (status_of(app, "long.pdf"), job.attempts) == ("stored", 2), job.message
    with app.app_context():
        ordinals = db.session.scalars(sa.select(DocumentChunk.ordinal).order_by(DocumentChunk.ordinal)).all()
    assert ordinals == list(range(1, len(ordinals) + 1))  # nothing left over from the first attempt
