"""Ends each reply within a second of its Stop, from whichever process Stop was pressed in.

Stop travels through the database (a flag on the message, which every process can set and
read, also while Redis is down) and through the broker when there is one. A runner waits on
its provider's socket between events, and a provider can go quiet for long (a slow first
token, a long pause before a tool call). So the runner does not look for stop requests
itself: this watcher does, for every reply of the process, a few times a second. It saves a
stopped reply with its text and tells its streams; the runner drops whatever the provider
sends afterwards and ends at its next event. A save that fails (the database is away) is
tried again at the next round; the streams hear of the stop once it is saved.
"""

from __future__ import annotations

import logging
import threading
from typing import Protocol

import sqlalchemy as sa

from ..models import Message, utcnow
from .broker import Broker, BrokerUnavailable
from .ticker import Ticker

log = logging.getLogger(__name__)

INTERVAL_SECONDS = 0.2

_table = Message.__table__
_REQUESTED = sa.select(_table.c.id).where(
    _table.c.id.in_(sa.bindparam("b_ids", expanding=True)), _table.c.stop_requested.is_(True)
)
_STOP = (
    _table.update()
    .where(
        _table.c.id == sa.bindparam("b_id"), sa.or_(_table.c.status == "streaming", _table.c.status == "interrupted")
    )
    .values(
        content=sa.bindparam("b_content"),
        stream_seq=sa.bindparam("b_seq"),
        status="stopped",
        error=None,
        updated_at=sa.bindparam("b_at", type_=_table.c.updated_at.type),
    )
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
        # Stopped replies whose save has not got through yet: the reply, its event number and text.
        self._unsaved: dict[str, tuple[Stoppable, int, str]] = {}
        self._lock = threading.Lock()
        self._ticker = Ticker(self.check, interval=interval, name="stops")

    def watch(self, reply: Stoppable) -> None:
        with self._lock:
            self._replies[reply.message_id] = reply
        self._ticker.start()

    def forget(self, message_id: str) -> None:
        """The reply has ended by itself (its own end save covers a stop not saved yet)."""
        with self._lock:
            self._replies.pop(message_id, None)
            self._unsaved.pop(message_id, None)

    def check(self) -> None:
        """Stop every reply that has a stop request, and save the stops not saved yet."""
        with self._lock:
            replies = dict(self._replies)
        for message_id in self._requested(list(replies)):
            kept = replies[message_id].stop_now()
            if kept is not None:
                with self._lock:
                    self._unsaved[message_id] = (replies[message_id], *kept)
        self._save()

    def _requested(self, message_ids: list[str]) -> set[str]:
        if not message_ids:
            return set()
        try:
            requested = self._broker.stops_requested(message_ids)
        except BrokerUnavailable:
            requested = set()
        with self._engine.connect() as connection:
            requested.update(connection.scalars(_REQUESTED, {"b_ids": message_ids}))
        return requested

    def _save(self) -> None:
        with self._lock:
            unsaved = list(self._unsaved.values())
        if not unsaved:
            return
        now = utcnow()
        with self._engine.begin() as connection:
            connection.execute(
                _STOP,
                [
                    {"b_id": reply.message_id, "b_seq": seq, "b_content": text, "b_at": now}
                    for reply, seq, text in unsaved
                ],
            )
        for reply, _, _ in unsaved:
            with self._lock:
                self._unsaved.pop(reply.message_id, None)
            reply.announce_end("stopped")

    def close(self) -> None:
        self._ticker.close()
