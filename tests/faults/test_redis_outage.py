"""Redis is optional at every moment: killed mid-reply and started again, nothing answers 500 and no reply is lost."""

from __future__ import annotations

import uuid

import pytest

from webapp.chat.broker import RedisBroker

from ..databases import fresh_postgres_database, require_postgres
from .scenarios import redis_outage
from .servers import OwnRedis


@pytest.mark.timeout(90)
def test_replies_logins_posts_and_stops_survive_redis_killed_and_restarted(own_redis: OwnRedis) -> None:
    require_postgres()
    with fresh_postgres_database() as url:
        outcome = redis_outage(own_redis, url)
    assert outcome.replies == 7
    assert outcome.damaged == [] and outcome.errors_500 == 0


def test_a_stream_quiet_for_longer_than_a_socket_timeout_is_not_cut(own_redis: OwnRedis) -> None:
    # redis-py waits 5 s on a socket by default; a reader blocks for longer than that.
    broker = RedisBroker(own_redis.url)
    message_id = f"m-{uuid.uuid4()}"
    broker.open(message_id)
    assert list(broker.read(message_id, 0, timeout=5.5)) == []
