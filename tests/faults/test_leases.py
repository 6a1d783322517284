"""Liveness by lease, the same for every process; Stop from any process; no several processes without Redis."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from webapp import create_app
from webapp.config import ConfigurationError
from webapp.extensions import db
from webapp.models import Message, User, utcnow

from ..chat_helpers import make_thread, one_branch, read_stream, reply_id_from, wait_for_reply, wait_for_text
from ..conftest import AuthActions, make_app
from ..fakes import FakeServer, token_reply

HX = {"HX-Request": "true", "HX-Target": "messages"}
ROOT = Path(__file__).resolve().parents[2]
EXPECTED = "".join(f"word{i} " for i in range(30))


@pytest.fixture(params=["anthropic"])
def provider(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def second(database_url: str, app_config: dict[str, Any]) -> Iterator[FlaskClient]:
    """The same user in a second process of the app (another app, its own broker), on the same database."""
    other = make_app(database_url, **app_config)
    client = other.test_client()
    AuthActions(client).login()
    yield client
    other.extensions["chat.runner"].shutdown()
    other.extensions["llm"].close()
    with other.app_context():
        db.session.remove()
        db.engine.dispose()


def _post(client: FlaskClient, thread_id: str) -> str:
    posted = client.post(f"/threads/{thread_id}/messages", data={"content": "Count"}, headers=HX)
    return reply_id_from(posted.get_data(as_text=True))


def test_another_process_shows_a_live_reply_as_live_and_follows_it_to_the_end(
    app: Flask, client: FlaskClient, user: User, fake: FakeServer, second: FlaskClient
) -> None:
    # What a graceful reload looks like to the new process: a reply of the old one still running.
    fake.script(token_reply(30, delay=0.05))
    thread_id = make_thread(app, user.id, model_provider="anthropic", title="Named", title_locked=True)
    reply_id = _post(client, thread_id)
    wait_for_text(app, reply_id)
    page = second.get(f"/threads/{thread_id}").get_data(as_text=True)
    assert "Interrupted" not in page and f"/messages/{reply_id}/stream" in page
    events = read_stream(second, reply_id)
    assert events[-1].event == "done" and "Interrupted" not in events[-1].data
    replaced = [e.data for e in events if e.event == "replace"]
    assert replaced and "word29" in events[-1].data
    reply = wait_for_reply(app, reply_id)
    assert (reply.status, reply.content) == ("complete", EXPECTED)


def test_stop_pressed_in_another_process_ends_the_reply_at_once(
    app: Flask, client: FlaskClient, user: User, fake: FakeServer, second: FlaskClient
) -> None:
    fake.script(token_reply(400, delay=0.02))
    thread_id = make_thread(app, user.id, model_provider="anthropic", title="Named", title_locked=True)
    reply_id = _post(client, thread_id)
    wait_for_text(app, reply_id)
    pressed = time.monotonic()
    assert second.post(f"/messages/{reply_id}/stop", headers=HX).status_code == 204
    reply = wait_for_reply(app, reply_id, timeout=5)
    assert time.monotonic() - pressed < 2.0  # the watcher looks five times a second; the rest is margin
    assert reply.status == "stopped" and reply.content.startswith("word0 ")
    assert read_stream(client, reply_id)[-1].event == "done"


def test_a_reply_whose_lease_has_lapsed_is_interrupted_for_every_process(
    app: Flask, client: FlaskClient, user: User, second: FlaskClient
) -> None:
    thread_id = make_thread(app, user.id)
    lease_until = utcnow() + timedelta(seconds=3)
    with app.app_context():
        db.session.add_all(
            one_branch(
                Message(thread_id=thread_id, role="user", content="Hi", created_at=utcnow()),
                Message(
                    id="held",
                    thread_id=thread_id,
                    role="assistant",
                    status="streaming",
                    content="Half of",
                    stream_seq=3,
                    created_at=utcnow(),
                    lease_until=lease_until,
                ),
            )
        )
        db.session.commit()
    # Held: whoever asks, it is being written (no process here runs it, but the lease says one does).
    assert "Writing" in second.get(f"/threads/{thread_id}").get_data(as_text=True)
    assert second.post(f"/threads/{thread_id}/messages", data={"content": "More"}, headers=HX).status_code == 409
    time.sleep(max(0.0, (lease_until - utcnow()).total_seconds()) + 0.1)
    events = read_stream(second, "held", after=3)
    assert [e.event for e in events] == ["done"] and "Interrupted" in events[0].data
    page = client.get(f"/threads/{thread_id}").get_data(as_text=True)
    assert "Half of" in page and "Interrupted" in page


def test_several_processes_without_redis_refuse_to_start() -> None:
    with pytest.raises(ConfigurationError, match="REDIS_URL is not set"):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x", "WEB_WORKERS": 3, "REDIS_URL": None})
    env = {**{k: v for k, v in os.environ.items() if k != "REDIS_URL"}, "WEB_WORKERS": "2"}
    gunicorn = Path(sys.executable).parent / "gunicorn"
    started = subprocess.run(
        [str(gunicorn), "--config", "gunicorn.conf.py", "--bind", "127.0.0.1:0", "webapp.wsgi:app"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert started.returncode != 0
    assert "WEB_WORKERS is 2 but REDIS_URL is not set" in started.stderr + started.stdout
