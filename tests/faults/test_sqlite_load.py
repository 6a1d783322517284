"""SQLite under write load: large imports for 30 s while a hundred messages are posted and answered."""

from __future__ import annotations

from pathlib import Path

import pytest

from .scenarios import sqlite_import_load


@pytest.mark.timeout(150)
def test_posting_and_replies_never_fail_while_large_documents_are_imported(tmp_path: Path) -> None:
    outcome = sqlite_import_load(tmp_path, seconds=30.0, chats=50)
    assert outcome.replies == 100, outcome.notes
    assert outcome.errors_500 == 0, outcome.notes
    assert outcome.damaged == [], outcome.notes
