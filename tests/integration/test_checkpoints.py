"""The checkpoint writer: the text of streaming replies reaches the database, never going back."""

from __future__ import annotations

import time
from dataclasses import dataclass

import pytest
from flask import Flask

from webapp.chat.checkpoints import CheckpointWriter
from webapp.extensions import db
from webapp.models import Message, User, utcnow

from ..chat_helpers import make_thread


@dataclass
class Source:
    message_id: str
    seq: int
    text: str

    def snapshot(self) -> tuple[int, str]:
        return self.seq, self.text


@pytest.fixture
def writer(app: Flask) -> CheckpointWriter:
    with app.app_context():
        return CheckpointWriter(db.engine, interval=0.05)


def _reply(app: Flask, user: User, *, status: str = "streaming", seq: int = 0, content: str = "") -> str:
    thread_id = make_thread(app, user.id)
    with app.app_context():
        message = Message(thread_id=thread_id, role="assistant", status=status, content=content,
                          stream_seq=seq, created_at=utcnow())
        db.session.add(message)
        db.session.commit()
        return message.id


def _saved(app: Flask, message_id: str) -> tuple[int, str, str]:
    with app.app_context():
        message = db.session.get(Message, message_id)
        return message.stream_seq, message.content, message.status


def test_every_changed_reply_is_saved_in_one_flush(app: Flask, user: User, writer: CheckpointWriter) -> None:
    first, second = _reply(app, user), _reply(app, user)
    writer.changed(Source(first, 3, "one two three"))
    writer.changed(Source(second, 1, "alpha"))
    writer.flush()
    assert _saved(app, first) == (3, "one two three", "streaming")
    assert _saved(app, second) == (1, "alpha", "streaming")


def test_the_latest_text_is_read_when_the_flush_happens(app: Flask, user: User, writer: CheckpointWriter) -> None:
    message_id = _reply(app, user)
    source = Source(message_id, 1, "a")
    writer.changed(source)
    source.seq, source.text = 2, "a b"
    writer.flush()
    assert _saved(app, message_id)[:2] == (2, "a b")


def test_a_checkpoint_never_overwrites_newer_text_or_an_ended_reply(app: Flask, user: User,
                                                                  writer: CheckpointWriter) -> None:
    newer = _reply(app, user, seq=9, content="saved by the runner")
    ended = _reply(app, user, status="complete", seq=4, content="final")
    writer.changed(Source(newer, 5, "older"))
    writer.changed(Source(ended, 7, "final and more"))
    writer.flush()
    assert _saved(app, newer) == (9, "saved by the runner", "streaming")
    assert _saved(app, ended) == (4, "final", "complete")


def test_a_discarded_reply_is_not_written(app: Flask, user: User, writer: CheckpointWriter) -> None:
    message_id = _reply(app, user)
    writer.changed(Source(message_id, 2, "x y"))
    writer.discard(message_id)
    writer.flush()
    assert _saved(app, message_id)[:2] == (0, "")


def test_the_background_thread_saves_without_being_asked(app: Flask, user: User, writer: CheckpointWriter) -> None:
    message_id = _reply(app, user)
    writer.changed(Source(message_id, 1, "streamed"))
    deadline = time.monotonic() + 5
    while _saved(app, message_id)[0] != 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    saved = _saved(app, message_id)  # read before close(), which would flush by itself
    writer.close()
    assert saved[:2] == (1, "streamed")
