"""The coverage query of a project with 2,000 passages, on SQLite and PostgreSQL, printed as one table.

Seeds one project with documents of 2,000 passages in all, and artifacts whose current
versions cite a third of them (with older versions citing others, which must not count),
plus another user's project of the same size. Times the project's coverage (counts and the
first page of uncited passages) against a baseline run in the same process: counting the
project's passages alone. Target: the coverage answers within 50 ms.

    .venv/bin/python bench/coverage.py [--passages 2000] [--runs 200]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from flask import Flask  # noqa: E402
from flask_migrate import upgrade  # noqa: E402

from tests.conftest import make_app  # noqa: E402
from tests.databases import fresh_postgres_database, postgres_unavailable_reason, sqlite_url  # noqa: E402
from webapp.artifacts import service  # noqa: E402
from webapp.artifacts.items import Citation, ItemDraft  # noqa: E402
from webapp.artifacts.traceability import coverage  # noqa: E402
from webapp.extensions import db  # noqa: E402
from webapp.models import Document, DocumentChunk, Project, Thread, User  # noqa: E402

DOCUMENTS = 40
TARGET_MS = 50.0


def seed(app: Flask, passages: int, rng: random.Random) -> tuple[str, str]:
    """Two users' projects of `passages` passages each; returns the measured user's and project's ids."""
    with app.app_context():
        ids = [_project(f"user{n}@example.com", passages, rng) for n in range(2)]
        db.session.commit()
        return ids[0]


def _project(email: str, passages: int, rng: random.Random) -> tuple[str, str]:
    user = User(email=email, password_hash="x", display_name="Bench")
    db.session.add(user)
    db.session.flush()
    project = Project(user_id=user.id, name="Bench project")
    db.session.add(project)
    db.session.flush()
    chunk_ids = _documents(user.id, project.id, passages, rng)
    thread = Thread(user_id=user.id, project_id=project.id, model_provider="offline")
    db.session.add(thread)
    db.session.flush()
    rng.shuffle(chunk_ids)
    for number, start in enumerate(range(0, len(chunk_ids) // 3, 60)):
        for version in range(2):  # the first version cites other passages: only the second counts
            cited = chunk_ids[start : start + 60] if version else chunk_ids[-(start + 60) : len(chunk_ids) - start]
            _artifact(thread, f"Stories {number}", cited)
    return user.id, project.id


def _documents(user_id: str, project_id: str, passages: int, rng: random.Random) -> list[int]:
    per_document = passages // DOCUMENTS
    for number in range(DOCUMENTS):
        document = Document(
            user_id=user_id,
            project_id=project_id,
            filename=f"notes-{number:02d}.txt",
            content_type="text/plain",
            size_bytes=1,
            original=b"x",
            sha256=f"{user_id}{number}",
            meta={},
        )
        db.session.add(document)
        db.session.flush()
        db.session.execute(
            sa.insert(DocumentChunk),
            [
                {
                    "document_id": document.id,
                    "ordinal": ordinal,
                    "text": f"Passage {ordinal} " + "word " * rng.randint(40, 120),
                    "page": ordinal // 4 + 1,
                }
                for ordinal in range(1, per_document + 1)
            ],
        )
    return list(db.session.scalars(sa.select(DocumentChunk.id).join(Document).where(Document.project_id == project_id)))


def _artifact(thread: Thread, title: str, cited: list[int]) -> None:
    drafts = [
        ItemDraft(
            kind="story",
            title=f"Story {n}",
            as_a="user",
            i_want=f"thing {n}",
            citations=(Citation(chunk_id, None, "notes.txt", 1),),
        )
        for n, chunk_id in enumerate(cited)
    ]
    service.save_artifact(
        thread=thread, message_id=None, artifact_type="user_stories", title=title, content_markdown="", items=drafts
    )


def baseline(user_id: str, project_id: str) -> None:
    db.session.scalar(
        sa.select(sa.func.count())
        .select_from(DocumentChunk)
        .join(Document)
        .where(Document.project_id == project_id, Document.user_id == user_id)
    )


def measure(app: Flask, runs: int, call: Callable[[], object]) -> list[float]:
    with app.app_context():
        call()  # warm the connection and the statement cache
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            call()
            times.append((time.perf_counter() - start) * 1000)
            db.session.rollback()
        return times


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def run(name: str, url: str, args: argparse.Namespace) -> list[str]:
    app = make_app(url)
    with app.app_context():
        upgrade()
    user_id, project_id = seed(app, args.passages, random.Random(7))
    with app.app_context():
        found = coverage(user_id, project_id)
    covered = measure(app, args.runs, lambda: coverage(user_id, project_id))
    base = measure(app, args.runs, lambda: baseline(user_id, project_id))
    with app.app_context():
        db.engine.dispose()
    median, slowest = statistics.median(covered), p95(covered)
    return [
        name,
        f"{found.passages:,}",
        f"{found.cited:,}",
        f"{median:.1f}",
        f"{slowest:.1f}",
        f"{statistics.median(base):.2f}",
        f"{median / statistics.median(base):.0f}×",
        "yes" if slowest <= TARGET_MS else "NO",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--passages", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    rows = []
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        rows.append(run("SQLite", sqlite_url(folder), args))
        reason = postgres_unavailable_reason()
        if reason:
            print(f"skipping PostgreSQL: {reason}", file=sys.stderr)
        else:
            rows.append(run("PostgreSQL", stack.enter_context(fresh_postgres_database()), args))
    header = [
        "database",
        "passages",
        "cited",
        "median ms",
        "p95 ms",
        "baseline ms",
        "ratio",
        f"p95 ≤ {TARGET_MS:.0f} ms",
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    print(f"Coverage of one project ({args.runs} runs each; baseline: counting the project's passages)")
    for row in [header, *rows]:
        print("  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=False)))


if __name__ == "__main__":
    main()
