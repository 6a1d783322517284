"""An upload's bytes: measured and fingerprinted a block at a time, then written into its document.

On SQLite the bytes are streamed into the row's blob a block at a time, so a web process never
holds a whole file; PostgreSQL takes a bytea value whole, so there the file is held once.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from dataclasses import dataclass
from typing import BinaryIO

import sqlalchemy as sa

from ..models import Document

BLOCK = 1024 * 1024
# An upload that cannot seek (not werkzeug's spooled file) is copied to one that can, on disk past this.
_SPOOL_IN_MEMORY = 1024 * 1024


class FileTooLarge(Exception):
    pass


@dataclass(frozen=True)
class Measured:
    stream: BinaryIO  # at its start again, ready to be stored
    size: int
    sha256: str


def measure(stream: BinaryIO, max_bytes: int) -> Measured:
    """Size and SHA-256 of the whole stream, read a block at a time; FileTooLarge past `max_bytes`."""
    if not stream.seekable():
        spooled = tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY)
        shutil.copyfileobj(stream, spooled, BLOCK)
        stream = spooled  # type: ignore[assignment]
    stream.seek(0)
    digest, size = hashlib.sha256(), 0
    while block := stream.read(BLOCK):
        size += len(block)
        if size > max_bytes:
            raise FileTooLarge
        digest.update(block)
    stream.seek(0)
    return Measured(stream, size, digest.hexdigest())


def store(connection: sa.Connection, document_id: str, measured: Measured) -> None:
    """Write the stream into the document's `original`, inside the connection's transaction."""
    if connection.dialect.name != "sqlite":
        connection.execute(
            sa.update(Document).where(Document.id == document_id).values(original=measured.stream.read())
        )
        return
    connection.execute(
        sa.update(Document).where(Document.id == document_id).values(original=sa.func.zeroblob(measured.size))
    )
    rowid = connection.scalar(
        sa.select(sa.literal_column("rowid")).select_from(Document).where(Document.id == document_id)
    )
    with connection.connection.driver_connection.blobopen("documents", "original", rowid) as blob:
        while block := measured.stream.read(BLOCK):
            blob.write(block)
