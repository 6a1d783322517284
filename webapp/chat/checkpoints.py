"""Saves the text of every streaming reply, all of them in one transaction a few times a second.

A reply that committed its own checkpoints would make one transaction per reply per
interval: with a hundred replies streaming, hundreds of commits a second fighting for the
database and the interpreter. Here each reply only says that it has new text; one thread
writes whatever changed.
"""

from __future__ import annotations

import threading
from typing import Protocol

import sqlalchemy as sa

from ..models import Message, utcnow
from .ticker import Ticker

# With the time a transaction takes, text reaches the database within half a second.
INTERVAL_SECONDS = 0.4


class Source(Protocol):
    """A reply in progress, as the writer reads it."""

    @property
    def message_id(self) -> str: ...

    def snapshot(self) -> tuple[int, str]:
        """The last event number published and the text up to it, consistent with each other."""
        ...


_table = Message.__table__
# A checkpoint never goes back: not past a newer one, and not over a reply that has ended.
_SAVE = (
    _table.update()
    .where(_table.c.id == sa.bindparam("b_id"), _table.c.status == "streaming",
           _table.c.stream_seq < sa.bindparam("b_seq"))
    .values(content=sa.bindparam("b_content"), stream_seq=sa.bindparam("b_seq"),
            updated_at=sa.bindparam("b_at", type_=_table.c.updated_at.type))
)


class CheckpointWriter:
    """One per process: replies mark themselves changed, a background thread saves them."""

    def __init__(self, engine: sa.Engine, interval: float = INTERVAL_SECONDS) -> None:
        self._engine = engine
        self._dirty: dict[str, Source] = {}
        self._lock = threading.Lock()
        self._ticker = Ticker(self.flush, interval=interval, name="checkpoints")

    def changed(self, source: Source) -> None:
        """`source` has text that is not saved yet."""
        with self._lock:
            self._dirty[source.message_id] = source
        self._ticker.start()

    def discard(self, message_id: str) -> None:
        """The reply saves itself from here on (it has ended)."""
        with self._lock:
            self._dirty.pop(message_id, None)

    def flush(self) -> None:
        """Write every pending checkpoint now."""
        with self._lock:
            sources, self._dirty = list(self._dirty.values()), {}
        if not sources:
            return
        now = utcnow()
        rows = []
        for source in sources:
            seq, text = source.snapshot()
            rows.append({"b_id": source.message_id, "b_seq": seq, "b_content": text, "b_at": now})
        try:
            with self._engine.begin() as connection:
                connection.execute(_SAVE, rows)
        except Exception:
            with self._lock:  # try again next round, unless newer text is already waiting
                for source in sources:
                    self._dirty.setdefault(source.message_id, source)
            raise

    def close(self) -> None:
        self._ticker.close()
        self.flush()
