"""Choosing a model: the Model field suggests what the provider lists, and still takes any name."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from webapp.models import User

from ..chat_helpers import make_thread
from ..fakes import FakeAnthropic, error_reply
from .thread_data import get_thread


@pytest.fixture
def anthropic() -> Iterator[FakeAnthropic]:
    with FakeAnthropic(models=("claude-opus-9", "claude-haiku-9")) as fake:
        yield fake


@pytest.fixture
def app_config(anthropic: FakeAnthropic) -> dict[str, Any]:
    return {"ANTHROPIC_API_KEY": "test-key", "ANTHROPIC_BASE_URL": anthropic.url, "LLM_MAX_RETRIES": 0}


def options(html: str) -> list[str]:
    return re.findall(r'<option value="([^"]*)"', html)


def test_the_model_field_suggests_the_providers_models(
    client: FlaskClient, user: User, anthropic: FakeAnthropic
) -> None:
    response = client.get("/models?provider=anthropic", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert options(response.get_data(as_text=True)) == ["claude-sonnet-5-5", "claude-opus-9", "claude-haiku-9"]
    assert '<option value="claude-sonnet-5-5">Default</option>' in response.get_data(as_text=True)
    # Kept for a while: the next page does not ask the provider again.
    client.get("/models?provider=anthropic")
    assert len(anthropic.model_requests) == 1
    assert options(client.get("/models?provider=offline").get_data(as_text=True)) == ["offline"]


def test_a_provider_that_cannot_list_leaves_the_default_and_free_text(
    app: Flask, client: FlaskClient, user: User, anthropic: FakeAnthropic
) -> None:
    anthropic.models_failure = error_reply(503)
    assert options(client.get("/models?provider=anthropic").get_data(as_text=True)) == ["claude-sonnet-5-5"]
    response = client.post("/chats", data={"provider": "anthropic", "model": "claude-custom-fine-tune"})
    thread = get_thread(app, response.headers["Location"].removeprefix("/threads/"))
    assert (thread.model_provider, thread.model_name) == ("anthropic", "claude-custom-fine-tune")


def test_unknown_or_unconfigured_providers_have_no_list(client: FlaskClient, user: User) -> None:
    assert client.get("/models?provider=gemini").status_code == 404
    assert client.get("/models?provider=skynet").status_code == 404
    assert client.get("/models").status_code == 404


def test_forms_ask_for_the_chosen_providers_models(app: Flask, client: FlaskClient, user: User) -> None:
    new_chat = client.get("/chats/new").get_data(as_text=True)
    assert re.search(r'<select[^>]*hx-get="/models"[^>]*hx-target="#new-chat-models"', new_chat)
    assert re.search(r'<input[^>]*list="new-chat-models"', new_chat) and '<datalist id="new-chat-models">' in new_chat
    thread_id = make_thread(app, user.id, model_provider="anthropic", model_name="claude-opus-9")
    page = client.get(f"/threads/{thread_id}").get_data(as_text=True)
    assert re.search(r'<select id="thread-provider"[^>]*hx-get="/models"[^>]*hx-trigger="load, change"', page)
    assert re.search(r'<input id="thread-model"[^>]*value="claude-opus-9"[^>]*list="thread-model-options"', page)


def test_model_list_needs_a_login(app: Flask) -> None:
    response = app.test_client().get("/models?provider=anthropic")
    assert response.status_code == 303 and response.headers["Location"].startswith("/login")
