"""The checkpoint writer: the text of streaming replies reaches the database, never going back."""

from __future__ import annotations

import time
from dataclasses import dataclass

import pytest
from flask import Flask

from webapp.chat.checkpoints import CheckpointWriter
from webapp.extensions import db
from webapp.models import User

from ..chat_helpers import make_reply, reply_state


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


def test_every_changed_reply_is_saved_in_one_flush(app: Flask, user: User, writer: CheckpointWriter) -> None:
    first, second = make_reply(app, user.id), make_reply(app, user.id)
    writer.changed(Source(first, 3, "one two three"))
    writer.changed(Source(second, 1, "alpha"))
    writer.flush()
    assert reply_state(app, first) == (3, "one two three", "streaming")
    assert reply_state(app, second) == (1, "alpha", "streaming")


def test_the_latest_text_is_read_when_the_flush_happens(app: Flask, user: User, writer: CheckpointWriter) -> None:
    message_id = make_reply(app, user.id)
    source = Source(message_id, 1, "a")
    writer.changed(source)
    source.seq, source.text = 2, "a b"
    writer.flush()
    assert reply_state(app, message_id)[:2] == (2, "a b")


def test_a_checkpoint_never_overwrites_newer_text_or_an_ended_reply(app: Flask, user: User,
                                                                  writer: CheckpointWriter) -> None:
    newer = make_reply(app, user.id, seq=9, content="saved by the runner")
    ended = make_reply(app, user.id, status="complete", seq=4, content="final")
    writer.changed(Source(newer, 5, "older"))
    writer.changed(Source(ended, 7, "final and more"))
    writer.flush()
    assert reply_state(app, newer) == (9, "saved by the runner", "streaming")
    assert reply_state(app, ended) == (4, "final", "complete")


def test_a_discarded_reply_is_not_written(app: Flask, user: User, writer: CheckpointWriter) -> None:
    message_id = make_reply(app, user.id)
    writer.changed(Source(message_id, 2, "x y"))
    writer.discard(message_id)
    writer.flush()
    assert reply_state(app, message_id)[:2] == (0, "")


def test_the_background_thread_saves_without_being_asked(app: Flask, user: User, writer: CheckpointWriter) -> None:
    message_id = make_reply(app, user.id)
    writer.changed(Source(message_id, 1, "streamed"))
    deadline = time.monotonic() + 5
    while reply_state(app, message_id)[0] != 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    saved = reply_state(app, message_id)  # read before close(), which would flush by itself
    writer.close()
    assert saved[:2] == (1, "streamed")
