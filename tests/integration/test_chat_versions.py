"""Versions of replies and messages through HTTP: regenerate, edit any message, switch, and actions by id."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from webapp.extensions import db
from webapp.models import Message, User, utcnow

from ..chat_helpers import make_thread, messages_of, reply_id_from, wait_for_reply
from ..conftest import other_client
from ..fakes.anthropic import FakeAnthropic
from ..fakes.script import text_reply

HX = {"HX-Request": "true", "HX-Target": "messages"}
HX_CONVERSATION = {"HX-Request": "true", "HX-Target": "conversation"}


@pytest.fixture
def anthropic() -> Iterator[FakeAnthropic]:
    with FakeAnthropic() as fake:
        yield fake


@pytest.fixture
def app_config(anthropic: FakeAnthropic) -> dict[str, Any]:
    return {"ANTHROPIC_API_KEY": "test-key", "ANTHROPIC_BASE_URL": anthropic.url, "LLM_MAX_RETRIES": 0}


@pytest.fixture
def thread_id(app: Flask, user: User) -> str:
    # A named chat: no title requests among the scripted replies.
    return make_thread(app, user.id, model_provider="anthropic", title="Versions", title_locked=True)


def ask(app: Flask, client: FlaskClient, thread_id: str, text: str) -> str:
    reply_id = reply_id_from(
        client.post(f"/threads/{thread_id}/messages", data={"content": text}, headers=HX).get_data(as_text=True)
    )
    wait_for_reply(app, reply_id)
    return reply_id


def act(client: FlaskClient, thread_id: str, message_id: str, action: str, **form: str):
    return client.post(f"/threads/{thread_id}/messages/{message_id}/{action}", data=form, headers=HX_CONVERSATION)


def page_of(client: FlaskClient, thread_id: str) -> str:
    return client.get(f"/threads/{thread_id}").get_data(as_text=True)


def counts(html: str) -> list[str]:
    return re.findall(r'<span class="version-count">(\d+/\d+)</span>', html)


def sent_texts(anthropic: FakeAnthropic) -> str:
    return str(anthropic.requests[-1].json()["messages"])


def test_regenerate_adds_versions_and_the_switch_survives_a_reload(
    app: Flask, client: FlaskClient, thread_id: str, anthropic: FakeAnthropic
) -> None:
    anthropic.script(text_reply("First answer"), text_reply("Second answer"), text_reply("Third answer"))
    first = ask(app, client, thread_id, "Which risks matter?")
    second = reply_id_from(act(client, thread_id, first, "regenerate").get_data(as_text=True))
    wait_for_reply(app, second)
    third_html = act(client, thread_id, second, "regenerate").get_data(as_text=True)
    third = reply_id_from(third_html)
    wait_for_reply(app, third)
    page = page_of(client, thread_id)
    assert counts(page) == ["3/3"] and "Third answer" in page and "First answer" not in page
    assert 'aria-label="Previous version"' in page and 'aria-label="Next version" disabled' in page
    # ‹ goes to the second version: the conversation comes back re-rendered, and stays so.
    switched = act(client, thread_id, second, "select")
    html = switched.get_data(as_text=True)
    assert switched.status_code == 200 and '<section id="conversation"' in html and "<html" not in html
    assert "Second answer" in html and "Third answer" not in html and counts(html) == ["2/3"]
    assert f'hx-post="/threads/{thread_id}/messages/{first}/select"' in html
    assert f'hx-post="/threads/{thread_id}/messages/{third}/select"' in html
    assert "Second answer" in page_of(client, thread_id) and counts(page_of(client, thread_id)) == ["2/3"]
    # Without JavaScript the switch is a form that leads back to the page.
    plain = client.post(f"/threads/{thread_id}/messages/{first}/select")
    assert plain.status_code == 303 and plain.headers["Location"].endswith(f"#message-{first}")
    assert "First answer" in page_of(client, thread_id)
    # The next question follows the version shown, and the model sees only that one.
    anthropic.script(text_reply("Follow-up answer"))
    ask(app, client, thread_id, "And the biggest one?")
    sent = sent_texts(anthropic)
    assert "First answer" in sent and "Second answer" not in sent and "Third answer" not in sent
    assert messages_of(app, thread_id)[-2].parent_id == first


def test_editing_an_earlier_message_makes_a_branch(
    app: Flask, client: FlaskClient, thread_id: str, anthropic: FakeAnthropic
) -> None:
    anthropic.script(text_reply("Cats purr"), text_reply("They sleep a lot"), text_reply("Dogs bark"))
    ask(app, client, thread_id, "Tell me about cats")
    ask(app, client, thread_id, "And more?")
    question = messages_of(app, thread_id)[0]
    edited = act(client, thread_id, question.id, "edit", content="Tell me about dogs")
    assert edited.status_code == 200
    new_question, new_reply = messages_of(app, thread_id)[-2:]
    assert new_question.parent_id is None and new_question.content == "Tell me about dogs"
    assert new_reply.parent_id == new_question.id
    wait_for_reply(app, new_reply.id)
    assert "Tell me about cats" not in sent_texts(anthropic)
    page = page_of(client, thread_id)
    assert "Dogs bark" in page and "Cats purr" not in page and "And more?" not in page
    assert counts(page) == ["2/2"]
    # Back to the first version: the conversation that followed it comes back whole.
    act(client, thread_id, question.id, "select")
    page = page_of(client, thread_id)
    assert "Cats purr" in page and "They sleep a lot" in page and "Dogs bark" not in page and counts(page) == ["1/2"]


def test_a_stale_action_is_refused_and_changes_nothing(
    app: Flask, client: FlaskClient, thread_id: str, anthropic: FakeAnthropic
) -> None:
    anthropic.script(text_reply("Answer one"), text_reply("Answer two"), text_reply("Answer one again"))
    first_reply = ask(app, client, thread_id, "Question one")
    second_reply = ask(app, client, thread_id, "Question two")
    question_one, _, question_two, _ = messages_of(app, thread_id)
    # Another tab writes a new version of the first reply: the second exchange is no longer shown.
    wait_for_reply(app, reply_id_from(act(client, thread_id, first_reply, "regenerate").get_data(as_text=True)))
    before = [(m.id, m.content, m.deleted_at) for m in messages_of(app, thread_id)]
    for action, message_id, form in (
        ("edit", question_two.id, {"content": "Changed"}),
        ("regenerate", second_reply, {}),
    ):
        refused = act(client, thread_id, message_id, action, **form)
        assert refused.status_code == 409, action
        assert refused.headers["HX-Retarget"] == "#composer-error"
        assert "no longer on the version of the chat that is shown" in refused.get_data(as_text=True)
    deleted = client.post(f"/messages/{second_reply}/delete", headers={"HX-Request": "true"})
    assert deleted.status_code == 409 and "no longer on the version" in deleted.get_data(as_text=True)
    assert [(m.id, m.content, m.deleted_at) for m in messages_of(app, thread_id)] == before
    # An edit of a message that is still shown works, whatever else changed.
    assert act(client, thread_id, question_one.id, "edit", content="Question one, again").status_code == 200


def test_actions_refuse_the_wrong_kind_of_message_and_deleted_ones(
    app: Flask, client: FlaskClient, thread_id: str, anthropic: FakeAnthropic
) -> None:
    anthropic.script(text_reply("An answer"))
    reply = ask(app, client, thread_id, "A question")
    question = messages_of(app, thread_id)[0].id
    wrong = act(client, thread_id, reply, "edit", content="x")
    assert wrong.status_code == 422 and "Only your own messages can be edited." in wrong.get_data(as_text=True)
    wrong = act(client, thread_id, question, "regenerate")
    assert wrong.status_code == 422 and "Only a reply can be written again." in wrong.get_data(as_text=True)
    client.post(f"/messages/{reply}/delete", headers={"HX-Request": "true"})
    gone = act(client, thread_id, reply, "regenerate")
    assert gone.status_code == 409 and "This message was deleted." in gone.get_data(as_text=True)
    assert act(client, thread_id, reply, "select").status_code == 409
    assert len(messages_of(app, thread_id)) == 2


def test_foreign_ids_are_404_and_touch_nothing(
    app: Flask, client: FlaskClient, user: User, thread_id: str, anthropic: FakeAnthropic
) -> None:
    anthropic.script(text_reply("Mine"), text_reply("Elsewhere"))
    reply = ask(app, client, thread_id, "Secret plan")
    question = messages_of(app, thread_id)[0].id
    other_thread = make_thread(app, user.id, model_provider="anthropic", title="Other", title_locked=True)
    ask(app, client, other_thread, "Another chat")
    before = len(messages_of(app, thread_id)) + len(messages_of(app, other_thread))
    # This user's own message, named under another of their threads.
    for action, message_id in (("edit", question), ("regenerate", reply), ("select", reply)):
        assert act(client, other_thread, message_id, action, content="x").status_code == 404, action
    intruder = other_client(app)
    for action, message_id in (("edit", question), ("regenerate", reply), ("select", reply)):
        response = intruder.post(f"/threads/{thread_id}/messages/{message_id}/{action}", data={"content": "x"})
        assert response.status_code == 404 and "Secret plan" not in response.get_data(as_text=True)
    assert act(client, thread_id, "no-such-message", "select").status_code == 404
    assert len(messages_of(app, thread_id)) + len(messages_of(app, other_thread)) == before


def test_editing_while_a_reply_is_written_is_refused_with_the_reason(
    app: Flask, client: FlaskClient, thread_id: str, anthropic: FakeAnthropic
) -> None:
    anthropic.script(text_reply("Quick"), text_reply("A slow reply that takes its time", chunks=6, delay=0.3))
    ask(app, client, thread_id, "First")
    question = messages_of(app, thread_id)[0].id
    streaming = reply_id_from(
        client.post(f"/threads/{thread_id}/messages", data={"content": "Second"}, headers=HX).get_data(as_text=True)
    )
    refused = act(client, thread_id, question, "edit", content="First, rewritten")
    assert refused.status_code == 409
    assert "A reply is still being written: wait or press Stop." in refused.get_data(as_text=True)
    again = act(client, thread_id, streaming, "regenerate")
    assert again.status_code == 409 and "still being written" in again.get_data(as_text=True)
    # Without JavaScript the page comes back with the reason, and the text in the box.
    plain = client.post(f"/threads/{thread_id}/messages/{question}/edit", data={"content": "First, rewritten"})
    assert plain.status_code == 409 and "First, rewritten</textarea>" in plain.get_data(as_text=True)
    wait_for_reply(app, streaming)
    assert [m.content for m in messages_of(app, thread_id) if m.role == "user"] == ["First", "Second"]


def test_export_and_search_follow_the_version_shown(
    app: Flask, client: FlaskClient, thread_id: str, anthropic: FakeAnthropic
) -> None:
    anthropic.script(text_reply("The zeppelin plan"), text_reply("The blimp plan"))
    first = ask(app, client, thread_id, "Which airship?")
    second = reply_id_from(act(client, thread_id, first, "regenerate").get_data(as_text=True))
    wait_for_reply(app, second)
    markdown = client.get(f"/threads/{thread_id}/export.md").get_data(as_text=True)
    assert "The blimp plan" in markdown and "zeppelin" not in markdown
    exported = client.get(f"/threads/{thread_id}/export.json").get_json()
    assert [m["content"] for m in exported["messages"]] == ["Which airship?", "The blimp plan"]
    assert f"#message-{second}" in client.get("/chats/search?q=blimp").get_data(as_text=True)
    assert "Nothing found" in client.get("/chats/search?q=zeppelin").get_data(as_text=True)
    act(client, thread_id, first, "select")
    assert f"#message-{first}" in client.get("/chats/search?q=zeppelin").get_data(as_text=True)
    assert "blimp" not in client.get(f"/threads/{thread_id}/export.md").get_data(as_text=True)


def test_deleting_the_version_shown_shows_the_one_before(
    app: Flask, client: FlaskClient, thread_id: str, anthropic: FakeAnthropic
) -> None:
    anthropic.script(text_reply("Old answer"), text_reply("New answer"), text_reply("Next answer"))
    first = ask(app, client, thread_id, "Question")
    second = reply_id_from(act(client, thread_id, first, "regenerate").get_data(as_text=True))
    wait_for_reply(app, second)
    client.post(f"/messages/{second}/delete", headers={"HX-Request": "true"})
    page = page_of(client, thread_id)
    assert "Old answer" in page and "New answer" not in page and counts(page) == []
    # Past the undo window the deleted version is removed, and the chat carries on from the one shown.
    with app.app_context():
        db.session.get(Message, second).deleted_at = utcnow() - timedelta(minutes=5)
        db.session.commit()
    assert "Old answer" in page_of(client, thread_id)
    ask(app, client, thread_id, "Next question")
    assert [m.content for m in messages_of(app, thread_id)] == [
        "Question",
        "Old answer",
        "Next question",
        "Next answer",
    ]
    assert messages_of(app, thread_id)[2].parent_id == first
