"""Storing, listing and deleting documents; independent of Flask's request globals."""

from __future__ import annotations

import hashlib
import logging
import re
import time
import unicodedata
from dataclasses import dataclass
from typing import Any, BinaryIO, Literal, Mapping

import sqlalchemy as sa
from flask import current_app

from ..edges import clean_text, clean_value
from ..extensions import db
from ..models import Document, DocumentChunk, Project, Thread, new_id, utcnow
from . import tables
from .chunking import Chunk, chunk_document
from .parsing import TABULAR_KINDS, ParseError, ParsedDocument, parse

log = logging.getLogger(__name__)

_READ_BLOCK = 1024 * 1024
_UNSAFE_NAME_CHARACTERS = re.compile(r"[\x00-\x1f\x7f/\\]")


class DocumentNotFound(LookupError):
    """No such project, thread or document among the user's own."""


class FileTooLarge(Exception):
    pass


@dataclass(frozen=True)
class IncomingFile:
    """An uploaded file as the web layer hands it over: a name and a stream to read once."""

    filename: str
    stream: BinaryIO


@dataclass(frozen=True)
class UploadOutcome:
    """What became of one file: stored, already there, or refused with a reason."""

    filename: str
    status: Literal["stored", "duplicate", "error"]
    message: str
    document: Document | None = None

    @property
    def ok(self) -> bool:
        return self.status != "error"


@dataclass(frozen=True)
class UploadLimits:
    max_file_bytes: int
    max_documents: int

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> UploadLimits:
        return cls(config["MAX_UPLOAD_MB"] * 1024 * 1024, config["MAX_DOCUMENTS_PER_PROJECT"])


@dataclass(frozen=True)
class _Target:
    user_id: str
    project: Project | None
    thread: Thread | None

    def owner_filter(self) -> sa.ColumnElement[bool]:
        if self.project is not None:
            return Document.project_id == self.project.id
        assert self.thread is not None
        return Document.thread_id == self.thread.id


def upload_documents(
    *,
    user_id: str,
    files: list[IncomingFile],
    project_id: str | None = None,
    thread_id: str | None = None,
    limits: UploadLimits | None = None,
) -> list[UploadOutcome]:
    """Store each file in the project or the assistant thread; one file's failure spares the others.

    Raises DocumentNotFound when the project or thread is not the user's (or the thread is
    not an assistant thread).
    """
    target = _resolve_target(user_id, project_id, thread_id)
    limits = limits or UploadLimits.from_config(current_app.config)
    return [_upload_one(target, incoming, limits) for incoming in files]


def _resolve_target(user_id: str, project_id: str | None, thread_id: str | None) -> _Target:
    if (project_id is None) == (thread_id is None):
        raise ValueError("give exactly one of project_id and thread_id")
    if project_id is not None:
        project = get_project(user_id, project_id)
        if project is None:
            raise DocumentNotFound(project_id)
        return _Target(user_id, project, None)
    thread = get_assistant_thread(user_id, thread_id or "")
    if thread is None:
        raise DocumentNotFound(thread_id)
    return _Target(user_id, None, thread)


def get_project(user_id: str, project_id: str) -> Project | None:
    return db.session.scalar(sa.select(Project).where(Project.id == project_id, Project.user_id == user_id))


def get_assistant_thread(user_id: str, thread_id: str) -> Thread | None:
    """The user's thread of type `assistant`: the only threads that hold their own documents."""
    return db.session.scalar(
        sa.select(Thread).where(Thread.id == thread_id, Thread.user_id == user_id, Thread.thread_type == "assistant")
    )


def _upload_one(target: _Target, incoming: IncomingFile, limits: UploadLimits) -> UploadOutcome:
    filename = clean_filename(incoming.filename)
    try:
        data = read_limited(incoming.stream, limits.max_file_bytes)
    except FileTooLarge:
        megabytes = limits.max_file_bytes // (1024 * 1024)
        return UploadOutcome(filename, "error", f"Larger than the {megabytes} MB limit per file; not stored.")
    digest = hashlib.sha256(data).hexdigest()
    existing = _find_duplicate(target, digest) if data else None
    if existing is not None:
        return UploadOutcome(filename, "duplicate", f"Already uploaded as “{existing.filename}”; not stored again.", existing)
    if _count_documents(target) >= limits.max_documents:
        return UploadOutcome(filename, "error", f"This holds the maximum of {limits.max_documents} documents; delete some first.")
    try:
        parsed = parse(filename, data)
    except ParseError as error:
        return UploadOutcome(filename, "error", str(error))
    return _store(target, filename, data, digest, parsed)


def clean_filename(filename: str | None) -> str:
    """Keep the name a user gave, minus any path and characters that have no place in a name."""
    name = unicodedata.normalize("NFC", filename or "")
    name = re.split(r"[/\\]", name)[-1]
    name = _UNSAFE_NAME_CHARACTERS.sub("", name).strip()
    if len(name) > 255:
        stem, dot, extension = name.rpartition(".")
        name = stem[: 254 - len(extension)] + dot + extension if dot and len(extension) < 16 else name[:255]
    return name or "untitled"


def read_limited(stream: BinaryIO, max_bytes: int) -> bytes:
    """Read the whole stream, stopping as soon as it passes `max_bytes`."""
    buffer = bytearray()
    while block := stream.read(_READ_BLOCK):
        buffer += block
        if len(buffer) > max_bytes:
            raise FileTooLarge
    return bytes(buffer)


def _find_duplicate(target: _Target, digest: str) -> Document | None:
    return db.session.scalar(sa.select(Document).where(target.owner_filter(), Document.sha256 == digest))


def _count_documents(target: _Target) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Document).where(target.owner_filter())) or 0


def _store(target: _Target, filename: str, data: bytes, digest: str, parsed: ParsedDocument) -> UploadOutcome:
    """Write the document and the activity bump, then its passages in short transactions.

    A large document has tens of thousands of passages: written in one transaction, they would
    keep every other writer (a message being posted, a reply being saved) waiting on SQLite.
    """
    chunks = chunk_document(parsed)
    document = _new_document(target, filename, data, digest, parsed, chunks)
    try:
        db.session.add(document)
        _touch(target)
        db.session.commit()
    except sa.exc.IntegrityError:
        # Another request stored the same file between our check and this write.
        db.session.rollback()
        return UploadOutcome(filename, "duplicate", "Already uploaded; not stored again.")
    try:
        insert_chunks(document.id, chunks)
    except Exception:
        db.session.rollback()
        db.session.delete(document)  # no document without all of its passages
        db.session.commit()
        raise
    return UploadOutcome(filename, "stored", _stored_message(parsed, chunks), document)


def _new_document(
    target: _Target, filename: str, data: bytes, digest: str, parsed: ParsedDocument, chunks: list[Chunk]
) -> Document:
    return Document(
        id=new_id(),
        user_id=target.user_id,
        project_id=target.project.id if target.project else None,
        thread_id=target.thread.id if target.thread else None,
        filename=filename,
        content_type=parsed.content_type,
        size_bytes=len(data),
        sha256=digest,
        original=data,
        extracted_text=clean_text(extracted_text(parsed, chunks)),
        meta=clean_value({**parsed.meta, "kind": parsed.kind, "chunks": len(chunks)}),
    )


def extracted_text(parsed: ParsedDocument, chunks: list[Chunk]) -> str:
    """The whole text: prose as extracted, spreadsheet rows as their labelled lines."""
    if parsed.kind in TABULAR_KINDS:
        return "\n".join(chunk.text for chunk in chunks)
    return "\n\n".join(section.text for section in parsed.sections)


# Passages per transaction: a few tens of milliseconds of writing on SQLite.
CHUNK_BATCH = 250
# Between two batches on SQLite, a moment for the writers that wait (SQLite's waits poll).
BATCH_PAUSE_SECONDS = 0.02


def insert_chunks(document_id: str, chunks: list[Chunk]) -> None:
    """Insert passages in batches, each committed with its full-text entries."""
    rows = [
        {"document_id": document_id, "ordinal": ordinal, "text": clean_text(chunk.text), "page": chunk.page,
         "sheet": clean_text(chunk.sheet) if chunk.sheet else chunk.sheet}
        for ordinal, chunk in enumerate(chunks, start=1)
    ]
    pause = BATCH_PAUSE_SECONDS if db.engine.dialect.name == "sqlite" else 0
    for start in range(0, len(rows), CHUNK_BATCH):
        if start and pause:
            time.sleep(pause)
        db.session.execute(sa.insert(DocumentChunk), rows[start:start + CHUNK_BATCH])
        db.session.commit()


def _touch(target: _Target) -> None:
    if target.project is not None:
        target.project.last_activity_at = utcnow()
    if target.thread is not None:
        target.thread.last_activity_at = utcnow()


def _stored_message(parsed: ParsedDocument, chunks: list[Chunk]) -> str:
    passages = f"{len(chunks)} passage{'s' if len(chunks) != 1 else ''}"
    if parsed.kind == "pdf":
        pages = parsed.meta.get("pages", 0)
        return f"Stored: {pages} page{'s' if pages != 1 else ''}, {passages}."
    if parsed.kind in TABULAR_KINDS:
        rows = sum(len(table.rows) for table in parsed.tables)
        return f"Stored: {rows} row{'s' if rows != 1 else ''}, {passages}."
    return f"Stored: {passages}."


def list_documents(*, user_id: str, project_id: str | None = None, thread_id: str | None = None) -> list[Document]:
    """The documents of one project or one thread of the user's, newest first."""
    owner = Document.project_id == project_id if project_id is not None else Document.thread_id == thread_id
    return list(
        db.session.scalars(
            sa.select(Document).where(Document.user_id == user_id, owner).order_by(Document.created_at.desc())
        )
    )


def get_document(user_id: str, document_id: str) -> Document | None:
    return db.session.scalar(sa.select(Document).where(Document.id == document_id, Document.user_id == user_id))


def get_chunks(document: Document) -> list[DocumentChunk]:
    return list(db.session.scalars(document.chunks.select().order_by(DocumentChunk.ordinal)))


def sheet_views(document: Document) -> list[tables.SheetView]:
    """A spreadsheet or CSV document's passages as tables, for the page and the downloads."""
    return tables.sheet_views(document.meta, get_chunks(document))


def delete_document(document: Document) -> None:
    """Delete a document; its passages and their index entries go in the same transaction."""
    db.session.delete(document)
    db.session.commit()
