"""The checkpoint writer: the text of streaming replies reaches the database, never going back, and
the leases of the replies it tracks are renewed."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from flask import Flask

from webapp.chat import checkpoints
from webapp.chat.checkpoints import CheckpointWriter, Snapshot
from webapp.extensions import db
from webapp.models import Message, User, utcnow

from ..chat_helpers import make_reply, reply_state


@dataclass
class Source:
    message_id: str
    seq: int
    text: str
    tool_calls: list | None = None

    def snapshot(self) -> Snapshot:
        return Snapshot(self.seq, self.text, self.tool_calls)


@pytest.fixture
def writer(app: Flask) -> Iterator[CheckpointWriter]:
    with app.app_context():
        writer = CheckpointWriter(db.engine, interval=0.05)
    yield writer
    writer.close()


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


def test_a_checkpoint_never_overwrites_newer_text_or_an_ended_reply(
    app: Flask, user: User, writer: CheckpointWriter
) -> None:
    newer = make_reply(app, user.id, seq=9, content="saved by the runner")
    ended = make_reply(app, user.id, status="complete", seq=4, content="final")
    writer.changed(Source(newer, 5, "older"))
    writer.changed(Source(ended, 7, "final and more"))
    writer.flush()
    assert reply_state(app, newer) == (9, "saved by the runner", "streaming")
    assert reply_state(app, ended) == (4, "final", "complete")


def test_a_released_reply_is_not_written(app: Flask, user: User, writer: CheckpointWriter) -> None:
    message_id = make_reply(app, user.id)
    writer.changed(Source(message_id, 2, "x y"))
    writer.release(message_id)
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


def _lease(app: Flask, message_id: str):
    with app.app_context():
        return db.session.get(Message, message_id).lease_until


def test_a_checkpoint_renews_the_lease_and_keeps_the_tool_calls(
    app: Flask, user: User, writer: CheckpointWriter
) -> None:
    message_id = make_reply(app, user.id)
    calls = [{"id": "c1", "name": "create_task", "offset": 3, "activity": "Added task"}]
    writer.changed(Source(message_id, 2, "Hi ", calls))
    writer.flush()
    with app.app_context():
        saved = db.session.get(Message, message_id)
        assert saved.tool_calls == calls and saved.lease_until > utcnow()


def test_tracked_replies_keep_their_lease_without_new_text(app: Flask, user: User, monkeypatch) -> None:
    monkeypatch.setattr(checkpoints, "RENEW_SECONDS", 0.0)
    with app.app_context():  # flushed by hand only: a background flush could renew the lease mid-test
        writer = CheckpointWriter(db.engine, interval=3600)
    quiet = make_reply(app, user.id)
    writer.track(Source(quiet, 0, ""))
    writer.flush()
    first = _lease(app, quiet)
    assert first is not None and first > utcnow()
    writer.flush()
    assert _lease(app, quiet) > first
    writer.release(quiet)
    renewed = _lease(app, quiet)
    writer.flush()
    assert _lease(app, quiet) == renewed
    writer.close()


def test_a_reply_shown_interrupted_while_its_runner_was_cut_off_streams_again(
    app: Flask, user: User, writer: CheckpointWriter
) -> None:
    message_id = make_reply(app, user.id, status="interrupted", seq=2, content="Hel")
    writer.changed(Source(message_id, 5, "Hello wor"))
    writer.flush()
    assert reply_state(app, message_id) == (5, "Hello wor", "streaming")
