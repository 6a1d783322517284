"""Ends a reply within a second of its Stop, even while its provider sends nothing.

A runner waits on its provider's socket between events, and a provider can go quiet for long
(a slow first token, a long pause before a tool call). So the runner does not look for stop
requests itself: this watcher does, for every reply of the process, a few times a second. It
saves a stopped reply with its text and tells its streams; the runner drops whatever the
provider sends afterwards and ends at its next event.
"""

from __future__ import annotations

import threading
from typing import Protocol

import sqlalchemy as sa

from ..models import Message, utcnow
from .broker import Broker
from .ticker import Ticker

INTERVAL_SECONDS = 0.2

_table = Message.__table__
_STOP = (
    _table.update()
    .where(_table.c.id == sa.bindparam("b_id"), _table.c.status == "streaming")
    .values(content=sa.bindparam("b_content"), stream_seq=sa.bindparam("b_seq"), status="stopped",
            updated_at=sa.bindparam("b_at", type_=_table.c.updated_at.type))
)


class Stoppable(Protocol):
    """A reply in progress, as the watcher sees it."""

    @property
    def message_id(self) -> str: ...

    def stop_now(self) -> tuple[int, str] | None:
        """End the reply here: the event number and text to keep, or None if it has ended already."""
        ...

    def announce_end(self, status: str) -> None:
        """Tell the reply's streams that it has ended."""
        ...


class StopWatcher:
    """One per process: stops the replies whose user pressed Stop."""

    def __init__(self, broker: Broker, engine: sa.Engine, interval: float = INTERVAL_SECONDS) -> None:
        self._broker = broker
        self._engine = engine
        self._replies: dict[str, Stoppable] = {}
        self._lock = threading.Lock()
        self._ticker = Ticker(self.check, interval=interval, name="stops")

    def watch(self, reply: Stoppable) -> None:
        with self._lock:
            self._replies[reply.message_id] = reply
        self._ticker.start()

    def forget(self, message_id: str) -> None:
        with self._lock:
            self._replies.pop(message_id, None)

    def check(self) -> None:
        """Stop every reply that has a stop request."""
        with self._lock:
            replies = list(self._replies.values())
        for reply in replies:
            if self._broker.stop_requested(reply.message_id):
                self._stop(reply)

    def _stop(self, reply: Stoppable) -> None:
        kept = reply.stop_now()
        if kept is None:  # it had ended already
            return
        seq, text = kept
        with self._engine.begin() as connection:
            connection.execute(_STOP, {"b_id": reply.message_id, "b_seq": seq, "b_content": text, "b_at": utcnow()})
        reply.announce_end("stopped")

    def close(self) -> None:
        self._ticker.close()
