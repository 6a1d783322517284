"""Every request traceable by its id; no exception text or key shown to users or written to logs."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from webapp.models import User

from ..chat_helpers import make_thread, read_stream, reply_id_from, wait_for_reply
from ..fakes import FakeAnthropic, error_reply

KEY = "sk-ant-api03-Sup3rS3cretKeyThatMustNeverLeak0123456789"
HX = {"HX-Request": "true", "HX-Target": "messages"}
LogLines = Callable[[], list[dict[str, Any]]]


@pytest.fixture
def anthropic() -> Iterator[FakeAnthropic]:
    with FakeAnthropic() as fake:
        yield fake


@pytest.fixture
def app_config(anthropic: FakeAnthropic) -> dict[str, Any]:
    return {"ANTHROPIC_API_KEY": KEY, "ANTHROPIC_BASE_URL": anthropic.url, "LLM_MAX_RETRIES": 0}


@pytest.fixture
def log_lines(app: Flask) -> Iterator[LogLines]:
    """The app's log as written (JSON lines, through its own handler and filters)."""
    handler = logging.getLogger("webapp").handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    stream = io.StringIO()
    previous = handler.setStream(stream)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    handler.setStream(previous)


@pytest.fixture
def failing_view(app: Flask) -> str:
    """A page whose code fails with an exception that names a key, as a library's might.

    Added before the app's first request (list this fixture before `user`).
    """

    def fail() -> str:
        raise RuntimeError(f"connection refused for https://user:{KEY}@api.example.com")

    app.add_url_rule("/failing", "failing", fail)
    return "/failing"


def test_each_response_carries_its_request_id_and_each_log_line_too(
    client: FlaskClient, user: User, log_lines: LogLines
) -> None:
    first, second = client.get("/"), client.get("/tasks")
    ids = {first.headers["X-Request-ID"], second.headers["X-Request-ID"]}
    assert len(ids) == 2 and all(len(i) >= 16 for i in ids)
    requests = [line for line in log_lines() if line["logger"] == "webapp.request"]
    assert {line["request_id"] for line in requests} == ids
    assert all(line["user_id"] == user.id for line in requests)


def test_a_proxys_request_id_is_kept_and_a_crafted_one_replaced(client: FlaskClient, log_lines: LogLines) -> None:
    kept = client.get("/login", headers={"X-Request-ID": "4f2a9c1e0b7d4e3a"})
    assert kept.headers["X-Request-ID"] == "4f2a9c1e0b7d4e3a"
    forged = client.get("/login", headers={"X-Request-ID": 'x" injected level=error <b>'})
    assert forged.headers["X-Request-ID"] != 'x" injected level=error <b>'
    assert "injected" not in json.dumps(log_lines())


def test_an_error_page_shows_the_id_to_quote_and_no_exception_text(
    failing_view: str, client: FlaskClient, user: User, log_lines: LogLines
) -> None:
    response = client.get(failing_view)
    page = response.get_data(as_text=True)
    request_id = response.headers["X-Request-ID"]
    assert response.status_code == 500
    assert "Something went wrong" in page and f"quote this id: <code>{request_id}</code>" in page
    assert "RuntimeError" not in page and "connection refused" not in page and KEY not in page
    failure = next(line for line in log_lines() if line["message"] == "unhandled error")
    assert failure["request_id"] == request_id and failure["user_id"] == user.id
    assert "RuntimeError" in failure["exception"] and "[redacted]" in failure["exception"]
    assert KEY not in json.dumps(log_lines())


def test_htmx_error_fragments_carry_the_id_too(client: FlaskClient, user: User) -> None:
    response = client.get("/threads/no-such-thread", headers=HX)
    assert response.status_code == 404
    assert f"<code>{response.headers['X-Request-ID']}</code>" in response.get_data(as_text=True)


def test_a_provider_that_echoes_the_key_is_explained_in_words_and_the_key_never_logged(
    app: Flask, client: FlaskClient, user: User, anthropic: FakeAnthropic, log_lines: LogLines
) -> None:
    anthropic.script(error_reply(401, message=f"invalid x-api-key: {KEY}"))
    thread_id = make_thread(app, user.id, model_provider="anthropic")
    posted = client.post(f"/threads/{thread_id}/messages", data={"content": "Hi"}, headers=HX)
    reply_id = reply_id_from(posted.get_data(as_text=True))
    reply = wait_for_reply(app, reply_id)
    assert reply.error == "Anthropic rejected the API key; check ANTHROPIC_API_KEY."
    shown = read_stream(client, reply_id)[-1].data + client.get(f"/threads/{thread_id}").get_data(as_text=True)
    assert "rejected the API key" in shown and KEY not in shown and "invalid x-api-key" not in shown
    written = json.dumps(log_lines())
    assert "provider error" in written and KEY not in written
