"""Saves the text of every streaming reply, all of them in one transaction a few times a second,
and renews the leases of the replies this process produces.

A reply that committed its own checkpoints would make one transaction per reply per
interval: with a hundred replies streaming, hundreds of commits a second fighting for the
database and the interpreter. Here each reply only says that it has new text; one thread
writes whatever changed. When the database is away, nothing is dropped: the replies keep
their text in memory and the next flush that gets through saves the newest of it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, Protocol

import sqlalchemy as sa

from ..models import Message, utcnow
from .lease import RENEW_SECONDS, lease_from
from .ticker import Ticker

# With the time a transaction takes, text reaches the database within half a second.
INTERVAL_SECONDS = 0.4


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A reply in progress: its last event number, and its text and tool calls up to it."""

    seq: int
    text: str
    tool_calls: list[dict[str, Any]] | None


class Source(Protocol):
    """A reply in progress, as the writer reads it."""

    @property
    def message_id(self) -> str: ...

    def snapshot(self) -> Snapshot: ...


_table = Message.__table__
_AT = sa.bindparam("b_at", type_=_table.c.updated_at.type)
_LEASE = sa.bindparam("b_lease", type_=_table.c.lease_until.type)
# A checkpoint never goes back: not past a newer one, and not over a reply that has ended. A
# reply marked interrupted while its runner was cut off from the database (its lease lapsed)
# is streaming again as soon as the runner gets through.
_SAVE = (
    _table.update()
    .where(
        _table.c.id == sa.bindparam("b_id"),
        sa.or_(_table.c.status == "streaming", _table.c.status == "interrupted"),
        _table.c.stream_seq < sa.bindparam("b_seq"),
    )
    .values(
        content=sa.bindparam("b_content"),
        stream_seq=sa.bindparam("b_seq"),
        tool_calls=sa.bindparam("b_tools", type_=_table.c.tool_calls.type),
        status="streaming",
        error=None,
        lease_until=_LEASE,
        updated_at=_AT,
    )
)
_RENEW = (
    _table.update()
    .where(_table.c.id.in_(sa.bindparam("b_ids", expanding=True)), _table.c.status == "streaming")
    .values(lease_until=_LEASE)
)


class CheckpointWriter:
    """One per process: replies mark themselves changed, a background thread saves them.

    A tracked reply's lease is renewed every RENEW_SECONDS, with or without new text (a
    provider can think for a long time before its first token).
    """

    def __init__(self, engine: sa.Engine, interval: float = INTERVAL_SECONDS) -> None:
        self._engine = engine
        self._tracked: dict[str, Source] = {}
        self._dirty: dict[str, Source] = {}
        self._renewed_at = time.monotonic()
        self._lock = threading.Lock()
        self._ticker = Ticker(self.flush, interval=interval, name="checkpoints")

    def track(self, source: Source) -> None:
        """`source` is produced by this process: keep its lease."""
        with self._lock:
            self._tracked[source.message_id] = source
        self._ticker.start()

    def changed(self, source: Source) -> None:
        """`source` (tracked from now on) has text that is not saved yet."""
        with self._lock:
            self._tracked[source.message_id] = source
            self._dirty[source.message_id] = source
        self._ticker.start()

    def release(self, message_id: str) -> None:
        """The reply has ended: it saves itself from here on, and needs no lease."""
        with self._lock:
            self._dirty.pop(message_id, None)
            self._tracked.pop(message_id, None)

    def flush(self) -> None:
        """Write every pending checkpoint now, and renew the leases that are due."""
        with self._lock:
            sources, self._dirty = list(self._dirty.values()), {}
            renew = [key for key in self._tracked if key not in {s.message_id for s in sources}]
            renew_due = time.monotonic() - self._renewed_at >= RENEW_SECONDS
        if not sources and not (renew and renew_due):
            return
        try:
            self._write(sources, renew if renew_due else [])
            if renew_due:
                self._renewed_at = time.monotonic()
        except Exception:
            with self._lock:  # try again next round, unless newer text is already waiting
                for source in sources:
                    if source.message_id in self._tracked:
                        self._dirty.setdefault(source.message_id, source)
            raise

    def _write(self, sources: list[Source], renew: list[str]) -> None:
        now = utcnow()
        lease = lease_from(now)
        rows = [_row(source.message_id, source.snapshot(), lease, now) for source in sources]
        with self._engine.begin() as connection:
            if rows:
                connection.execute(_SAVE, rows)
            if renew:
                connection.execute(_RENEW, {"b_ids": renew, "b_lease": lease})

    def close(self) -> None:
        self._ticker.close()
        self.flush()


def _row(message_id: str, snapshot: Snapshot, lease: Any, now: Any) -> dict[str, Any]:
    return {
        "b_id": message_id,
        "b_seq": snapshot.seq,
        "b_content": snapshot.text,
        "b_tools": snapshot.tool_calls,
        "b_lease": lease,
        "b_at": now,
    }
