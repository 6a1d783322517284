"""Whether this process can serve: the stores it depends on answer."""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa

log = logging.getLogger(__name__)

# A store that takes longer than this to answer a ping is as good as down for a user.
TIMEOUT_SECONDS = 2.0


def database_answers(engine: sa.Engine) -> bool:
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError as error:
        log.warning("database unreachable", extra={"error": type(error).__name__})
        return False
    return True


def redis_client(url: str) -> Any:
    """A client of its own for the check, with short timeouts (the app's may wait longer)."""
    import redis

    return redis.Redis.from_url(url, socket_connect_timeout=TIMEOUT_SECONDS, socket_timeout=TIMEOUT_SECONDS)


def redis_answers(client: Any) -> bool:
    import redis

    try:
        client.ping()
    except redis.RedisError as error:
        log.warning("redis unreachable", extra={"error": type(error).__name__})
        return False
    return True
