"""Waiting for the import jobs an upload started, as a user waits for the list to say "stored"."""

from __future__ import annotations

import os
import shutil
import time

import pytest
import sqlalchemy as sa
from flask import Flask

from webapp.extensions import db
from webapp.models import Document


def wait_for_imports(app: Flask, *, timeout: float = 30.0) -> None:
    """Return once no document is being read any more; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        with app.app_context():
            processing = db.session.scalar(
                sa.select(sa.func.count()).select_from(Document).where(Document.status == "processing")
            )
            db.session.remove()
        if not processing:
            return
        assert time.monotonic() < deadline, f"{processing} documents still being read after {timeout} s"
        time.sleep(0.05)


def require_tesseract() -> None:
    """Skip (or fail, with REQUIRE_OCR=1) when the tesseract program is not installed."""
    if shutil.which("tesseract") is not None:
        return
    if os.environ.get("REQUIRE_OCR") == "1":
        pytest.fail("REQUIRE_OCR=1 but tesseract is not installed (apt-get install tesseract-ocr)", pytrace=False)
    pytest.skip("tesseract is not installed (apt-get install tesseract-ocr); REQUIRE_OCR=1 makes this a failure")
