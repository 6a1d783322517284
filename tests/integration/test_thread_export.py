"""Exporting a chat as Markdown and JSON through HTTP."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from webapp.models import User

from .thread_data import START, add_message, add_project, add_thread

TOOL_CALLS = [{"id": "call_1", "name": "search_documents", "arguments": {"query": "scope"}, "result": "2 passages"}]


@pytest.fixture
def thread_id(app: Flask, user: User) -> str:
    project_id = add_project(app, user.id, "Acme rollout")
    thread_id = add_thread(
        app,
        user.id,
        title="Scope: phase 1 / billing",
        project_id=project_id,
        model_provider="anthropic",
        model_name="claude-test",
        conversation_mode="refinement",
        created_at=START,
        mode_changes=[
            {"at": (START + timedelta(minutes=2, seconds=30)).isoformat(), "from": "meeting", "to": "refinement"}
        ],
    )
    add_message(app, thread_id, "What is in scope?", created_at=START + timedelta(minutes=1))
    add_message(
        app,
        thread_id,
        "Billing and invoicing are in scope.",
        role="assistant",
        status="complete",
        provider="anthropic",
        model="claude-test",
        tool_calls=TOOL_CALLS,
        created_at=START + timedelta(minutes=2),
    )
    add_message(app, thread_id, "A retracted question", deleted_at=START, created_at=START + timedelta(minutes=3))
    add_message(
        app,
        thread_id,
        "Partial answ",
        role="assistant",
        status="error",
        error="The provider is unavailable.",
        provider="anthropic",
        model="claude-test",
        created_at=START + timedelta(minutes=4),
    )
    return thread_id


def test_markdown_export(client: FlaskClient, thread_id: str) -> None:
    response = client.get(f"/threads/{thread_id}/export.md")
    assert response.status_code == 200 and response.mimetype == "text/markdown"
    assert response.headers["Content-Disposition"] == 'attachment; filename="scope-phase-1-billing-2025-03-01.md"'
    text = response.get_data(as_text=True)
    assert text.startswith("# Scope: phase 1 / billing\n")
    assert "- Project: Acme rollout" in text and "- Provider: anthropic (claude-test)" in text
    assert "- Mode: refinement" in text
    assert "## User\n\n*2025-03-01T09:01:00Z · status: complete*\n\nWhat is in scope?" in text
    assert "## Assistant\n\n*2025-03-01T09:02:00Z · status: complete · anthropic claude-test*" in text
    assert '"name": "search_documents"' in text and "**Tool calls**" in text
    assert "status: error" in text and "> Error: The provider is unavailable." in text
    assert "retracted" not in text
    assert text.index("What is in scope?") < text.index("Billing and invoicing") < text.index("Partial answ")
    change = "*Mode changed from meeting to refinement at 2025-03-01T09:02:30Z.*"
    assert text.index("Billing and invoicing") < text.index(change) < text.index("Partial answ")


def test_json_export(client: FlaskClient, thread_id: str) -> None:
    response = client.get(f"/threads/{thread_id}/export.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Content-Disposition"] == 'attachment; filename="scope-phase-1-billing-2025-03-01.json"'
    document = json.loads(response.get_data(as_text=True))
    assert document["thread"]["title"] == "Scope: phase 1 / billing"
    assert document["thread"]["project"] == "Acme rollout" and document["thread"]["type"] == "ba_assistant"
    assert document["thread"]["created_at"] == "2025-03-01T09:00:00Z"
    assert document["thread"]["mode_changes"] == [{"at": "2025-03-01T09:02:30Z", "from": "meeting", "to": "refinement"}]
    assert document["exported_at"].endswith("Z")
    messages = document["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "assistant"]
    assert [m["status"] for m in messages] == ["complete", "complete", "error"]
    assert messages[1]["tool_calls"] == TOOL_CALLS and messages[0]["tool_calls"] == []
    assert messages[1]["created_at"] == "2025-03-01T09:02:00Z"
    assert (messages[1]["provider"], messages[1]["model"]) == ("anthropic", "claude-test")
    assert messages[2]["error"] == "The provider is unavailable."
    assert all("retracted" not in m["content"] for m in messages)


def test_untitled_chat_exports_with_a_generic_name(app: Flask, client: FlaskClient, user: User) -> None:
    thread_id = add_thread(app, user.id, thread_type="assistant", created_at=START)
    response = client.get(f"/threads/{thread_id}/export.md")
    assert response.headers["Content-Disposition"] == 'attachment; filename="chat-2025-03-01.md"'
    text = response.get_data(as_text=True)
    assert text.startswith("# Untitled chat\n") and "- Type: Assistant chat" in text


def test_the_chat_page_links_to_both_exports(client: FlaskClient, thread_id: str) -> None:
    page = client.get(f"/threads/{thread_id}").get_data(as_text=True)
    assert f"/threads/{thread_id}/export.md" in page and f"/threads/{thread_id}/export.json" in page
    assert "Scope: phase 1 / billing" in page
