"""The SSE text: backlog first, then live events, heartbeats, and an explicit end."""

from __future__ import annotations

from webapp.chat.broker import MemoryBroker, StreamEvent
from webapp.chat.sse import Checkpoint, StreamViews, relay, sse


def _views(streaming: bool = True, seq: int = 0, text: str = "") -> StreamViews:
    return StreamViews(
        final_bubble=lambda: "<article>final</article>",
        activity=lambda text: f"<li>{text}</li>",
        replacement=lambda text: f"<div>{text}</div>",
        checkpoint=lambda: Checkpoint(seq, text, streaming),
    )


def test_multiline_data_gets_one_field_per_line() -> None:
    assert sse("a\nb", event="delta", event_id=3) == "id: 3\nevent: delta\ndata: a\ndata: b\n\n"


def test_every_line_break_form_starts_a_new_data_field() -> None:
    # EventSource ends a line at CRLF, at a lone CR and at a lone LF: each must start a field of
    # its own, or text after a CR would be read as a field of the event (an event name, an id).
    forged = "one\r\ntwo\rthree\nevent: done\rid: 99\r\r\ndata: x"
    assert sse(forged, event="delta", event_id=3) == (
        "id: 3\nevent: delta\n"
        "data: one\ndata: two\ndata: three\ndata: event: done\ndata: id: 99\ndata: \ndata: data: x\n\n")


def test_relay_sends_the_backlog_after_the_given_number_then_done() -> None:
    broker = MemoryBroker()
    broker.open("m")
    for seq, (kind, data) in enumerate([("delta", "Hel"), ("delta", "lo <b>"), ("tool", "Searched"), ("done", "complete")], 1):
        broker.publish("m", StreamEvent(seq, kind, data))
    out = list(relay(broker, "m", 1, _views()))
    assert out == [
        "retry: 1000\n\n",
        # What had arrived goes out in one write.
        "id: 2\nevent: delta\ndata: lo &lt;b&gt;\n\n"
        "id: 3\nevent: tool\ndata: <li>Searched</li>\n\n"
        "id: 4\nevent: done\ndata: <article>final</article>\n\n",
    ]


def test_relay_sends_heartbeats_while_waiting_and_done_when_the_reply_ended_elsewhere() -> None:
    broker = MemoryBroker()
    broker.open("m")
    states = iter([True, False])
    views = StreamViews(lambda: "final", str, str, lambda: Checkpoint(0, "", next(states)))
    out = list(relay(broker, "m", 0, views, heartbeat=0.01))
    assert out == ["retry: 1000\n\n", ": ping\n\n", "event: done\ndata: final\n\n"]


def test_relay_follows_checkpoints_when_the_broker_does_not_know_the_reply() -> None:
    points = iter([Checkpoint(3, "Hello", True), Checkpoint(3, "Hello", True), Checkpoint(5, "Hello there", False)])
    views = StreamViews(lambda: "final", str, lambda text: f"<div>{text}</div>", lambda: next(points))
    out = list(relay(MemoryBroker(), "unknown", 0, views, heartbeat=60))
    assert out == ["retry: 1000\n\n", "id: 3\nevent: replace\ndata: <div>Hello</div>\n\n", "event: done\ndata: final\n\n"]
