"""Search latency and upload throughput on SQLite and PostgreSQL, printed as one table.

Seeds 2,000 documents (about 50 MB of generated text) into a fresh SQLite file and a fresh
PostgreSQL database, then times many varied searches scoped to one user and to one project,
and the upload of a sample file per format through the upload service.

    /work/main/.venv/bin/python bench/search.py [--documents 2000] [--megabytes 50]

PostgreSQL comes from TEST_POSTGRES_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/test);
the benchmark creates its own database there and drops it at the end.
"""

from __future__ import annotations

import argparse
import io
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from flask import Flask  # noqa: E402
from flask_migrate import upgrade  # noqa: E402

from tests import samples  # noqa: E402
from tests.conftest import make_app  # noqa: E402
from tests.databases import fresh_postgres_database, postgres_unavailable_reason, sqlite_url  # noqa: E402
from webapp.documents import service  # noqa: E402
from webapp.documents.chunking import chunk_document  # noqa: E402
from webapp.documents.parsing import ParsedDocument, Section  # noqa: E402
from webapp.documents.search import search_chunks  # noqa: E402
from webapp.extensions import db  # noqa: E402
from webapp.models import Document, DocumentChunk, Project, User, new_id  # noqa: E402

PROJECTS = 20
QUERIES = 300

COMMON = """the of and to in a is that for it as was with be by on not he this are or his from at which but have
an they you were her she there been one all we their has would when if so no will more can who its out about
up into them only some could time these two may then do first any my now such like other how than our new""".split()
BUSINESS = """requirement stakeholder customer invoice approval budget release sprint backlog story acceptance
criteria workflow process system data report dashboard user role permission integration interface vendor contract
risk issue assumption constraint dependency milestone deadline scope change request migration legacy platform
payment order product catalogue inventory warehouse shipment delivery account billing subscription renewal
discount pricing tax compliance audit policy regulation privacy consent security authentication login password
notification email message template document upload export import spreadsheet analysis metric target forecast
revenue cost margin quarter annual monthly weekly review meeting workshop interview survey feedback complaint
escalation support ticket incident outage performance latency capacity scalability availability backup restore
training onboarding handover sponsor steering committee board director manager analyst developer tester architect
design prototype wireframe mockup journey persona segment region branch office partner supplier logistics
procurement purchase quote tender evaluation decision option recommendation benefit estimate effort priority
must should could won't phase pilot rollout launch cutover rollback defect bug fix enhancement feature epic
theme initiative roadmap objective outcome value proposition market competitor channel campaign lead
opportunity pipeline conversion retention churn loyalty rewards voucher refund return exchange warranty claim
""".split()
SYLLABLES = "ka lo mi ne su ta ri vo pe da zu fi ro ma ne li to ba ge xe".split()


@dataclass
class Column:
    name: str
    seed_seconds: float = 0.0
    user_times: list[float] = field(default_factory=list)
    project_times: list[float] = field(default_factory=list)
    throughput: dict[str, float] = field(default_factory=dict)


class Corpus:
    """Text with a Zipf-like word distribution: common words, business words, a long tail of names."""

    def __init__(self, rng: random.Random) -> None:
        tail = sorted({"".join(rng.choices(SYLLABLES, k=rng.randint(2, 4))) for _ in range(30_000)})
        rng.shuffle(tail)
        self.words = COMMON + BUSINESS + tail
        self.cum_weights = list(_cumulative(1 / (rank + 8) ** 1.05 for rank in range(len(self.words))))
        self.rng = rng

    def sentence(self) -> str:
        words = self.rng.choices(self.words, cum_weights=self.cum_weights, k=self.rng.randint(8, 22))
        return " ".join(words).capitalize() + self.rng.choice(".....?!")

    def document(self, characters: int) -> str:
        paragraphs, size = [], 0
        while size < characters:
            paragraph = " ".join(self.sentence() for _ in range(self.rng.randint(2, 8)))
            paragraphs.append(paragraph)
            size += len(paragraph) + 2
        return "\n\n".join(paragraphs)

    def queries(self, count: int) -> list[str]:
        """Varied queries: common, business and rare words, one to three of them, some with syntax."""
        pools = [COMMON[:40], BUSINESS, self.words[len(COMMON) + len(BUSINESS) :][:3000]]
        decorations = ['"{}"', "{}*", "-{}", "({})", "{} AND", "NEAR {}", "{}:", "^{}"]
        queries = []
        for number in range(count):
            words = [
                self.rng.choice(self.rng.choice(pools[1:] if number % 3 else pools))
                for _ in range(self.rng.randint(1, 3))
            ]
            query = " ".join(words)
            if number % 10 == 0:
                query = self.rng.choice(decorations).format(query)
            queries.append(query)
        return queries


def _cumulative(weights: Iterator[float]) -> Iterator[float]:
    total = 0.0
    for weight in weights:
        total += weight
        yield total


def build_app(url: str) -> Flask:
    app = make_app(url)
    with app.app_context():
        upgrade()
    return app


def seed(app: Flask, corpus: Corpus, documents: int, megabytes: float) -> tuple[str, str, int, int]:
    """Insert the documents in bulk; return the main user, one project, the text size and the passages."""
    per_document = int(megabytes * 1_000_000 / documents)
    rng = random.Random(7)
    with app.app_context():
        owner, stranger = _user("owner@example.com"), _user("stranger@example.com")
        projects = [Project(user_id=owner.id, name=f"Project {number}") for number in range(PROJECTS)]
        projects.append(Project(user_id=stranger.id, name="Someone else's"))
        db.session.add_all(projects)
        db.session.commit()
        project_ids = [project.id for project in projects]
        characters = passages = 0
        for start in range(0, documents, 100):
            batch = [
                corpus.document(int(per_document * rng.uniform(0.5, 1.5))) for _ in range(min(100, documents - start))
            ]
            characters += sum(len(text) for text in batch)
            passages += _insert((owner.id, stranger.id), project_ids, batch, start)
            db.session.commit()
        return owner.id, project_ids[0], characters, passages


def _user(email: str) -> User:
    user = User(email=email, display_name=email.split("@")[0], password_hash="-")
    db.session.add(user)
    db.session.flush()
    return user


def _insert(users: tuple[str, str], project_ids: list[str], texts: list[str], start: int) -> int:
    documents, chunks = [], []
    for offset, text in enumerate(texts):
        # Every twentieth document belongs to the other user, so scoping has something to exclude.
        number = start + offset
        theirs = number % 20 == 19
        project_id = project_ids[-1] if theirs else project_ids[number % PROJECTS]
        document_id = new_id()
        data = text.encode()
        documents.append(
            {
                "id": document_id,
                "user_id": users[theirs],
                "project_id": project_id,
                "filename": f"doc-{number}.txt",
                "content_type": "text/plain",
                "size_bytes": len(data),
                "sha256": f"{number:064x}",
                "original": data,
                "meta": {"kind": "txt"},
            }
        )
        parts = chunk_document(ParsedDocument("txt", sections=[Section(text)]))
        chunks += [
            {"document_id": document_id, "ordinal": ordinal, "text": part.text, "page": None, "sheet": None}
            for ordinal, part in enumerate(parts, start=1)
        ]
    db.session.execute(sa.insert(Document), documents)
    db.session.execute(sa.insert(DocumentChunk), chunks)
    return len(chunks)


def time_searches(app: Flask, user_id: str, project_id: str | None, queries: list[str]) -> list[float]:
    times = []
    with app.app_context():
        for query in queries[:10]:  # warm the caches
            search_chunks(user_id=user_id, query=query, project_id=project_id)
        for query in queries:
            started = time.perf_counter()
            search_chunks(user_id=user_id, query=query, project_id=project_id)
            times.append((time.perf_counter() - started) * 1000)
            db.session.rollback()
    return times


def sample_files(corpus: Corpus) -> dict[str, tuple[str, bytes]]:
    """One file per format, a few megabytes of text each."""
    text = corpus.document(2_000_000)
    paragraphs = text.split("\n\n")
    rows = [["Id", "Customer", "Region", "Status", "Amount", "Notes"]]
    rows += [
        [
            n,
            corpus.sentence()[:30],
            corpus.rng.choice(["North", "South", "East", "West"]),
            corpus.rng.choice(["open", "won", "lost"]),
            round(corpus.rng.uniform(10, 9000), 2),
            corpus.sentence(),
        ]
        for n in range(1, 12_000)
    ]
    buffer = io.StringIO()
    for row in rows:
        buffer.write(",".join(f'"{value}"' for value in row) + "\n")
    return {
        "PDF": ("sample.pdf", samples.pdf(*["\n\n".join(paragraphs[n : n + 6]) for n in range(0, 240, 6)])),
        "DOCX": (
            "sample.docx",
            samples.docx_file(paragraphs[:1500], table=[[str(v) for v in row] for row in rows[:300]]),
        ),
        "XLSX": ("sample.xlsx", samples.xlsx({"Pipeline": rows})),
        "CSV": ("sample.csv", buffer.getvalue().encode()),
        "TXT": ("sample.txt", text.encode()),
        "MD": ("sample.md", ("# Notes\n\n" + text).encode()),
    }


def time_uploads(app: Flask, user_id: str, files: dict[str, tuple[str, bytes]]) -> dict[str, float]:
    throughput = {}
    with app.app_context():
        project = Project(user_id=user_id, name="Uploads")
        db.session.add(project)
        db.session.commit()
        for label, (name, data) in files.items():
            started = time.perf_counter()
            [outcome] = service.upload_documents(
                user_id=user_id,
                project_id=project.id,
                files=[service.IncomingFile(name, io.BytesIO(data))],
                limits=service.UploadLimits(max_file_bytes=100 * 1024 * 1024, max_documents=10_000),
            )
            assert outcome.status == "received", (label, outcome.message)
            status = _wait_until_read(outcome.document.id)
            elapsed = time.perf_counter() - started
            assert status == "stored", (label, status)
            throughput[label] = len(data) / 1_000_000 / elapsed
    app.extensions["imports"].shutdown()
    return throughput


def _wait_until_read(document_id: str) -> str:
    """The document's status once its import job has ended (the upload only receives the file)."""
    while True:
        status = db.session.scalar(sa.select(Document.status).where(Document.id == document_id))
        db.session.rollback()
        if status != "processing":
            return status
        time.sleep(0.01)  # the wait is part of what is timed: look often


def run(
    column: Column,
    url: str,
    corpus: Corpus,
    args: argparse.Namespace,
    queries: list[str],
    files: dict[str, tuple[str, bytes]],
    stats: dict[str, int],
) -> None:
    app = build_app(url)
    # As the production server does when it loads the app (webapp/wsgi.py).
    app.extensions["imports"].start()
    started = time.perf_counter()
    user_id, project_id, stats["characters"], stats["passages"] = seed(app, corpus, args.documents, args.megabytes)
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(sa.text("VACUUM ANALYZE"))
        else:
            db.session.execute(sa.text("ANALYZE"))
            db.session.commit()
    column.seed_seconds = time.perf_counter() - started
    column.user_times = time_searches(app, user_id, None, queries)
    column.project_times = time_searches(app, user_id, project_id, queries)
    column.throughput = time_uploads(app, user_id, files)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def print_table(columns: list[Column], args: argparse.Namespace, stats: dict[str, int], queries: int) -> None:
    rows: list[tuple[str, Callable[[Column], str]]] = [
        ("seed + index (s)", lambda c: f"{c.seed_seconds:.1f}"),
        ("search, one user: median (ms)", lambda c: f"{statistics.median(c.user_times):.1f}"),
        ("search, one user: p95 (ms)", lambda c: f"{percentile(c.user_times, 0.95):.1f}"),
        ("search, one project: median (ms)", lambda c: f"{statistics.median(c.project_times):.1f}"),
        ("search, one project: p95 (ms)", lambda c: f"{percentile(c.project_times, 0.95):.1f}"),
    ]
    rows += [
        (f"upload+parse {label} (MB/s)", lambda c, label=label: f"{c.throughput[label]:.2f}")
        for label in columns[0].throughput
    ]
    title = (
        f"{args.documents:,} documents, {stats['characters'] / 1e6:.1f} MB of text, {stats['passages']:,} passages; "
        f"{queries} queries per scope"
    )
    width = max(len(label) for label, _ in rows)
    print(title)
    print(f"{'':<{width}}  " + "  ".join(f"{column.name:>10}" for column in columns))
    for label, value in rows:
        print(f"{label:<{width}}  " + "  ".join(f"{value(column):>10}" for column in columns))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--documents", type=int, default=2000)
    parser.add_argument("--megabytes", type=float, default=50.0)
    parser.add_argument("--queries", type=int, default=QUERIES)
    args = parser.parse_args()
    corpus = Corpus(random.Random(42))
    queries = corpus.queries(args.queries)
    files = sample_files(corpus)
    stats: dict[str, int] = {}
    columns = []
    with ExitStack() as stack:
        directory = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        targets = [("SQLite", sqlite_url(directory))]
        reason = postgres_unavailable_reason()
        if reason is None:
            targets.append(("PostgreSQL", stack.enter_context(fresh_postgres_database())))
        else:
            print(f"skipping PostgreSQL: {reason}", file=sys.stderr)
        for name, url in targets:
            column = Column(name)
            print(f"{name}: seeding and measuring…", file=sys.stderr, flush=True)
            run(column, url, corpus, args, queries, files, stats)
            columns.append(column)
    print_table(columns, args, stats, len(queries))


if __name__ == "__main__":
    main()
