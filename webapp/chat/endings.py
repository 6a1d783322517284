"""The end of a reply, saved in one short transaction and tried again until the database answers.

The runner holds the whole reply in memory. If the database is unreachable when the reply
ends (a restart, a failover, SQLite busy with a large import), the save waits and tries
again, with growing pauses, for as long as the runner is patient: text received is text
kept, with the status its reader saw.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from ..llm.base import Usage
from ..models import Message, Project, Thread, TokenUsage, utcnow
from .lease import lease_from
from .usage import Meter, usage_values

log = logging.getLogger(__name__)

# The pauses between attempts grow to this, so the save follows the database back quickly.
MAX_PAUSE_SECONDS = 1.0
# Errors that say the database could not be reached or could not take the write just now
# (down, locked, or every pooled connection busy).
TRANSIENT = (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.TimeoutError)

_messages = Message.__table__


@dataclass(frozen=True, slots=True)
class ReplyEnd:
    """Everything a reply's end writes: the message's final state and what the reply used."""

    message_id: str
    thread_id: str
    user_id: str
    status: str
    cut_reason: str | None
    note: str | None
    seq: int
    text: str
    tool_calls: list[dict[str, Any]] | None
    provider: str | None
    model: str | None
    used: Meter
    # The runner goes on working for the reply (its title): other processes see the lease.
    keep_lease: bool = False


def save_end(engine: sa.Engine, end: ReplyEnd, *, patience: float) -> bool:
    """Write the end of the reply, trying for `patience` seconds; False if the reply is gone."""
    deadline = time.monotonic() + patience
    pause = 0.05
    while True:
        try:
            with engine.begin() as connection:
                return _write(connection, end, utcnow())
        except TRANSIENT:
            if time.monotonic() + pause > deadline:
                raise
            log.warning("reply end not saved yet; trying again", extra={"message_id": end.message_id})
            time.sleep(pause)
            pause = min(pause * 2, MAX_PAUSE_SECONDS)


def _write(connection: sa.Connection, end: ReplyEnd, now: datetime) -> bool:
    # A stop saved by the stop watcher is completed here with what the reply used.
    ended_before = ("streaming", "interrupted", "stopped") if end.status == "stopped" else ("streaming", "interrupted")
    saved = connection.execute(
        _messages.update()
        .where(_messages.c.id == end.message_id, _messages.c.status.in_(ended_before))
        .values(
            status=end.status,
            cut_reason=end.cut_reason,
            error=end.note,
            stream_seq=end.seq,
            content=end.text,
            tool_calls=end.tool_calls,
            provider=end.provider,
            model=end.model,
            input_tokens=_messages.c.input_tokens + end.used.input_tokens,
            output_tokens=_messages.c.output_tokens + end.used.output_tokens,
            lease_until=lease_from(now) if end.keep_lease else None,
            stop_requested=False,
            updated_at=now,
        )
    )
    if saved.rowcount == 0:  # the thread was deleted while the reply ran
        return False
    if end.provider and (end.used.input_tokens or end.used.output_tokens):
        connection.execute(
            sa.insert(TokenUsage),
            usage_values(
                user_id=end.user_id,
                thread_id=end.thread_id,
                message_id=end.message_id,
                provider=end.provider,
                model=end.model or "",
                purpose="chat",
                used=Usage(end.used.input_tokens, end.used.output_tokens),
                estimated=end.used.estimated,
            ),
        )
    _touch(connection, end.thread_id, now)
    return True


def _touch(connection: sa.Connection, thread_id: str, now: datetime) -> None:
    """Mark the thread and its project active, as they are now (either may have changed meanwhile)."""
    connection.execute(sa.update(Thread).where(Thread.id == thread_id).values(last_activity_at=now))
    project_id = sa.select(Thread.project_id).where(Thread.id == thread_id).scalar_subquery()
    connection.execute(sa.update(Project).where(Project.id == project_id).values(last_activity_at=now))


def release_lease(engine: sa.Engine, message_id: str) -> None:
    """The runner has done all it does for the reply (its title is made)."""
    with engine.begin() as connection:
        connection.execute(_messages.update().where(_messages.c.id == message_id).values(lease_until=None))
