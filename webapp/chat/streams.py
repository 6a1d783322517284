"""Each user's open reply streams, capped: a stream opened past the cap closes that user's oldest.

A page left open in many tabs (or a script) would otherwise hold a stream per tab for as long as
the tabs live. The closed stream is not lost: its last event tells the page to follow the reply
by asking for the message now and then instead.

Counted in this process's memory, or in Redis when `REDIS_URL` is set, so that the cap holds
across processes and hosts: a sorted set per user (stream ids by opening time) and a marker per
closed stream, which the stream that holds it finds at its next look. While Redis is
unreachable, streams are counted in memory, as the rate limits are.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

T = TypeVar("T")

# How often an open stream looks whether it has been closed by a newer one of its user's.
CHECK_SECONDS = 2.0
# Entries of streams whose process died go with the user's set, this long after its last opening
# (before that, being the oldest, they are the first to be closed by a new stream).
SET_SECONDS = 24 * 3600
# How long a closed stream's marker waits for the stream to find it.
MARKER_SECONDS = 600
# After Redis failed, count in memory for this long before trying it again.
COOL_DOWN_SECONDS = 1.0


class Counter(Protocol):
    def open(self, user_id: str, stream_id: str) -> None:
        """Count a new stream of the user's, closing their oldest ones past the cap."""
        ...

    def closed(self, stream_id: str) -> bool:
        """Whether a newer stream has closed this one."""
        ...

    def release(self, user_id: str, stream_id: str) -> None:
        """The stream has ended: it no longer counts."""
        ...


class MemoryCounter:
    """Streams of this process, per user, oldest first."""

    def __init__(self, cap: int) -> None:
        self._cap = cap
        self._open: dict[str, dict[str, None]] = {}  # insertion order is opening order
        self._closed: set[str] = set()
        self._lock = threading.Lock()

    def open(self, user_id: str, stream_id: str) -> None:
        with self._lock:
            streams = self._open.setdefault(user_id, {})
            streams[stream_id] = None
            while len(streams) > self._cap:
                oldest = next(iter(streams))
                del streams[oldest]
                self._closed.add(oldest)

    def closed(self, stream_id: str) -> bool:
        return stream_id in self._closed

    def release(self, user_id: str, stream_id: str) -> None:
        with self._lock:
            self._closed.discard(stream_id)
            streams = self._open.get(user_id)
            if streams is not None:
                streams.pop(stream_id, None)
                if not streams:
                    del self._open[user_id]


class RedisCounter:
    """Streams of every process, per user, in Redis; in memory while Redis is unreachable."""

    def __init__(self, url: str, cap: int) -> None:
        import redis

        from ..extensions import redis_options

        self._redis = redis.Redis.from_url(url, decode_responses=True, **redis_options(socket_timeout=2))
        self._errors: tuple[type[Exception], ...] = (redis.RedisError,)
        self._cap = cap
        self._memory = MemoryCounter(cap)
        self._down_until = 0.0

    def _call(self, operation: Callable[[], T], instead: Callable[[], T]) -> T:
        if time.monotonic() >= self._down_until:
            try:
                return operation()
            except self._errors:
                self._down_until = time.monotonic() + COOL_DOWN_SECONDS
        return instead()

    def open(self, user_id: str, stream_id: str) -> None:
        def run() -> None:
            key = f"ba:streams:{user_id}"
            with self._redis.pipeline() as pipe:
                pipe.zadd(key, {stream_id: time.time()})
                pipe.expire(key, SET_SECONDS)
                # All but the newest `cap`, oldest first.
                pipe.zrange(key, 0, -(self._cap + 1))
                *_, oldest = pipe.execute()
            if oldest:
                with self._redis.pipeline() as pipe:
                    pipe.zrem(key, *oldest)
                    for closed in oldest:
                        pipe.set(f"ba:stream-closed:{closed}", "1", ex=MARKER_SECONDS)
                    pipe.execute()

        self._call(run, lambda: self._memory.open(user_id, stream_id))

    def closed(self, stream_id: str) -> bool:
        in_redis = self._call(lambda: bool(self._redis.exists(f"ba:stream-closed:{stream_id}")), lambda: False)
        return in_redis or self._memory.closed(stream_id)

    def release(self, user_id: str, stream_id: str) -> None:
        def run() -> None:
            with self._redis.pipeline() as pipe:
                pipe.zrem(f"ba:streams:{user_id}", stream_id)
                pipe.delete(f"ba:stream-closed:{stream_id}")
                pipe.execute()

        self._call(run, lambda: None)
        self._memory.release(user_id, stream_id)


class StreamSlot:
    """One open stream's place in its user's count."""

    def __init__(self, counter: Counter, user_id: str) -> None:
        self._counter = counter
        self._user_id = user_id
        self._id = uuid.uuid4().hex
        self._looked_at = time.monotonic()
        counter.open(user_id, self._id)

    def superseded(self) -> bool:
        """Whether a newer stream of the user's has taken this one's place (looked up every CHECK_SECONDS)."""
        if time.monotonic() - self._looked_at < CHECK_SECONDS:
            return False
        self._looked_at = time.monotonic()
        return self._counter.closed(self._id)

    def release(self) -> None:
        self._counter.release(self._user_id, self._id)


def build_counter(redis_url: str | None, cap: int) -> Any:
    return RedisCounter(redis_url, cap) if redis_url else MemoryCounter(cap)
