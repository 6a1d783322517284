"""Per-user limits on posting messages and uploading, answered with 429 and a sentence."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from webapp.models import User

from ..chat_helpers import make_thread, messages_of, reply_id_from, wait_for_reply
from ..conftest import other_client
from .test_projects import create_project, upload

HX = {"HX-Request": "true", "HX-Target": "messages"}


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"CHAT_RATE_LIMIT": "2 per minute", "UPLOAD_RATE_LIMIT": "2 per minute"}


def post_and_finish(app: Flask, client: FlaskClient, thread_id: str, content: str = "Hello") -> int:
    """Post a message as the page does; wait for its reply so that the next one may start."""
    response = client.post(f"/threads/{thread_id}/messages", data={"content": content}, headers=HX)
    if response.status_code == 200:
        wait_for_reply(app, reply_id_from(response.get_data(as_text=True)))
    return response.status_code


def test_posting_faster_than_the_limit_is_refused_in_words(app: Flask, client: FlaskClient, user: User) -> None:
    thread_id = make_thread(app, user.id)
    assert [post_and_finish(app, client, thread_id) for _ in range(2)] == [200, 200]
    refused = client.post(f"/threads/{thread_id}/messages", data={"content": "Once more"}, headers=HX)
    assert refused.status_code == 429
    text = refused.get_data(as_text=True)
    assert "You are sending messages faster than this server allows (2 per minute)" in text
    assert int(refused.headers["Retry-After"]) > 0
    reply_id = messages_of(app, thread_id)[-1].id
    regenerate = client.post(f"/threads/{thread_id}/messages/{reply_id}/regenerate")
    assert regenerate.status_code == 429, "regenerating starts a reply too, and shares the allowance"
    page = client.post(f"/threads/{thread_id}/messages", data={"content": "Without JavaScript"})
    assert page.status_code == 429 and "<title>Slow down" in page.get_data(as_text=True)


def test_the_limit_is_per_user(app: Flask, client: FlaskClient, user: User) -> None:
    thread_id = make_thread(app, user.id)
    for _ in range(2):
        post_and_finish(app, client, thread_id)
    assert post_and_finish(app, client, thread_id) == 429
    colleague = other_client(app)
    colleague_thread = make_thread(app, _user_id(app, "ben@example.com"))
    assert post_and_finish(app, colleague, colleague_thread) == 200


def test_refused_messages_do_not_count(app: Flask, client: FlaskClient, user: User) -> None:
    thread_id = make_thread(app, user.id)
    for _ in range(3):
        empty = client.post(f"/threads/{thread_id}/messages", data={"content": "   "}, headers=HX)
        assert empty.status_code == 422
    assert [post_and_finish(app, client, thread_id) for _ in range(2)] == [200, 200]


def test_uploading_faster_than_the_limit_is_refused_in_words(client: FlaskClient, user: User) -> None:
    project_id = create_project(client)
    for n in range(2):
        assert upload(client, project_id, (f"Notes {n}.".encode(), f"notes{n}.txt")).status_code == 303
    refused = upload(client, project_id, (b"More notes.", "more.txt"))
    assert refused.status_code == 429
    assert "You are uploading faster than this server allows (2 per minute)" in refused.get_data(as_text=True)


class TestWithoutItsRedis:
    @pytest.fixture
    def app_config(self) -> dict[str, Any]:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        return {"CHAT_RATE_LIMIT": "2 per minute", "RATELIMIT_STORAGE_URI": f"redis://127.0.0.1:{port}/0"}

    def test_limits_are_counted_in_memory_and_nothing_fails(self, app: Flask, client: FlaskClient, user: User) -> None:
        thread_id = make_thread(app, user.id)
        assert [post_and_finish(app, client, thread_id) for _ in range(3)] == [200, 200, 429]


def _user_id(app: Flask, email: str) -> str:
    from webapp.auth.service import find_by_email

    with app.app_context():
        return find_by_email(email).id
