"""The SSE text: backlog first, then live events, heartbeats, and an explicit end."""

from __future__ import annotations

import sqlalchemy as sa

from webapp.chat.broker import BrokerUnavailable, MemoryBroker, StreamEvent
from webapp.chat.sse import Checkpoint, StreamViews, relay, sse
from webapp.chat.streams import MemoryCounter, StreamSlot


def _views(streaming: bool = True, seq: int = 0, text: str = "") -> StreamViews:
    return StreamViews(
        final_bubble=lambda: "<article>final</article>",
        activity=lambda text: f"<li>{text}</li>",
        replacement=lambda text: f"<div>{text}</div>",
        checkpoint=lambda: Checkpoint(seq, text, streaming),
        following_bubble=lambda: "<article>following</article>",
    )


def _slot() -> StreamSlot:
    return StreamSlot(MemoryCounter(8), "user")


def test_multiline_data_gets_one_field_per_line() -> None:
    assert sse("a\nb", event="delta", event_id=3) == "id: 3\nevent: delta\ndata: a\ndata: b\n\n"


def test_every_line_break_form_starts_a_new_data_field() -> None:
    # EventSource ends a line at CRLF, at a lone CR and at a lone LF: each must start a field of
    # its own, or text after a CR would be read as a field of the event (an event name, an id).
    forged = "one\r\ntwo\rthree\nevent: done\rid: 99\r\r\ndata: x"
    assert sse(forged, event="delta", event_id=3) == (
        "id: 3\nevent: delta\n"
        "data: one\ndata: two\ndata: three\ndata: event: done\ndata: id: 99\ndata: \ndata: data: x\n\n"
    )


def test_relay_sends_the_backlog_after_the_given_number_then_done() -> None:
    broker = MemoryBroker()
    broker.open("m")
    for seq, (kind, data) in enumerate(
        [("delta", "Hel"), ("delta", "lo <b>"), ("tool", "Searched"), ("done", "complete")], 1
    ):
        broker.publish("m", StreamEvent(seq, kind, data))
    out = list(relay(broker, "m", 1, _views(), _slot()))
    assert out == [
        "retry: 1000\n\n",
        # What had arrived goes out in one write; the end, rendered from the database, after it.
        "id: 2\nevent: delta\ndata: lo &lt;b&gt;\n\nid: 3\nevent: tool\ndata: <li>Searched</li>\n\n",
        "id: 4\nevent: done\ndata: <article>final</article>\n\n",
    ]


def test_the_text_goes_out_before_the_final_bubble_is_rendered() -> None:
    broker = MemoryBroker()
    broker.open("m")
    broker.publish("m", StreamEvent(1, "delta", "All of it"))
    broker.publish("m", StreamEvent(2, "done", "complete"))
    rendered: list[str] = []
    views = StreamViews(lambda: rendered.append("final") or "final", str, str, lambda: Checkpoint(0, "", True), str)
    stream = relay(broker, "m", 0, views, _slot())
    assert next(stream) == "retry: 1000\n\n"
    assert next(stream) == "id: 1\nevent: delta\ndata: All of it\n\n"
    # The reader has the text while the final bubble is still to be read from the database.
    assert rendered == []
    assert next(stream) == "id: 2\nevent: done\ndata: final\n\n"
    assert rendered == ["final"]


def test_relay_sends_heartbeats_while_waiting_and_done_when_the_reply_ended_elsewhere() -> None:
    broker = MemoryBroker()
    broker.open("m")
    states = iter([True, False])
    views = StreamViews(lambda: "final", str, str, lambda: Checkpoint(0, "", next(states)), str)
    out = list(relay(broker, "m", 0, views, _slot(), heartbeat=0.01))
    assert out == ["retry: 1000\n\n", ": ping\n\n", "event: done\ndata: final\n\n"]


def test_relay_follows_checkpoints_when_the_broker_does_not_know_the_reply() -> None:
    points = iter([Checkpoint(3, "Hello", True), Checkpoint(3, "Hello", True), Checkpoint(5, "Hello there", False)])
    views = StreamViews(lambda: "final", str, lambda text: f"<div>{text}</div>", lambda: next(points), str)
    out = list(relay(MemoryBroker(), "unknown", 0, views, _slot(), heartbeat=60))
    assert out == [
        "retry: 1000\n\n",
        "id: 3\nevent: replace\ndata: <div>Hello</div>\n\n",
        "event: done\ndata: final\n\n",
    ]


class UnreachableBroker(MemoryBroker):
    """A memory broker that can be cut off, as Redis is when it goes down."""

    down = False

    def read(self, message_id, after, timeout):  # type: ignore[no-untyped-def]
        if self.down:
            raise BrokerUnavailable("down")
        return super().read(message_id, after, timeout)


def test_relay_follows_checkpoints_while_the_broker_is_unreachable() -> None:
    broker = UnreachableBroker()
    broker.open("m")
    broker.down = True
    points = iter([Checkpoint(4, "Hello", True), Checkpoint(6, "Hello there", False)])
    views = StreamViews(lambda: "final", str, lambda text: f"<div>{text}</div>", lambda: next(points), str)
    out = list(relay(broker, "m", 2, views, _slot(), heartbeat=60))
    assert out == [
        "retry: 1000\n\n",
        "id: 4\nevent: replace\ndata: <div>Hello</div>\n\n",
        "event: done\ndata: final\n\n",
    ]


def test_relay_follows_checkpoints_when_the_broker_lost_events() -> None:
    # Redis restarted empty: the first event it has is past the reader's next one.
    broker = MemoryBroker()
    broker.open("m")
    broker.publish("m", StreamEvent(7, "delta", "late"))
    views = StreamViews(
        lambda: "final", str, lambda text: f"<div>{text}</div>", lambda: Checkpoint(7, "all of it late", False), str
    )
    assert list(relay(broker, "m", 3, views, _slot()))[1:] == ["event: done\ndata: final\n\n"]


def test_the_whole_text_resent_after_an_outage_replaces_what_the_page_shows() -> None:
    broker = MemoryBroker()
    broker.open("m")
    broker.publish("m", StreamEvent(5, "text", "All <b>so far"))
    broker.publish("m", StreamEvent(6, "done", "complete"))
    out = list(relay(broker, "m", 2, _views(), _slot()))
    assert out[1:] == [
        "id: 5\nevent: replace\ndata: <div>All <b>so far</div>\n\n",
        "id: 6\nevent: done\ndata: <article>final</article>\n\n",
    ]


def test_relay_waits_out_a_database_it_cannot_read_and_ends_without_done_if_it_cannot_render() -> None:
    broker = MemoryBroker()
    broker.open("m")
    calls = iter([sa.exc.OperationalError("SELECT", {}, Exception("down")), Checkpoint(0, "", False)])

    def checkpoint() -> Checkpoint:
        outcome = next(calls)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def final_bubble() -> str:
        raise sa.exc.OperationalError("SELECT", {}, Exception("down again"))

    views = StreamViews(final_bubble, str, str, checkpoint, str)
    # No `done`: the client reconnects, and the stream route sends it from the database.
    assert list(relay(broker, "m", 0, views, _slot(), heartbeat=0.01)) == ["retry: 1000\n\n", ": ping\n\n"]


def test_a_stream_closed_by_a_newer_one_ends_with_the_bubble_that_follows_the_reply(monkeypatch) -> None:
    from webapp.chat import streams

    monkeypatch.setattr(streams, "CHECK_SECONDS", 0.0)
    counter = MemoryCounter(1)
    broker = MemoryBroker()
    broker.open("m")
    broker.publish("m", StreamEvent(1, "delta", "Hel"))
    oldest = StreamSlot(counter, "user")
    out = relay(broker, "m", 0, _views(), oldest)
    assert next(out) == "retry: 1000\n\n"
    assert next(out) == "id: 1\nevent: delta\ndata: Hel\n\n"
    StreamSlot(counter, "user")  # one more tab of the same user's
    assert list(out) == ["event: fallback\ndata: <article>following</article>\n\n"]
