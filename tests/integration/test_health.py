"""`/healthz` and `/readyz`, as a proxy or an orchestrator asks them: no session, no details."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask.testing import FlaskClient

from webapp.extensions import db

from ..conftest import make_app
from ..unit.chat.test_broker import REDIS_URL, _redis_or_skip


def closed_port() -> int:
    """A loopback port that nothing listens on: a store that is down."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def client_of(database_url: str, **overrides: Any) -> Iterator[FlaskClient]:
    app = make_app(database_url, **overrides)
    try:
        yield app.test_client()
    finally:
        app.extensions["chat.runner"].shutdown()
        app.extensions["llm"].close()
        with app.app_context():
            db.engine.dispose()


def get(client: FlaskClient, url: str) -> tuple[int, str]:
    response = client.get(url)
    assert "Set-Cookie" not in response.headers, "a health check must not start a session"
    assert response.headers["Cache-Control"] == "no-store"
    return response.status_code, response.get_data(as_text=True)


def test_a_live_process_with_its_database_is_alive_and_ready(client: FlaskClient) -> None:
    assert get(client, "/healthz") == (200, "alive\n")
    assert get(client, "/readyz") == (200, "ready\n")


def test_ready_checks_redis_when_it_is_configured(database_url: str) -> None:
    _redis_or_skip()
    with client_of(database_url, REDIS_URL=REDIS_URL) as client:
        assert get(client, "/readyz") == (200, "ready\n")


def test_a_process_without_its_redis_is_alive_but_not_ready(database_url: str) -> None:
    with client_of(database_url, REDIS_URL=f"redis://127.0.0.1:{closed_port()}/0") as client:
        assert get(client, "/healthz") == (200, "alive\n")
        assert get(client, "/readyz") == (503, "not ready\n")


def test_a_process_without_its_database_is_not_ready_and_says_no_more() -> None:
    url = f"postgresql+psycopg://ba:secret-password@127.0.0.1:{closed_port()}/ba_assistant"
    with client_of(url) as client:
        assert get(client, "/readyz") == (503, "not ready\n")
