"""A reply in progress: its events, numbered, to the broker; its text and tool calls, in memory.

Deltas touch neither the database nor the session: the checkpoint writer saves the text of
every streaming reply together, and the end of the reply is saved once, with everything it
holds. The whole text stays here until then, whatever happens to the database or the broker.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from ..models import Message
from .broker import Broker, BrokerUnavailable, StreamEvent
from .checkpoints import CheckpointWriter, Snapshot

log = logging.getLogger(__name__)


class Stopped(Exception):
    """The user pressed Stop."""


class ReplyWriter:
    """Publishes a reply's events and keeps what it has said.

    Stop requests are the stop watcher's: it ends the reply (`stop_now`), and the writer drops
    whatever the provider sends afterwards. When the broker cannot take an event (Redis is
    down), the reply carries on: the next event that gets through is preceded by the whole
    text so far, so a stream that reads it misses nothing.
    """

    def __init__(self, message: Message, broker: Broker, checkpoints: CheckpointWriter) -> None:
        self.broker, self.checkpoints = broker, checkpoints
        # Kept apart from the message: after a commit it is expired, and reading from it in the
        # checkpoint thread would load it there.
        self.message_id = message.id
        # A continued reply carries on with its text, its tool calls and its event numbers.
        self.seq = message.stream_seq
        self._parts: list[str] = [message.content] if message.content else []
        self.tool_calls: list[dict[str, Any]] = list(message.tool_calls or [])
        self.ended = False
        self._announced = False
        self._resend_text = False
        self._lock = threading.Lock()  # the checkpoint and stop threads read the reply too
        # Events leave in the order of their numbers, without holding up readers of the text.
        self._sending = threading.Lock()

    @property
    def text(self) -> str:
        return self.snapshot().text

    def snapshot(self) -> Snapshot:
        with self._lock:
            return Snapshot(self.seq, self._join(), list(self.tool_calls) or None)

    def _join(self) -> str:
        text = "".join(self._parts)
        self._parts[:] = [text]  # later joins start from one piece
        return text

    def delta(self, text: str) -> None:
        self._publish("delta", text)
        self.checkpoints.changed(self)

    def activity(self, text: str, call: dict[str, Any]) -> None:
        """A tool has run: show what it did, and keep the call with the reply."""
        with self._lock:
            self.tool_calls.append(call)
        self._publish("tool", text)
        self.checkpoints.changed(self)

    def _publish(self, kind: str, data: str) -> None:
        with self._lock:
            if self.ended:
                return
            if kind == "delta":
                self._parts.append(data)
            events = self._number(kind, data)
            self._sending.acquire()
        try:
            self._send(events)
        finally:
            self._sending.release()

    def _number(self, kind: str, data: str) -> tuple[StreamEvent, ...]:
        self.seq += 1
        if not self._resend_text:
            return (StreamEvent(self.seq, kind, data),)
        # The whole text so far stands for every delta the broker missed, this one included.
        text = StreamEvent(self.seq, "text", self._join())
        if kind == "delta":
            return (text,)
        self.seq += 1
        return text, StreamEvent(self.seq, kind, data)

    def _send(self, events: tuple[StreamEvent, ...]) -> None:
        try:
            for event in events:
                self.broker.publish(self.message_id, event)
        except BrokerUnavailable:
            self._resend_text = True
        else:
            if self._resend_text:
                self._resend_text = False

    def check_stop(self) -> None:
        if self.ended:
            raise Stopped

    def stop_now(self) -> tuple[int, str] | None:
        """End the reply at the text it has: its last event number and text, or None if it had ended."""
        with self._lock:
            if self.ended:
                return None
            self.ended = True
            return self.seq, self._join()

    def settle(self) -> bool:
        """End the reply for its runner (nothing sent later is shown); True if a stop ended it first."""
        with self._lock:
            stopped, self.ended = self.ended, True
            return stopped

    def announce_end(self, status: str) -> None:
        """Send `done` to the reply's streams and close its channel, once (best effort: streams
        without the broker see the end in the database)."""
        with self._lock:
            if self._announced:
                return
            self._announced = True
            self.seq += 1
            done = StreamEvent(self.seq, "done", status)
            self._sending.acquire()
        try:
            self.broker.publish(self.message_id, done)
            self.broker.close(self.message_id)
        except BrokerUnavailable:
            log.info("reply end not announced through the broker", extra={"message_id": self.message_id})
        finally:
            self._sending.release()
