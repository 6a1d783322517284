"""Receiving, listing and deleting documents; independent of Flask's request globals.

An upload stores each file's original with a job that reads it later, outside the web process
(see webapp.imports); here the file is only measured, fingerprinted and checked against the
project's documents.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, BinaryIO, Literal

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session, selectinload

from ..extensions import db
from ..imports import service as imports
from ..models import Document, DocumentChunk, ImportJob, Project, Thread
from ..turns import off_the_loop
from . import originals, tables
from .kinds import content_type_from_name
from .originals import FileTooLarge

log = logging.getLogger(__name__)

_UNSAFE_NAME_CHARACTERS = re.compile(r"[\x00-\x1f\x7f/\\]")


class DocumentNotFound(LookupError):
    """No such project, thread or document among the user's own."""


@dataclass(frozen=True)
class IncomingFile:
    """An uploaded file as the web layer hands it over: a name and a stream to read once."""

    filename: str
    stream: BinaryIO


RECEIVED_MESSAGE = "Received. It is being read."


@dataclass(frozen=True)
class UploadOutcome:
    """What became of one file: received for reading, stored, already there, or refused with a reason."""

    filename: str
    status: Literal["received", "stored", "duplicate", "error"]
    message: str
    document: Document | None = None

    @property
    def ok(self) -> bool:
        return self.status != "error"


def outcome_of(document: Document) -> UploadOutcome:
    """Where a received file is now: still being read, stored, or refused with the reason."""
    job = document.import_job
    message = job.message if job and job.message else ""
    if document.status == "stored":
        return UploadOutcome(document.filename, "stored", message or "Stored.", document)
    if document.status == "refused":
        return UploadOutcome(document.filename, "error", message or "This file could not be read.", document)
    progress = f"{job.progress}…" if job and job.progress else RECEIVED_MESSAGE
    return UploadOutcome(document.filename, "received", progress, document)


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
    """Receive each file into the project or the assistant thread and start reading it.

    One file's refusal spares the others. Raises DocumentNotFound when the project or thread
    is not the user's (or the thread is not an assistant thread).
    """
    target = _resolve_target(user_id, project_id, thread_id)
    limits = limits or UploadLimits.from_config(current_app.config)
    outcomes = [_upload_one(target, incoming, limits) for incoming in files]
    if any(outcome.status == "received" for outcome in outcomes):
        current_app.extensions["imports"].dispatch()
    return outcomes


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
        # Hashing a file of megabytes lets go of the interpreter, not of the loop other requests share.
        measured = off_the_loop(originals.measure, incoming.stream, limits.max_file_bytes)
    except FileTooLarge:
        megabytes = limits.max_file_bytes // (1024 * 1024)
        return UploadOutcome(filename, "error", f"Larger than the {megabytes} MB limit per file; not stored.")
    if not measured.size:
        return UploadOutcome(filename, "error", "The file is empty.")
    existing = _find_duplicate(target, measured.sha256)
    if existing is not None and existing.status != "refused":
        return UploadOutcome(
            filename, "duplicate", f"Already uploaded as “{existing.filename}”; not stored again.", existing
        )
    if existing is not None:
        # A refused file may be tried again (a limit may have been raised since): it replaces the refusal.
        db.session.delete(existing)
        db.session.flush()
    elif _count_documents(target) >= limits.max_documents:
        return UploadOutcome(
            filename, "error", f"This holds the maximum of {limits.max_documents} documents; delete some first."
        )
    return _receive(target, filename, measured)


def clean_filename(filename: str | None) -> str:
    """Keep the name a user gave, minus any path and characters that have no place in a name."""
    name = unicodedata.normalize("NFC", filename or "")
    name = re.split(r"[/\\]", name)[-1]
    name = _UNSAFE_NAME_CHARACTERS.sub("", name).strip()
    if len(name) > 255:
        stem, dot, extension = name.rpartition(".")
        name = stem[: 254 - len(extension)] + dot + extension if dot and len(extension) < 16 else name[:255]
    return name or "untitled"


def _find_duplicate(target: _Target, digest: str) -> Document | None:
    return db.session.scalar(sa.select(Document).where(target.owner_filter(), Document.sha256 == digest))


def _count_documents(target: _Target) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Document).where(target.owner_filter())) or 0


def _receive(target: _Target, filename: str, measured: originals.Measured) -> UploadOutcome:
    """Store the original as a document being processed, with the job that will read it."""
    document = Document(
        user_id=target.user_id,
        project_id=target.project.id if target.project else None,
        thread_id=target.thread.id if target.thread else None,
        filename=filename,
        content_type=content_type_from_name(filename),
        size_bytes=measured.size,
        sha256=measured.sha256,
        original=b"",
        meta={},
        status="processing",
    )
    try:
        db.session.add(document)
        db.session.add(imports.new_job(document))
        db.session.flush()
        # Writing the bytes holds the write lock and takes a while: not on the loop other requests share.
        off_the_loop(_store_and_commit, db.session(), db.session.connection(), document.id, measured, holds_lock=True)
    except sa.exc.IntegrityError:
        # Another request stored the same file between our check and this write.
        db.session.rollback()
        return UploadOutcome(filename, "duplicate", "Already uploaded; not stored again.")
    return UploadOutcome(filename, "received", RECEIVED_MESSAGE, document)


def _store_and_commit(
    session: Session, connection: sa.Connection, document_id: str, measured: originals.Measured
) -> None:
    # The session and its connection themselves, not the request's proxy: this runs in another thread.
    originals.store(connection, document_id, measured)
    session.commit()


def list_documents(*, user_id: str, project_id: str | None = None, thread_id: str | None = None) -> list[Document]:
    """The documents of one project or one thread of the user's, newest first."""
    owner = Document.project_id == project_id if project_id is not None else Document.thread_id == thread_id
    return list(
        db.session.scalars(
            sa.select(Document)
            .where(Document.user_id == user_id, owner)
            .options(selectinload(Document.import_job))
            .order_by(Document.created_at.desc())
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
    """Delete a document, stopping its import if one is running.

    The job goes first, which its reading process notices at its next batch; the passages then
    go a batch at a time, so a long document never holds the database for long.
    """
    document_id = document.id
    db.session.execute(sa.delete(ImportJob).where(ImportJob.document_id == document_id))
    db.session.commit()
    imports.delete_passages(db.session, document_id)
    db.session.execute(sa.delete(Document).where(Document.id == document_id))
    db.session.commit()
