"""The stop watcher: a reply with a stop request (in the broker or in the database) ends at once;
ended, unasked and forgotten ones are left alone."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from flask import Flask

from webapp.chat.broker import MemoryBroker
from webapp.chat.stops import StopWatcher
from webapp.extensions import db
from webapp.models import Message, User

from ..chat_helpers import make_reply, reply_state


@dataclass
class Reply:
    message_id: str
    text: str
    ended: bool = False
    announced: list[str] = field(default_factory=list)

    def stop_now(self) -> tuple[int, str] | None:
        if self.ended:
            return None
        self.ended = True
        return 3, self.text

    def announce_end(self, status: str) -> None:
        self.announced.append(status)


@pytest.fixture
def broker() -> MemoryBroker:
    return MemoryBroker()


@pytest.fixture
def watcher(app: Flask, broker: MemoryBroker) -> Iterator[StopWatcher]:
    with app.app_context():
        watcher = StopWatcher(broker, db.engine)
    yield watcher
    watcher.close()


def _watched(
    app: Flask, user: User, watcher: StopWatcher, broker: MemoryBroker, text: str, *, stop: bool, ended: bool = False
) -> Reply:
    reply = Reply(make_reply(app, user.id), text, ended=ended)
    watcher.watch(reply)
    broker.open(reply.message_id)
    if stop:
        broker.request_stop(reply.message_id)
    return reply


def test_a_reply_with_a_stop_request_is_saved_as_stopped(
    app: Flask, user: User, broker: MemoryBroker, watcher: StopWatcher
) -> None:
    reply = _watched(app, user, watcher, broker, "kept so far", stop=True)
    watcher.check()
    assert reply_state(app, reply.message_id) == (3, "kept so far", "stopped")
    assert reply.announced == ["stopped"]


def test_ended_and_unasked_replies_are_left_alone(
    app: Flask, user: User, broker: MemoryBroker, watcher: StopWatcher
) -> None:
    ended = _watched(app, user, watcher, broker, "ended", stop=True, ended=True)  # its runner ended it
    unasked = _watched(app, user, watcher, broker, "unasked", stop=False)
    watcher.check()
    for reply in (ended, unasked):
        assert reply_state(app, reply.message_id) == (0, "", "streaming")
        assert reply.announced == []


def test_a_forgotten_reply_is_not_stopped(app: Flask, user: User, broker: MemoryBroker, watcher: StopWatcher) -> None:
    reply = _watched(app, user, watcher, broker, "finished by its runner", stop=True)
    watcher.forget(reply.message_id)
    watcher.check()
    assert reply_state(app, reply.message_id) == (0, "", "streaming") and reply.announced == []


def test_a_stop_requested_through_the_database_alone_is_seen(
    app: Flask, user: User, broker: MemoryBroker, watcher: StopWatcher
) -> None:
    # Pressed in another process, whose broker this one does not share.
    reply = _watched(app, user, watcher, broker, "kept", stop=False)
    with app.app_context():
        db.session.get(Message, reply.message_id).stop_requested = True
        db.session.commit()
    watcher.check()
    assert reply_state(app, reply.message_id) == (3, "kept", "stopped") and reply.announced == ["stopped"]
