"""A reply in progress keeps its whole text whatever the broker does, and resends it once the broker is back."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from webapp.chat.broker import BrokerUnavailable, MemoryBroker, StreamEvent
from webapp.chat.checkpoints import CheckpointWriter
from webapp.chat.writer import ReplyWriter
from webapp.extensions import db
from webapp.models import Message, User

from ..chat_helpers import make_reply


class DroppingBroker(MemoryBroker):
    """A memory broker that refuses events while `down`, as Redis does when it is unreachable."""

    down = False

    def publish(self, message_id: str, event: StreamEvent) -> None:
        if self.down:
            raise BrokerUnavailable("down")
        super().publish(message_id, event)


@pytest.fixture
def checkpoints(app: Flask) -> Iterator[CheckpointWriter]:
    with app.app_context():
        writer = CheckpointWriter(db.engine)
    yield writer
    writer.close()


def _writer(app: Flask, user: User, broker: MemoryBroker, checkpoints: CheckpointWriter, **fields) -> ReplyWriter:
    message_id = make_reply(app, user.id, **fields)
    broker.open(message_id)
    with app.app_context():
        return ReplyWriter(db.session.get(Message, message_id), broker, checkpoints)


def test_after_an_outage_the_whole_text_goes_out_before_what_follows(
    app: Flask, user: User, checkpoints: CheckpointWriter
) -> None:
    broker = DroppingBroker()
    writer = _writer(app, user, broker, checkpoints)
    writer.delta("Hel")
    broker.down = True
    writer.delta("lo ")
    writer.delta("wor")
    broker.down = False
    writer.delta("ld")
    writer.activity("Searched documents", {"id": "c1", "name": "search_documents", "offset": 11})
    events = broker.read(writer.message_id, 0, timeout=0.1)
    assert [(e.seq, e.kind, e.data) for e in events] == [
        (1, "delta", "Hel"),
        (4, "text", "Hello world"),
        (5, "tool", "Searched documents"),
    ]
    snapshot = writer.snapshot()
    assert (snapshot.seq, snapshot.text, [c["id"] for c in snapshot.tool_calls]) == (5, "Hello world", ["c1"])


def test_a_continued_reply_carries_on_with_its_text_and_numbers(
    app: Flask, user: User, checkpoints: CheckpointWriter
) -> None:
    broker = MemoryBroker()
    writer = _writer(app, user, broker, checkpoints, status="streaming", seq=7, content="Cut here, ")
    writer.delta("and on.")
    assert [(e.seq, e.data) for e in broker.read(writer.message_id, 7, timeout=0.1)] == [(8, "and on.")]
    assert writer.text == "Cut here, and on."


def test_nothing_is_published_after_a_stop(app: Flask, user: User, checkpoints: CheckpointWriter) -> None:
    broker = MemoryBroker()
    writer = _writer(app, user, broker, checkpoints)
    writer.delta("kept")
    assert writer.stop_now() == (1, "kept")
    writer.delta(" dropped")
    assert writer.settle() is True  # the runner learns that a stop ended the reply
    writer.announce_end("stopped")
    writer.announce_end("stopped")
    assert [(e.kind, e.data) for e in broker.read(writer.message_id, 0, timeout=0.1)] == [
        ("delta", "kept"),
        ("done", "stopped"),
    ]
