"""Delivers a reply's events from the runner to any stream that watches it.

In memory for one process; Redis Streams when `REDIS_URL` is set, so that the stream
can be served by any process or host. Events are numbered from 1 per reply; a reader
asks for what comes after the last number it has, so a reconnect has no gap and no
duplicate.

Redis is optional at every moment: while it is unreachable, every call raises
BrokerUnavailable at once, and the callers carry on without it (streams read the
checkpoints from the database instead; the runner sends the whole text again, as one
`text` event, once Redis is back).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

T = TypeVar("T")

# How long a finished reply's events stay readable for late or reconnecting streams.
RETAIN_SECONDS = 120
# The longest a reader waits for events in one call (the relay asks for less).
MAX_READ_SECONDS = 15
# After Redis failed, calls fail at once for this long instead of each waiting on it again.
COOL_DOWN_SECONDS = 1.0


class BrokerUnavailable(Exception):
    """The broker cannot be reached right now."""


@dataclass(frozen=True, slots=True)
class StreamEvent:
    seq: int
    kind: str  # "delta", "tool", "text" (the whole text so far, after an outage), "done"
    data: str


class Broker(Protocol):
    def open(self, message_id: str) -> None:
        """Announce a reply before its first event, so readers wait instead of falling back.

        Events of an earlier run of the reply (one that is being continued) are dropped.
        """
        ...

    def publish(self, message_id: str, event: StreamEvent) -> None:
        """Add the next event; the runner numbers them 1, 2, 3, …"""
        ...

    def read(self, message_id: str, after: int, timeout: float) -> Sequence[StreamEvent] | None:
        """Events after `after`, waiting up to `timeout`; None if this broker never saw the reply."""
        ...

    def request_stop(self, message_id: str) -> None: ...

    def stops_requested(self, message_ids: Collection[str]) -> set[str]:
        """Those of `message_ids` whose user pressed Stop."""
        ...

    def close(self, message_id: str) -> None:
        """Mark the reply finished; its events expire after RETAIN_SECONDS."""
        ...


class _Channel:
    __slots__ = ("events", "offset", "changed", "stop", "closed_at")

    def __init__(self) -> None:
        self.events: list[StreamEvent] = []
        # The number before the first event (a continued reply's first is not 1).
        self.offset = 0
        self.changed = threading.Condition()
        self.stop = False
        self.closed_at: float | None = None


class MemoryBroker:
    """Channels in this process's memory."""

    def __init__(self) -> None:
        self._channels: dict[str, _Channel] = {}
        self._lock = threading.Lock()

    def _channel(self, message_id: str, create: bool) -> _Channel | None:
        with self._lock:
            channel = self._channels.get(message_id)
            if channel is None and create:
                self._expire_closed()
                channel = self._channels[message_id] = _Channel()
            return channel

    def _expire_closed(self) -> None:
        cutoff = time.monotonic() - RETAIN_SECONDS
        for key in [k for k, c in self._channels.items() if c.closed_at and c.closed_at < cutoff]:
            del self._channels[key]

    def publish(self, message_id: str, event: StreamEvent) -> None:
        channel = self._channel(message_id, create=True)
        with channel.changed:
            if not channel.events:
                channel.offset = event.seq - 1
            channel.events.append(event)
            channel.changed.notify_all()

    def read(self, message_id: str, after: int, timeout: float) -> Sequence[StreamEvent] | None:
        channel = self._channel(message_id, create=False)
        if channel is None:
            return None
        with channel.changed:
            if channel.offset + len(channel.events) <= after and channel.closed_at is None:
                channel.changed.wait(timeout)
            # Numbers have no holes, so the list index is the number minus the one before the first.
            return channel.events[max(0, after - channel.offset) :]

    def open(self, message_id: str) -> None:
        with self._lock:
            self._expire_closed()
            self._channels[message_id] = _Channel()

    def request_stop(self, message_id: str) -> None:
        channel = self._channel(message_id, create=False)
        if channel is not None:
            channel.stop = True

    def stops_requested(self, message_ids: Collection[str]) -> set[str]:
        with self._lock:
            return {key for key in message_ids if (channel := self._channels.get(key)) and channel.stop}

    def close(self, message_id: str) -> None:
        channel = self._channel(message_id, create=False)
        if channel is None:
            return
        with channel.changed:
            channel.closed_at = time.monotonic()
            channel.changed.notify_all()


class RedisBroker:
    """Redis Streams: entry ids are `0-<seq>`, so a reader resumes with XREAD from `0-<after>`."""

    def __init__(self, url: str) -> None:
        import redis

        from ..extensions import redis_options

        self._redis = redis.Redis.from_url(url, decode_responses=True, **redis_options(socket_timeout=2))
        # Blocking reads have their own connections, whose socket waits longer than any read.
        self._reader = redis.Redis.from_url(
            url, decode_responses=True, **redis_options(socket_timeout=MAX_READ_SECONDS + 10)
        )
        self._errors: tuple[type[Exception], ...] = (redis.RedisError,)
        self._outages: tuple[type[Exception], ...] = (redis.ConnectionError, redis.TimeoutError)
        self._down_until = 0.0
        from .fanout import Fanout
        from .publishing import Publisher

        self._fanout = Fanout(self._reader, self._errors)
        self._publisher = Publisher(self._redis, self._errors)

    def _call(self, operation: Callable[[], T]) -> T:
        if time.monotonic() < self._down_until:
            raise BrokerUnavailable("Redis was unreachable a moment ago")
        try:
            return operation()
        except self._errors as error:
            if isinstance(error, self._outages):
                self._down_until = time.monotonic() + COOL_DOWN_SECONDS
            raise BrokerUnavailable(str(error)) from error

    @staticmethod
    def _key(message_id: str) -> str:
        return f"ba:reply:{message_id}"

    @staticmethod
    def _stop_key(message_id: str) -> str:
        return f"ba:stop:{message_id}"

    def open(self, message_id: str) -> None:
        # An empty marker entry would shift sequence numbers; a separate key says "seen".
        self._fanout.forget(self._key(message_id))

        def run() -> None:
            with self._redis.pipeline() as pipe:
                pipe.delete(self._key(message_id), self._stop_key(message_id))
                pipe.set(f"ba:open:{message_id}", "1", ex=24 * 3600)
                pipe.execute()

        self._call(run)

    def publish(self, message_id: str, event: StreamEvent) -> None:
        fields = {"kind": event.kind, "data": event.data}
        # Sent with the events of the other replies ready at the same moment (see publishing.py).
        self._call(lambda: self._publisher.xadd(self._key(message_id), fields, f"0-{event.seq}"))

    def read(self, message_id: str, after: int, timeout: float) -> Sequence[StreamEvent] | None:
        # Every stream of this process shares one XREAD (see fanout.py).
        from .fanout import Failed

        key = self._key(message_id)

        def seen() -> bool:
            return bool(self._call(lambda: self._redis.exists(f"ba:open:{message_id}", key)))

        try:
            return self._call(lambda: self._fanout.read(key, after, min(timeout, MAX_READ_SECONDS), seen))
        except Failed as error:
            self._down_until = time.monotonic() + COOL_DOWN_SECONDS
            raise BrokerUnavailable(str(error)) from error

    def request_stop(self, message_id: str) -> None:
        self._call(lambda: self._redis.set(self._stop_key(message_id), "1", ex=3600))

    def stops_requested(self, message_ids: Collection[str]) -> set[str]:
        keys = list(message_ids)
        if not keys:
            return set()

        def run() -> list[Any]:
            with self._redis.pipeline(transaction=False) as pipe:
                for key in keys:
                    pipe.exists(self._stop_key(key))
                return pipe.execute()

        return {key for key, found in zip(keys, self._call(run), strict=False) if found}

    def close(self, message_id: str) -> None:
        def run() -> None:
            with self._redis.pipeline() as pipe:
                for name in (self._key(message_id), f"ba:open:{message_id}", self._stop_key(message_id)):
                    pipe.expire(name, RETAIN_SECONDS)
                pipe.execute()

        self._call(run)


def build_broker(redis_url: str | None) -> MemoryBroker | RedisBroker:
    return RedisBroker(redis_url) if redis_url else MemoryBroker()
