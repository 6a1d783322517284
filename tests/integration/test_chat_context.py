"""Long conversations: older turns are summarised by the thread's model, never silently dropped."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from webapp.extensions import db
from webapp.models import Message, Thread, User, utcnow

from ..chat_helpers import make_thread, one_branch, reply_id_from, wait_for_reply
from ..fakes import FakeOpenAI, text_reply


@pytest.fixture
def local() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        yield fake


@pytest.fixture
def app_config(local: FakeOpenAI) -> dict[str, Any]:
    # A local server's window is small (8k tokens), so a long chat overflows it quickly.
    return {"OPENAI_COMPATIBLE_BASE_URL": local.url + "/v1", "LLM_MAX_RETRIES": 0}


def _long_history(app: Flask, thread_id: str, exchanges: int) -> None:
    start = utcnow() - timedelta(hours=1)
    with app.app_context():
        db.session.add_all(
            one_branch(
                *(
                    message
                    for i in range(exchanges)
                    for message in (
                        Message(
                            thread_id=thread_id,
                            role="user",
                            content=f"Requirement {i}: " + "detail " * 300,
                            created_at=start + timedelta(seconds=2 * i),
                        ),
                        Message(
                            thread_id=thread_id,
                            role="assistant",
                            content=f"Noted requirement {i}.",
                            created_at=start + timedelta(seconds=2 * i + 1),
                        ),
                    )
                )
            )
        )
        db.session.commit()


def test_overflowing_turns_are_summarised_and_the_summary_is_kept(
    app: Flask, client: FlaskClient, user: User, local: FakeOpenAI
) -> None:
    thread_id = make_thread(app, user.id, model_provider="openai_compatible", title="Long one", title_locked=True)
    _long_history(app, thread_id, exchanges=20)
    local.script(text_reply("- Requirements 0 to 12 were captured."), text_reply("Here is the next question."))
    reply_id = reply_id_from(
        client.post(
            f"/threads/{thread_id}/messages", data={"content": "What next?"}, headers={"HX-Request": "true"}
        ).get_data(as_text=True)
    )
    assert wait_for_reply(app, reply_id).content == "Here is the next question."

    summary_request, reply_request = (r.json() for r in local.requests)
    assert "keep the memory" in summary_request["messages"][0]["content"]
    assert "Requirement 0:" in summary_request["messages"][1]["content"]
    system = reply_request["messages"][0]["content"]
    assert "Summary of the earlier part of this conversation:\n- Requirements 0 to 12 were captured." in system
    sent = " ".join(str(m.get("content")) for m in reply_request["messages"][1:])
    assert "Requirement 0:" not in sent and "Requirement 19:" in sent and "What next?" in sent
    with app.app_context():
        thread = db.session.get(Thread, thread_id)
        assert thread.history_summary == "- Requirements 0 to 12 were captured."
        assert thread.history_summary_through is not None
    assert "Older turns of this chat are summarised" in client.get(f"/threads/{thread_id}").get_data(as_text=True)

    local.script(text_reply("Another answer."))
    second = reply_id_from(
        client.post(
            f"/threads/{thread_id}/messages", data={"content": "And then?"}, headers={"HX-Request": "true"}
        ).get_data(as_text=True)
    )
    assert wait_for_reply(app, second).content == "Another answer."
    assert len(local.requests) == 3, "the stored summary still covers what falls out, so no new summary call"


def test_a_failing_summary_falls_back_to_the_start_of_each_turn(
    app: Flask, client: FlaskClient, user: User, local: FakeOpenAI
) -> None:
    from ..fakes import error_reply

    thread_id = make_thread(app, user.id, model_provider="openai_compatible", title="Long", title_locked=True)
    _long_history(app, thread_id, exchanges=20)
    local.script(error_reply(500), text_reply("Still answering."))
    reply_id = reply_id_from(
        client.post(
            f"/threads/{thread_id}/messages", data={"content": "Go on"}, headers={"HX-Request": "true"}
        ).get_data(as_text=True)
    )
    assert wait_for_reply(app, reply_id).content == "Still answering."
    system = local.requests[1].json()["messages"][0]["content"]
    assert "- user: Requirement 0: detail" in system
