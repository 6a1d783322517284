"""Each user's open streams are capped; the oldest gives way, in memory and in Redis alike."""

from __future__ import annotations

import uuid

import pytest

from webapp.chat.streams import MemoryCounter, RedisCounter

from .test_broker import REDIS_URL, _redis_or_skip


@pytest.fixture(params=["memory", "redis"])
def counter(request: pytest.FixtureRequest):
    if request.param == "memory":
        return MemoryCounter(2)
    _redis_or_skip()
    return RedisCounter(REDIS_URL, 2)


def test_a_stream_past_the_cap_closes_the_users_oldest(counter) -> None:
    user, other = f"u-{uuid.uuid4()}", f"u-{uuid.uuid4()}"
    for stream in ("a", "b"):
        counter.open(user, f"{user}-{stream}")
    counter.open(other, f"{other}-a")
    assert not any(counter.closed(f"{user}-{s}") for s in "ab")
    counter.open(user, f"{user}-c")
    assert counter.closed(f"{user}-a")
    assert not counter.closed(f"{user}-b") and not counter.closed(f"{user}-c")
    assert not counter.closed(f"{other}-a")  # another user's streams are theirs


def test_an_ended_stream_makes_room(counter) -> None:
    user = f"u-{uuid.uuid4()}"
    counter.open(user, f"{user}-a")
    counter.open(user, f"{user}-b")
    counter.release(user, f"{user}-a")
    counter.open(user, f"{user}-c")
    assert not counter.closed(f"{user}-b") and not counter.closed(f"{user}-c")


def test_processes_sharing_redis_count_together() -> None:
    _redis_or_skip()
    first, second, user = RedisCounter(REDIS_URL, 1), RedisCounter(REDIS_URL, 1), f"u-{uuid.uuid4()}"
    first.open(user, f"{user}-a")
    second.open(user, f"{user}-b")
    assert first.closed(f"{user}-a") and not second.closed(f"{user}-b")


def test_streams_are_counted_in_memory_while_redis_is_unreachable() -> None:
    counter, user = RedisCounter("redis://127.0.0.1:1/0", 1), f"u-{uuid.uuid4()}"
    counter.open(user, f"{user}-a")
    counter.open(user, f"{user}-b")
    assert counter.closed(f"{user}-a") and not counter.closed(f"{user}-b")
