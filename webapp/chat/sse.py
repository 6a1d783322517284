"""The text of a reply's Server-Sent Events stream."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import sqlalchemy as sa
from markupsafe import escape

from .broker import Broker, BrokerUnavailable, StreamEvent
from .streams import CHECK_SECONDS, StreamSlot

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 15.0
POLL_SECONDS = 0.5
# A quiet stream looks at the reply's lease this often: a runner that died shows as
# interrupted within a lease and this, whichever process serves the stream.
LEASE_CHECK_SECONDS = 5.0
# The line ends of the event stream format: CRLF, a lone CR, a lone LF.
_LINE_END = re.compile(r"\r\n|\r|\n")


def sse(data: str, *, event: str | None = None, event_id: int | None = None) -> str:
    """One event in the wire format; every line of `data` gets its own `data:` field.

    A line ends wherever a client ends it, so text after a lone CR can never be read as a
    field of its own (`event:`, `id:`).
    """
    lines = [f"id: {event_id}"] if event_id is not None else []
    if event:
        lines.append(f"event: {event}")
    lines.extend(f"data: {line}" for line in _LINE_END.split(data))
    return "\n".join(lines) + "\n\n"


@dataclass(frozen=True, slots=True)
class Checkpoint:
    seq: int
    text: str
    streaming: bool


@dataclass(frozen=True, slots=True)
class StreamViews:
    """What the stream needs from the web layer: HTML for events, and the stored reply."""

    final_bubble: Callable[[], str]
    activity: Callable[[str], str]
    replacement: Callable[[str], str]
    checkpoint: Callable[[], Checkpoint]
    # The bubble that follows the reply by asking for it now and then (its stream was closed).
    following_bubble: Callable[[], str]


def _render(event: StreamEvent, views: StreamViews) -> str:
    if event.kind == "delta":
        return sse(str(escape(event.data)), event="delta", event_id=event.seq)
    if event.kind == "tool":
        return sse(views.activity(event.data), event="tool", event_id=event.seq)
    if event.kind == "text":
        return sse(views.replacement(event.data), event="replace", event_id=event.seq)
    return sse(views.final_bubble(), event="done", event_id=event.seq)


class Superseded(Exception):
    """A newer stream of the user's has taken this one's place."""


def relay(
    broker: Broker,
    message_id: str,
    after: int,
    views: StreamViews,
    slot: StreamSlot,
    *,
    heartbeat: float = HEARTBEAT_SECONDS,
) -> Iterator[str]:
    """Send what exists after `after`, then each new event, then `done`.

    Without the broker (it never saw the reply, Redis is down or lost events), the stream
    follows the checkpoints in the database instead; without the database for a while, it
    waits for it. Closed by a newer stream of the user's (past MAX_STREAMS_PER_USER), it ends
    with a `fallback` event whose bubble follows the reply without a stream.
    """
    try:
        yield "retry: 1000\n\n"
        yield from _relay(broker, message_id, after, views, slot, heartbeat)
    except Superseded:
        yield from _fallback(views)
    finally:
        slot.release()


def _relay(
    broker: Broker, message_id: str, after: int, views: StreamViews, slot: StreamSlot, heartbeat: float
) -> Iterator[str]:
    quiet_since = lease_checked = time.monotonic()
    # A quiet stream wakes this often to look at its slot, and at the reply's lease less often.
    lease_every = min(heartbeat, LEASE_CHECK_SECONDS)
    wait = min(lease_every, CHECK_SECONDS)
    while True:
        if slot.superseded():
            raise Superseded
        asked = time.monotonic()
        try:
            events = broker.read(message_id, after, timeout=wait)
        except BrokerUnavailable:
            events = None
        if events is None or _missing(events, after):
            yield from _follow_checkpoints(after, views, heartbeat, slot)
            return
        if not events:
            # An empty answer before the wait was over: the channel is closed, the reply has ended.
            now = time.monotonic()
            if now - asked >= wait and now - lease_checked < lease_every:
                continue
            lease_checked = now
            point = _checkpoint(views)
            if point is not None and not point.streaming:
                yield from _final(views)
                return
            if time.monotonic() - quiet_since >= heartbeat:
                quiet_since = time.monotonic()
                yield ": ping\n\n"
            continue
        # One write for everything that arrived together: under load a wake-up finds several
        # deltas, and each write is a system call and a turn for the server's threads. The end,
        # whose bubble is rendered from the database, goes in a write of its own, after the text.
        ended = events[-1].kind == "done"
        text = events[:-1] if ended else events
        if text:
            yield "".join(_render(event, views) for event in text)
        quiet_since, after = time.monotonic(), events[-1].seq
        if ended:
            yield _render(events[-1], views)
            return


def _missing(events: list[StreamEvent] | tuple[StreamEvent, ...] | object, after: int) -> bool:
    """Whether the broker lost events before these (Redis restarted without them)."""
    first = events[0] if isinstance(events, (list, tuple)) and events else None
    return first is not None and first.seq > after + 1 and first.kind != "text"


def _checkpoint(views: StreamViews) -> Checkpoint | None:
    """The reply as saved, or None while the database cannot be read."""
    try:
        return views.checkpoint()
    except sa.exc.SQLAlchemyError:
        log.info("stream cannot read the reply's checkpoint yet")
        return None


def _final(views: StreamViews) -> Iterator[str]:
    try:
        bubble = views.final_bubble()
    except sa.exc.SQLAlchemyError:
        # Without `done` the client reconnects, and the stream route sends it from the database.
        log.info("stream ends without its final bubble; the client will ask again")
        return
    yield sse(bubble, event="done")


def _fallback(views: StreamViews) -> Iterator[str]:
    try:
        bubble = views.following_bubble()
    except sa.exc.SQLAlchemyError:
        log.info("stream closed without its fallback bubble; the client will ask again")
        return
    yield sse(bubble, event="fallback")


def _follow_checkpoints(after: int, views: StreamViews, heartbeat: float, slot: StreamSlot) -> Iterator[str]:
    """Without the broker's events (another process runs the reply), follow the saved text."""
    last_write = time.monotonic()
    while True:
        if slot.superseded():
            raise Superseded
        point = _checkpoint(views)
        if point is not None and not point.streaming:
            yield from _final(views)
            return
        if point is not None and point.seq > after:
            after = point.seq
            last_write = time.monotonic()
            yield sse(views.replacement(point.text), event="replace", event_id=point.seq)
        elif time.monotonic() - last_write >= heartbeat:
            last_write = time.monotonic()
            yield ": ping\n\n"
        time.sleep(POLL_SECONDS)
