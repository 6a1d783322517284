"""Both brokers deliver numbered events in order and resume after any number."""

from __future__ import annotations

import os
import threading
import time
import uuid

import pytest

from webapp.chat.broker import MemoryBroker, RedisBroker, StreamEvent

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _redis_or_skip() -> RedisBroker:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.exceptions.ConnectionError as error:
        if os.environ.get("REQUIRE_REDIS") == "1":
            pytest.fail(f"REQUIRE_REDIS=1 but Redis is not reachable at {REDIS_URL}: {error}", pytrace=False)
        pytest.skip(f"Redis is not reachable at {REDIS_URL}: {error}")
    return RedisBroker(REDIS_URL)


@pytest.fixture(params=["memory", "redis"])
def broker(request: pytest.FixtureRequest):
    return MemoryBroker() if request.param == "memory" else _redis_or_skip()


def _publish(broker, message_id: str, *texts: str, start: int = 1) -> None:
    for offset, text in enumerate(texts):
        broker.publish(message_id, StreamEvent(start + offset, "delta", text))


def test_unknown_reply_reads_as_none(broker) -> None:
    assert broker.read(f"m-{uuid.uuid4()}", 0, timeout=0.05) is None


def test_opened_reply_reads_empty_until_events_arrive(broker) -> None:
    message_id = f"m-{uuid.uuid4()}"
    broker.open(message_id)
    assert list(broker.read(message_id, 0, timeout=0.05)) == []


def test_events_resume_after_any_number(broker) -> None:
    message_id = f"m-{uuid.uuid4()}"
    broker.open(message_id)
    _publish(broker, message_id, "a", "b", "c")
    assert [e.data for e in broker.read(message_id, 0, timeout=0.1)] == ["a", "b", "c"]
    assert [(e.seq, e.data) for e in broker.read(message_id, 2, timeout=0.1)] == [(3, "c")]


def test_reader_wakes_when_an_event_is_published(broker) -> None:
    message_id = f"m-{uuid.uuid4()}"
    broker.open(message_id)
    timer = threading.Timer(0.1, _publish, args=(broker, message_id, "late"))
    started = time.monotonic()
    timer.start()
    events = broker.read(message_id, 0, timeout=5)
    assert [e.data for e in events] == ["late"]
    assert time.monotonic() - started < 2


def test_stop_requests_are_seen(broker) -> None:
    message_id, other = f"m-{uuid.uuid4()}", f"m-{uuid.uuid4()}"
    broker.open(message_id)
    broker.open(other)
    assert broker.stops_requested([message_id, other]) == set()
    broker.request_stop(message_id)
    assert broker.stops_requested([message_id, other]) == {message_id}
    assert broker.stops_requested([]) == set()


def test_closed_reply_stays_readable(broker) -> None:
    message_id = f"m-{uuid.uuid4()}"
    broker.open(message_id)
    _publish(broker, message_id, "x")
    broker.publish(message_id, StreamEvent(2, "done", "complete"))
    broker.close(message_id)
    assert [e.kind for e in broker.read(message_id, 0, timeout=0.1)] == ["delta", "done"]


def test_opening_a_reply_again_starts_its_events_afresh(broker) -> None:
    message_id = f"m-{uuid.uuid4()}"
    broker.open(message_id)
    _publish(broker, message_id, "a", "b")
    broker.publish(message_id, StreamEvent(3, "done", "cut"))
    broker.close(message_id)
    broker.open(message_id)  # a continued reply carries on with number 3
    _publish(broker, message_id, "c", start=3)
    assert [(e.seq, e.data) for e in broker.read(message_id, 2, timeout=0.1)] == [(3, "c")]


def test_the_memory_broker_forgets_replies_some_time_after_they_end(monkeypatch) -> None:
    from webapp.chat import broker as brokers

    memory = MemoryBroker()
    memory.open("old")
    memory.close("old")
    monkeypatch.setattr(brokers, "RETAIN_SECONDS", 0)
    time.sleep(0.01)
    memory.open("new")
    assert memory.read("old", 0, timeout=0) is None and memory.read("new", 0, timeout=0) == []


def _xread_calls() -> int:
    import redis

    stats = redis.Redis.from_url(REDIS_URL).info("commandstats")
    return int(stats.get("cmdstat_xread", {}).get("calls", 0))


def test_the_streams_of_a_process_share_its_redis_reads() -> None:
    broker = _redis_or_skip()
    message_id = f"m-{uuid.uuid4()}"
    broker.open(message_id)
    received: list[list[str]] = [[] for _ in range(20)]

    def follow(texts: list[str]) -> None:
        after = 0
        while len(texts) < 10:
            events = broker.read(message_id, after, timeout=2)
            texts += [event.data for event in events]
            after = events[-1].seq if events else after

    readers = [threading.Thread(target=follow, args=(texts,)) for texts in received]
    for reader in readers:
        reader.start()
    time.sleep(0.3)  # each has asked once
    before = _xread_calls()
    for n in range(10):
        _publish(broker, message_id, f"t{n}", start=n + 1)
        time.sleep(0.01)
    for reader in readers:
        reader.join(5)
    assert all(texts == [f"t{n}" for n in range(10)] for texts in received)
    # One read per event at most for all twenty, not one per event per reader.
    assert _xread_calls() - before <= 15


def test_a_reader_further_back_than_the_others_gets_its_backlog() -> None:
    broker = _redis_or_skip()
    message_id = f"m-{uuid.uuid4()}"
    broker.open(message_id)
    _publish(broker, message_id, "a", "b", "c")
    assert [e.data for e in broker.read(message_id, 2, timeout=0.1)] == ["c"]
    assert [e.data for e in broker.read(message_id, 0, timeout=0.1)] == ["a", "b", "c"]


def test_events_published_at_once_by_many_replies_are_all_stored_in_order() -> None:
    broker = _redis_or_skip()
    message_ids = [f"m-{uuid.uuid4()}" for _ in range(30)]
    for message_id in message_ids:
        broker.open(message_id)

    def write(message_id: str) -> None:
        for n in range(20):
            broker.publish(message_id, StreamEvent(n + 1, "delta", f"{message_id}:{n}"))

    writers = [threading.Thread(target=write, args=(message_id,)) for message_id in message_ids]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(10)
    for message_id in message_ids:
        assert [e.data for e in RedisBroker(REDIS_URL).read(message_id, 0, timeout=0.1)] == [
            f"{message_id}:{n}" for n in range(20)
        ]


def test_an_event_redis_refuses_fails_alone() -> None:
    from webapp.chat.broker import BrokerUnavailable

    broker = _redis_or_skip()
    message_id = f"m-{uuid.uuid4()}"
    broker.open(message_id)
    _publish(broker, message_id, "a", "b")
    with pytest.raises(BrokerUnavailable):
        broker.publish(message_id, StreamEvent(2, "delta", "again"))  # its number is taken
    _publish(broker, message_id, "c", start=3)
    assert [e.data for e in broker.read(message_id, 0, timeout=0.1)] == ["a", "b", "c"]
