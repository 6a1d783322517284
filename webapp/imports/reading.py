"""What runs in a job's reading process: confine it, read the file, store its passages in small batches.

Loaded by the fork server (see sandbox.py) with the readers' libraries, once; never by a web process.
The process opens its own database connection and writes each batch of passages in a short
transaction of its own, checking in each time that its job still exists: the document stays
`processing` until the last batch is in, and a deletion stops the import at the next batch.
"""

from __future__ import annotations

import ctypes
import gc
import os
import resource
import sys
import time
from typing import Any

# Loaded here so the fork server holds them and each reading process starts with them ready (the
# database drivers too: each process's engine would otherwise import them again, 50 ms a file).
import lxml.etree  # noqa: F401
import openpyxl  # noqa: F401
import psycopg  # noqa: F401
import pypdf  # noqa: F401
import pypdfium2  # noqa: F401
import sqlalchemy as sa
import sqlalchemy.dialects.postgresql.psycopg  # noqa: F401
import sqlalchemy.dialects.sqlite.pysqlite  # noqa: F401
from sqlalchemy.orm import Session

from .. import fulltext
from ..database import sqlite_engine_settings
from ..documents import pdf_reader
from ..documents.chunking import Chunk, chunk_document
from ..documents.kinds import TABULAR_KINDS
from ..documents.parsing import ParsedDocument, ParseError, parse
from ..documents.search import PASSAGES
from ..edges import clean_text, clean_value
from ..models import Document, Project, Thread, utcnow
from . import service
from .sandbox import DATABASE_VARIABLE, EXIT_OUT_OF_MEMORY, Assignment
from .settings import ImportSettings

# Mapping the models takes a tenth of a second: done once here, in the fork server, not in each process.
sa.orm.configure_mappers()

_engines: dict[str, sa.Engine] = {}


def engine_for(database_url: str) -> sa.Engine:
    """The engine for `database_url`, made once per process (in the fork server, for its database).

    Its pool keeps the process's connection from one short transaction to the next (a new one
    costs 5 ms on PostgreSQL); the fork server's pool is emptied before anything forks from it.
    """
    engine = _engines.get(database_url)
    if engine is None:
        engine = _engines[database_url] = sa.create_engine(database_url, pool_size=1)
        sqlite_engine_settings(engine)
    return engine


def _meet_the_database() -> None:
    # An engine's first connection asks the database its version and settings (6 ms on PostgreSQL,
    # 3 on SQLite): asked here once, each reading process forked from this one only connects.
    url = os.environ.get(DATABASE_VARIABLE)
    if url and _exists(sa.engine.make_url(url)):
        engine = engine_for(url)
        try:
            with engine.connect():
                pass
        except sa.exc.SQLAlchemyError:  # a database not up yet: each process connects from scratch
            pass
        engine.dispose()  # no connection may be shared with the processes forked from here


def _exists(url: sa.URL) -> bool:
    # Connecting to a SQLite file that is not there would create it.
    return url.get_backend_name() != "sqlite" or bool(url.database and os.path.exists(url.database))


_meet_the_database()
pdf_reader.warm_up()

# Progress is written at most this often (seconds), passages always.
PROGRESS_INTERVAL_S = 1.0
_PR_SET_PDEATHSIG = 1


class Cancelled(BaseException):
    """The job was deleted (or taken back) while being read; a BaseException, so readers cannot swallow it."""


def main(assignment: Assignment) -> None:
    """The reading process's whole life: confine, read, store, exit."""
    # What the fork server loaded is never garbage: kept out of the collector's passes, which
    # would otherwise walk every object of every library loaded (a fifth of an XLSX file's time).
    gc.freeze()
    confine(assignment.settings)
    engine = engine_for(assignment.settings.database_url)
    try:
        with Session(engine) as session:
            read_and_store(session, assignment)
    except MemoryError:
        sys.exit(EXIT_OUT_OF_MEMORY)
    except Cancelled:
        pass
    finally:
        engine.dispose()


def confine(settings: ImportSettings) -> None:
    """Cap this process's memory and processor time, lower its priority, and tie it to its parent."""
    os.setsid()  # its own process group, which the watcher kills whole
    _die_with_parent()
    os.nice(19)  # pages and chats of other users come first
    if hasattr(os, "SCHED_IDLE"):  # Linux: runs only while nothing else wants the processor
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    memory = settings.memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    # A backstop for a process whose watcher died: the kernel stops it on its own.
    seconds = int(settings.timeout_s) + 5
    resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds + 5))


def _die_with_parent() -> None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, 9)  # SIGKILL when the fork server goes
    except (OSError, AttributeError):
        pass  # not Linux: the processor-time limit still ends an orphan


def read_and_store(session: Session, assignment: Assignment) -> None:
    ticket, settings = assignment.ticket, assignment.settings
    row = session.execute(
        sa.select(Document.filename, Document.original, Document.project_id, Document.thread_id).where(
            Document.id == ticket.document_id
        )
    ).one_or_none()
    session.rollback()
    if row is None:
        return
    if ticket.attempt > 1:
        service.delete_passages(session, ticket.document_id)  # an interrupted attempt's
    progress = _Progress(session, ticket)
    try:
        parsed = parse(row.filename, row.original, settings.reading, progress=progress.report)
    except ParseError as error:
        service.refuse(session, ticket, str(error), peak_memory_kb=peak_memory_kb())
        return
    chunks = chunk_document(parsed)
    _store_passages(session, ticket, chunks)
    _store_document(session, ticket, parsed, chunks, (row.project_id, row.thread_id))
    # The document is ready; the index upkeep its batches caused is done here, not by the next import.
    try:
        fulltext.tidy_index(session, PASSAGES)
    except sa.exc.SQLAlchemyError:
        session.rollback()  # only upkeep: the index's next writes (or a vacuum) do it instead


class _Progress:
    def __init__(self, session: Session, ticket: service.Ticket) -> None:
        self._session = session
        self._ticket = ticket
        self._last = 0.0

    def report(self, text: str) -> None:
        now = time.monotonic()
        if now - self._last < PROGRESS_INTERVAL_S:
            return
        self._last = now
        owned = service.check_in(self._session, self._ticket, text)
        self._session.commit()
        if not owned:
            raise Cancelled


def _store_passages(session: Session, ticket: service.Ticket, chunks: list[Chunk]) -> None:
    total = len(chunks)
    for start in range(0, total, service.BATCH):
        batch = chunks[start : start + service.BATCH]
        if not service.check_in(session, ticket, f"Storing passages: {start + len(batch):,} of {total:,}"):
            session.rollback()
            raise Cancelled
        rows = [
            {
                "document_id": ticket.document_id,
                "ordinal": ordinal,
                "text": clean_text(chunk.text),
                "page": chunk.page,
                "sheet": clean_text(chunk.sheet) if chunk.sheet else chunk.sheet,
            }
            for ordinal, chunk in enumerate(batch, start=start + 1)
        ]
        fulltext.insert_passages(session, ticket.document_id, rows)
        session.commit()


def _store_document(
    session: Session,
    ticket: service.Ticket,
    parsed: ParsedDocument,
    chunks: list[Chunk],
    owners: tuple[str | None, str | None],
) -> None:
    if not service.finish_stored(session, ticket, stored_message(parsed, chunks), peak_memory_kb=peak_memory_kb()):
        session.rollback()
        raise Cancelled
    session.execute(
        sa.update(Document)
        .where(Document.id == ticket.document_id)
        .values(
            status="stored",
            content_type=parsed.content_type,
            meta=clean_value({**parsed.meta, "kind": parsed.kind, "chunks": len(chunks)}),
        )
    )
    project_id, thread_id = owners
    if project_id is not None:
        session.execute(sa.update(Project).where(Project.id == project_id).values(last_activity_at=utcnow()))
    if thread_id is not None:
        session.execute(sa.update(Thread).where(Thread.id == thread_id).values(last_activity_at=utcnow()))
    session.commit()


def stored_message(parsed: ParsedDocument, chunks: list[Chunk]) -> str:
    passages = _plural(len(chunks), "passage")
    if parsed.kind == "pdf":
        pages = _plural(parsed.meta.get("pages", 0), "page")
        read = " (text recognised by OCR)" if parsed.meta.get("ocr_pages") else ""
        return f"Stored: {pages}{read}, {passages}."
    if parsed.kind in TABULAR_KINDS:
        rows = sum(len(table.rows) for table in parsed.tables)
        return f"Stored: {_plural(rows, 'row')}, {passages}."
    return f"Stored: {passages}."


def _plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def peak_memory_kb() -> int | None:
    """The most memory this process has held (its peak resident set), in kilobytes."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    usage: Any = resource.getrusage(resource.RUSAGE_SELF)
    return int(usage.ru_maxrss) or None
