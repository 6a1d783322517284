"""The stop watcher: a quiet reply with a stop request ends at once; busy and ended ones are left alone."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import pytest
from flask import Flask

from webapp.chat.broker import MemoryBroker
from webapp.chat.stops import QUIET_SECONDS, StopWatcher
from webapp.extensions import db
from webapp.models import User

from ..chat_helpers import make_reply, reply_state


@dataclass
class Reply:
    message_id: str
    text: str
    last_event_at: float
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
def watcher(app: Flask, broker: MemoryBroker) -> StopWatcher:
    with app.app_context():
        return StopWatcher(broker, db.engine)


def _quiet() -> float:
    return time.monotonic() - QUIET_SECONDS - 1


def test_a_quiet_reply_with_a_stop_request_is_saved_as_stopped(app: Flask, user: User, broker: MemoryBroker,
                                                              watcher: StopWatcher) -> None:
    reply = Reply(make_reply(app, user.id), "kept so far", _quiet())
    watcher.watch(reply)
    broker.open(reply.message_id)
    broker.request_stop(reply.message_id)
    watcher.check()
    assert reply_state(app, reply.message_id) == (3, "kept so far", "stopped")
    assert reply.announced == ["stopped"]
    watcher.close()


def test_busy_ended_and_unasked_replies_are_left_alone(app: Flask, user: User, broker: MemoryBroker,
                                                      watcher: StopWatcher) -> None:
    busy = Reply(make_reply(app, user.id), "busy", time.monotonic())  # its runner checks at its next event
    ended = Reply(make_reply(app, user.id), "ended", _quiet(), ended=True)  # its runner stopped it already
    unasked = Reply(make_reply(app, user.id), "unasked", _quiet())
    for reply in (busy, ended, unasked):
        watcher.watch(reply)
        broker.open(reply.message_id)
    broker.request_stop(busy.message_id)
    broker.request_stop(ended.message_id)
    watcher.check()
    for reply in (busy, ended, unasked):
        assert reply_state(app, reply.message_id) == (0, "", "streaming")
        assert reply.announced == []
    watcher.close()


def test_a_forgotten_reply_is_not_stopped(app: Flask, user: User, broker: MemoryBroker,
                                          watcher: StopWatcher) -> None:
    reply = Reply(make_reply(app, user.id), "finished by its runner", _quiet())
    watcher.watch(reply)
    watcher.forget(reply.message_id)
    broker.open(reply.message_id)
    broker.request_stop(reply.message_id)
    watcher.check()
    assert reply_state(app, reply.message_id) == (0, "", "streaming") and reply.announced == []
    watcher.close()
