"""A conversation through HTTP: posting, streaming, stopping, retrying, and never losing text."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from webapp.extensions import db
from webapp.models import Message, Task, Thread, TokenUsage, User, utcnow
from webapp.threads.page import conversation_context
from webapp.timezones import today_in

from ..chat_helpers import (
    make_thread,
    messages_of,
    one_branch,
    read_stream,
    reply_id_from,
    wait_for_reply,
    wait_for_text,
    wait_for_title,
)
from ..conftest import other_client
from ..fakes.anthropic import FakeAnthropic
from ..fakes.script import error_reply, text_reply, token_reply, tool_reply

HX = {"HX-Request": "true", "HX-Target": "messages"}


@pytest.fixture
def anthropic() -> Iterator[FakeAnthropic]:
    with FakeAnthropic() as fake:
        yield fake


@pytest.fixture
def app_config(anthropic: FakeAnthropic) -> dict[str, Any]:
    return {"ANTHROPIC_API_KEY": "test-key", "ANTHROPIC_BASE_URL": anthropic.url, "LLM_MAX_RETRIES": 0}


@pytest.fixture
def thread_id(app: Flask, user: User) -> str:
    return make_thread(app, user.id, model_provider="anthropic", conversation_mode="meeting")


def post(client: FlaskClient, thread_id: str, content: str, headers: dict | None = None):
    return client.post(
        f"/threads/{thread_id}/messages", data={"content": content}, headers=HX if headers is None else headers
    )


def title_poll_url(html: str) -> str:
    match = re.search(r'hx-get="([^"]*/title\?[^"]*)"', html)
    assert match, "no title poll"
    return match[1].replace("&amp;", "&")


def test_offline_reply_streams_and_is_saved(app: Flask, client: FlaskClient, user: User) -> None:
    thread_id = make_thread(app, user.id)
    response = post(client, thread_id, "What is in scope for phase one?")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "What is in scope for phase one?" in html and "sse-connect" in html and 'sse-close="done"' in html
    reply_id = reply_id_from(html)
    events = read_stream(client, reply_id)
    deltas = "".join(e.data for e in events if e.event == "delta")
    assert "No language model is configured" in deltas
    assert events[-1].event == "done" and "No language model is configured" in events[-1].data
    reply = wait_for_reply(app, reply_id)
    assert reply.status == "complete" and "No language model is configured" in reply.content
    page = client.get(f"/threads/{thread_id}").get_data(as_text=True)
    assert "What is in scope for phase one" in page and "sse-connect" not in page


def test_first_exchange_gives_the_thread_a_title_and_records_usage(
    app: Flask, client: FlaskClient, thread_id: str, anthropic: FakeAnthropic
) -> None:
    anthropic.script(
        text_reply("Hello there, let us start.", chunks=4, input_tokens=120, output_tokens=9),
        text_reply("Kick-off scope discussion", input_tokens=50, output_tokens=5),
    )
    reply_id = reply_id_from(post(client, thread_id, "Let's plan the kick-off").get_data(as_text=True))
    assert wait_for_reply(app, reply_id).content == "Hello there, let us start."
    assert wait_for_title(app, thread_id) == "Kick-off scope discussion"
    with app.app_context():
        rows = db.session.execute(
            sa.select(TokenUsage.purpose, TokenUsage.input_tokens, TokenUsage.output_tokens).order_by(
                TokenUsage.purpose
            )
        ).all()
    assert [tuple(r) for r in rows] == [("chat", 120, 9), ("title", 50, 5)]
    page = client.get(f"/threads/{thread_id}").get_data(as_text=True)
    assert "120 in / 9 out" in page and "Kick-off scope discussion" in page


def test_the_page_picks_up_the_new_title_without_a_reload(
    app: Flask, client: FlaskClient, thread_id: str, anthropic: FakeAnthropic
) -> None:
    # The title takes a moment: the page asks again while the reply's runner is still making it
    # (long enough that a busy machine reads the stream's end and asks before it is made).
    anthropic.script(
        text_reply("Hello.", input_tokens=120, output_tokens=9),
        text_reply("Kick-off scope discussion", headers_delay=3.0, input_tokens=50, output_tokens=5),
    )
    reply_id = reply_id_from(post(client, thread_id, "Let's plan the kick-off").get_data(as_text=True))
    done = read_stream(client, reply_id)[-1]
    poll_url = title_poll_url(done.data)
    assert done.event == "done" and poll_url == f"/messages/{reply_id}/title?poll=1"
    # The details panel's totals come with the finished reply, and again with the title's cost.
    assert '<div id="thread-totals" class="info-group" hx-swap-oob="true">' in done.data
    assert "<dd>120 in / 9 out</dd>" in done.data
    first = client.get(poll_url, headers=HX).get_data(as_text=True)
    assert "Untitled chat" in first and title_poll_url(first) == poll_url.replace("poll=1", "poll=2")
    wait_for_reply(app, reply_id)
    deadline = time.monotonic() + 10
    while wait_for_reply(app, reply_id).lease_until is not None:  # the runner lets go once the title is made
        assert time.monotonic() < deadline, "the title was never made"
        time.sleep(0.02)
    last = client.get(f"/messages/{reply_id}/title?poll=2", headers=HX).get_data(as_text=True)
    assert "<title>Kick-off scope discussion · BA Assistant</title>" in last
    assert 'hx-swap-oob="innerHTML:.thread-title-text">Kick-off scope discussion<' in last
    assert 'id="thread-totals" class="info-group" hx-swap-oob="true"' in last and "<dd>170 in / 14 out</dd>" in last
    assert "hx-get" not in last
    page = client.get(f"/threads/{thread_id}").get_data(as_text=True)
    assert page.count('thread-title-text">Kick-off scope discussion<') == 4  # heading, breadcrumb, details, sidebar
    assert "title?poll" not in page  # a finished reply asks for nothing on a page load
    # Without a poll number (a hand-made request) it answers the title and asks for nothing more.
    unnumbered = client.get(f"/messages/{reply_id}/title", headers=HX).get_data(as_text=True)
    assert "Kick-off scope discussion" in unnumbered and "hx-get" not in unnumbered
    assert other_client(app).get(f"/messages/{reply_id}/title").status_code == 404


def test_the_page_asks_for_the_title_while_the_replys_runner_holds_it(
    app: Flask, client: FlaskClient, user: User
) -> None:
    # Whichever process runs the reply: its lease says that the title is still being made.
    thread_id = make_thread(app, user.id, title="Old title")
    with app.app_context():
        db.session.add_all(
            one_branch(
                Message(thread_id=thread_id, role="user", content="Hi", created_at=utcnow()),
                Message(
                    id="reply",
                    thread_id=thread_id,
                    role="assistant",
                    content="Hello",
                    created_at=utcnow(),
                    lease_until=utcnow() + timedelta(seconds=15),
                ),
            )
        )
        db.session.commit()
    poll_url = title_poll_url(read_stream(client, "reply")[-1].data)
    second = client.get(poll_url, headers=HX).get_data(as_text=True)
    assert title_poll_url(second) == poll_url.replace("poll=1", "poll=2")
    with app.app_context():
        db.session.get(Thread, thread_id).title = "Budget approvals"
        db.session.get(Message, "reply").lease_until = None
        db.session.commit()
    last = client.get(title_poll_url(second), headers=HX).get_data(as_text=True)
    assert 'thread-title-text">Budget approvals<' in last and "hx-get" not in last


def test_a_reply_that_does_not_change_the_title_asks_for_nothing(
    app: Flask, client: FlaskClient, anthropic: FakeAnthropic, user: User
) -> None:
    named = make_thread(app, user.id, model_provider="anthropic", title="Named by me", title_locked=True)
    anthropic.script(text_reply("Hello."))
    reply_id = reply_id_from(post(client, named, "Hi").get_data(as_text=True))
    assert "title?poll" not in read_stream(client, reply_id)[-1].data


def test_reconnecting_stream_resumes_without_gap_or_duplicate(
    app: Flask, client: FlaskClient, thread_id: str, anthropic: FakeAnthropic
) -> None:
    anthropic.script(token_reply(30, delay=0.01), text_reply("title"))
    reply_id = reply_id_from(post(client, thread_id, "Go").get_data(as_text=True))
    wait_for_reply(app, reply_id)
    first = read_stream(client, reply_id, after=0)
    deltas = [e for e in first if e.event == "delta"]
    cut = deltas[11].id
    resumed = read_stream(client, reply_id, after=cut)
    again = [e for e in resumed if e.event == "delta"]
    assert [e.id for e in again] == [e.id for e in deltas if e.id > cut]
    assert "".join(e.data for e in deltas[:12]) + "".join(e.data for e in again) == "".join(
        f"word{i} " for i in range(30)
    )
    by_header = read_stream(client, reply_id, after=0, headers={"Last-Event-ID": str(cut)})
    assert [e.id for e in by_header if e.event == "delta"] == [e.id for e in again]


def test_reload_mid_reply_shows_saved_text_and_continues(
    app: Flask, client: FlaskClient, thread_id: str, anthropic: FakeAnthropic
) -> None:
    anthropic.script(token_reply(40, delay=0.03), text_reply("title"))
    reply_id = reply_id_from(post(client, thread_id, "Go").get_data(as_text=True))
    time.sleep(0.7)
    page = client.get(f"/threads/{thread_id}").get_data(as_text=True)
    assert "sse-connect" in page and "word0 word1" in page
    after = int(page.split(f"/messages/{reply_id}/stream?after=")[1].split('"')[0])
    assert after > 0
    events = read_stream(client, reply_id, after=after)
    with app.app_context():
        saved = db.session.get(Message, reply_id)
    full = "".join(f"word{i} " for i in range(40))
    assert saved.status == "complete" and saved.content == full
    streamed_after = "".join(e.data for e in events if e.event == "delta")
    assert full.endswith(streamed_after) and len(streamed_after) < len(full)


def test_only_the_full_page_reloads_itself_for_browsers_without_javascript(
    app: Flask, client: FlaskClient, thread_id: str, anthropic: FakeAnthropic
) -> None:
    anthropic.script(token_reply(20, delay=0.05), text_reply("title"))
    fragment = post(client, thread_id, "Go").get_data(as_text=True)
    # htmx parses fragments with scripting off: a <noscript> refresh there would reload the page.
    assert "sse-connect" in fragment and "noscript" not in fragment and "refresh" not in fragment
    page = client.get(f"/threads/{thread_id}").get_data(as_text=True)
    head = page.split("</head>")[0]
    assert '<noscript><meta http-equiv="refresh" content="3"></noscript>' in head
    wait_for_reply(app, reply_id_from(fragment))
    assert "refresh" not in client.get(f"/threads/{thread_id}").get_data(as_text=True)


def press_stop_once_it_writes(app: Flask, client: FlaskClient, reply_id: str) -> Message:
    """Press Stop after the reply's first text; the reply has ended long before the provider would
    have let it (the stop watcher looks five times a second; the rest is margin for a busy machine)."""
    wait_for_text(app, reply_id)
    stopped_at = time.monotonic()
    assert client.post(f"/messages/{reply_id}/stop", headers=HX).status_code == 204
    reply = wait_for_reply(app, reply_id, timeout=5)
    assert time.monotonic() - stopped_at < 2.0
    return reply


def test_stop_keeps_the_text_and_marks_it_stopped(
    app: Flask, client: FlaskClient, thread_id: str, anthropic: FakeAnthropic
) -> None:
    anthropic.script(token_reply(400, delay=0.02))
    reply_id = reply_id_from(post(client, thread_id, "Write a lot").get_data(as_text=True))
    reply = press_stop_once_it_writes(app, client, reply_id)
    assert reply.status == "stopped" and reply.content.startswith("word0 ")
    assert "Stopped" in client.get(f"/threads/{thread_id}").get_data(as_text=True)


def test_stop_ends_a_reply_whose_provider_has_gone_quiet(
    app: Flask, client: FlaskClient, thread_id: str, anthropic: FakeAnthropic
) -> None:
    # The first half at once, then nothing for three seconds: the runner waits on the provider.
    anthropic.script(text_reply("First half. Second half.", chunks=2, pause_after=2, pause=3))
    reply_id = reply_id_from(post(client, thread_id, "Go").get_data(as_text=True))
    reply = press_stop_once_it_writes(app, client, reply_id)
    assert reply.status == "stopped" and reply.content == "First half. "
    events = read_stream(client, reply_id, after=0)
    assert events[-1].event == "done" and "Stopped" in events[-1].data
    # When the provider speaks again, the late text is dropped and the reply stays stopped.
    time.sleep(3)
    assert wait_for_reply(app, reply_id).status == "stopped"
    assert wait_for_reply(app, reply_id).content == "First half. "


def test_stop_before_the_first_token_ends_the_reply_at_once(
    app: Flask, client: FlaskClient, thread_id: str, anthropic: FakeAnthropic
) -> None:
    anthropic.script(text_reply("Too late", first_byte_delay=3))
    reply_id = reply_id_from(post(client, thread_id, "Go").get_data(as_text=True))
    stopped_at = time.monotonic()
    assert client.post(f"/messages/{reply_id}/stop", headers=HX).status_code == 204
    reply = wait_for_reply(app, reply_id, timeout=5)
    assert time.monotonic() - stopped_at < 2.0  # the provider would have taken 3 s
    assert reply.status == "stopped" and reply.content == ""
    assert read_stream(client, reply_id)[-1].event == "done"


def test_posting_while_a_reply_streams_is_refused(
    app: Flask, client: FlaskClient, thread_id: str, anthropic: FakeAnthropic
) -> None:
    anthropic.script(token_reply(100, delay=0.02))
    reply_id = reply_id_from(post(client, thread_id, "First").get_data(as_text=True))
    second = post(client, thread_id, "Second")
    assert second.status_code == 409
    assert "A reply is still being written" in second.get_data(as_text=True)
    client.post(f"/messages/{reply_id}/stop", headers=HX)
    wait_for_reply(app, reply_id)
    assert [m.content for m in messages_of(app, thread_id) if m.role == "user"] == ["First"]


@pytest.mark.parametrize(
    "content, error",
    [
        ("   \n ", "Write a message first."),
        ("x" * 32_001, "Messages are limited to 32,000 characters"),
    ],
)
def test_bad_messages_get_an_inline_error_and_nothing_is_saved(
    app: Flask, client: FlaskClient, thread_id: str, content: str, error: str
) -> None:
    response = post(client, thread_id, content)
    assert response.status_code == 422 and error in response.get_data(as_text=True)
    assert response.headers["HX-Retarget"] == "#composer-error"
    plain = post(client, thread_id, content, headers={})
    assert (
        plain.status_code == 422 and error in plain.get_data(as_text=True) and "<html" in plain.get_data(as_text=True)
    )
    assert messages_of(app, thread_id) == []


def test_provider_error_before_text_is_explained(
    app: Flask, client: FlaskClient, thread_id: str, anthropic: FakeAnthropic
) -> None:
    anthropic.script(error_reply(429))
    reply_id = reply_id_from(post(client, thread_id, "Hi").get_data(as_text=True))
    reply = wait_for_reply(app, reply_id)
    assert reply.status == "error" and "rate limiting this key" in reply.error
    events = read_stream(client, reply_id)
    assert events[-1].event == "done" and "rate limiting this key" in events[-1].data and "Retry" in events[-1].data


def test_cut_stream_keeps_the_partial_text_as_interrupted(
    app: Flask, client: FlaskClient, thread_id: str, anthropic: FakeAnthropic
) -> None:
    anthropic.script(text_reply("Partial answer that never ends", chunks=6, ending="break", cut_after=3))
    reply_id = reply_id_from(post(client, thread_id, "Hi").get_data(as_text=True))
    reply = wait_for_reply(app, reply_id)
    assert reply.status == "interrupted" and reply.content.startswith("Partial")
    assert "cut off" in reply.error
    page = client.get(f"/threads/{thread_id}").get_data(as_text=True)
    assert "Interrupted" in page and "Retry" in page


def test_retry_after_an_error_adds_a_new_version_of_the_failed_reply(
    app: Flask, client: FlaskClient, thread_id: str, anthropic: FakeAnthropic
) -> None:
    anthropic.script(error_reply(500), text_reply("Second time lucky"), text_reply("title"))
    failed = reply_id_from(post(client, thread_id, "Hi").get_data(as_text=True))
    assert wait_for_reply(app, failed).status == "error"
    retry = f"/threads/{thread_id}/messages/{failed}/regenerate"
    assert f'hx-post="{retry}"' in client.get(f"/threads/{thread_id}").get_data(as_text=True)
    html = client.post(retry, headers={"HX-Request": "true"}).get_data(as_text=True)
    new_id = reply_id_from(html)
    assert new_id != failed and wait_for_reply(app, new_id).content == "Second time lucky"
    messages = messages_of(app, thread_id)
    assert [m.role for m in messages] == ["user", "assistant", "assistant"]
    assert messages[1].parent_id == messages[2].parent_id == messages[0].id
    page = client.get(f"/threads/{thread_id}").get_data(as_text=True)
    assert "Second time lucky" in page and "rate limiting" not in page and "The reply failed" not in page
    assert '<span class="version-count">2/2</span>' in page


def test_editing_the_last_message_answers_a_new_version(
    app: Flask, client: FlaskClient, thread_id: str, anthropic: FakeAnthropic
) -> None:
    anthropic.script(text_reply("About cats"), text_reply("title"), text_reply("About dogs"))
    first = reply_id_from(post(client, thread_id, "Tell me about cats").get_data(as_text=True))
    wait_for_reply(app, first)
    question = messages_of(app, thread_id)[0]
    response = client.post(f"/threads/{thread_id}/messages/{question.id}/edit", data={"content": "Tell me about dogs"})
    assert response.status_code == 303
    messages = messages_of(app, thread_id)
    assert [m.content for m in messages if m.role == "user"] == ["Tell me about cats", "Tell me about dogs"]
    assert messages[2].parent_id is None and messages[3].parent_id == messages[2].id
    assert wait_for_reply(app, messages[-1].id).content == "About dogs"
    sent = str(anthropic.requests[-1].json()["messages"])
    assert "Tell me about dogs" in sent and "Tell me about cats" not in sent
    page = client.get(f"/threads/{thread_id}").get_data(as_text=True)
    assert "About dogs" in page and "About cats" not in page and "Tell me about cats" not in page


def test_a_dead_runner_shows_the_reply_as_interrupted(app: Flask, client: FlaskClient, thread_id: str) -> None:
    with app.app_context():
        db.session.add_all(
            one_branch(
                Message(thread_id=thread_id, role="user", content="Hi", created_at=utcnow()),
                Message(
                    id="dead-reply",
                    thread_id=thread_id,
                    role="assistant",
                    status="streaming",
                    content="Half of an answ",
                    stream_seq=4,
                    created_at=utcnow(),
                ),
            )
        )
        db.session.commit()
    events = read_stream(client, "dead-reply", after=4)
    assert [e.event for e in events] == ["done"] and "Interrupted" in events[0].data
    page = client.get(f"/threads/{thread_id}").get_data(as_text=True)
    assert "Half of an answ" in page and "Interrupted" in page and "Retry" in page


def test_stream_of_a_finished_message_ends_at_once(app: Flask, client: FlaskClient, thread_id: str) -> None:
    with app.app_context():
        db.session.add(
            Message(id="old", thread_id=thread_id, role="assistant", content="Done **before**", created_at=utcnow())
        )
        db.session.commit()
    events = read_stream(client, "old")
    assert [e.event for e in events] == ["done"] and "<strong>before</strong>" in events[0].data


def test_unconfigured_provider_is_a_clear_error(app: Flask, client: FlaskClient, user: User) -> None:
    thread_id = make_thread(app, user.id, model_provider="gemini")
    response = post(client, thread_id, "Hi")
    assert response.status_code == 422
    assert "not configured on this server" in response.get_data(as_text=True)
    page = client.get(f"/threads/{thread_id}").get_data(as_text=True)
    assert "Pick another provider" in page and '<option value="offline"' in page
    client.post(f"/threads/{thread_id}/settings", data={"provider": "offline", "mode": "meeting"})
    assert post(client, thread_id, "Hi").status_code == 200


def test_spent_budget_refuses_new_replies(app: Flask, client: FlaskClient, user: User, thread_id: str) -> None:
    with app.app_context():
        db.session.add(
            TokenUsage(
                user_id=user.id,
                provider="anthropic",
                model="m",
                purpose="chat",
                input_tokens=1,
                output_tokens=1,
                cost=Decimal("50.00"),
            )
        )
        db.session.commit()
    response = post(client, thread_id, "Hi")
    assert response.status_code == 402
    assert "Your monthly budget is spent ($50.00 of $50.00); new replies resume on the 1st" in response.get_data(
        as_text=True
    )
    assert messages_of(app, thread_id) == []


def test_the_budget_month_starts_in_the_users_time_zone(
    app: Flask, client: FlaskClient, user: User, thread_id: str
) -> None:
    from webapp.chat.usage import month_start

    with app.app_context():
        owner = db.session.get(User, user.id)
        owner.timezone = "Pacific/Kiritimati"  # UTC+14: its month starts 14 hours before UTC's
        start = month_start(owner)
        db.session.add_all(
            [
                TokenUsage(
                    user_id=user.id,
                    provider="anthropic",
                    model="m",
                    purpose="chat",
                    input_tokens=1,
                    output_tokens=1,
                    cost=Decimal("50.00"),
                    created_at=at,
                )
                for at in (start - timedelta(seconds=1), start)
            ]
        )
        db.session.commit()
    response = post(client, thread_id, "Hi")
    assert response.status_code == 402
    assert "Your monthly budget is spent ($50.00 of $50.00); new replies resume on the 1st" in response.get_data(
        as_text=True
    )
    assert "$50.00 of your $50.00 monthly budget" in client.get("/settings").get_data(as_text=True)


def test_tool_calls_run_and_show_their_activity(
    app: Flask, client: FlaskClient, user: User, thread_id: str, anthropic: FakeAnthropic
) -> None:
    anthropic.script(
        tool_reply("create_task", {"title": "Send the minutes", "priority": "high"}, text="Noting that. "),
        text_reply("Added it to your tasks."),
        text_reply("title"),
    )
    reply_id = reply_id_from(post(client, thread_id, "Remind me to send the minutes").get_data(as_text=True))
    events = read_stream(client, reply_id)
    assert any(e.event == "tool" and "Added task" in e.data and "Send the minutes" in e.data for e in events)
    reply = wait_for_reply(app, reply_id)
    assert reply.content == "Noting that. Added it to your tasks."
    assert reply.tool_calls[0]["name"] == "create_task" and reply.tool_calls[0]["offset"] == len("Noting that. ")
    with app.app_context():
        task = db.session.scalar(sa.select(Task))
        assert task.title == "Send the minutes" and task.user_id == user.id and task.thread_id == thread_id
    second_turn = anthropic.requests[1].json()["messages"]
    assert second_turn[-1]["content"][0]["type"] == "tool_result"
    assert "Send the minutes" in client.get(f"/threads/{thread_id}").get_data(as_text=True)


def test_html_in_messages_is_shown_as_text(
    app: Flask, client: FlaskClient, thread_id: str, anthropic: FakeAnthropic
) -> None:
    anthropic.script(
        text_reply(
            "Look <script>alert(1)</script> ![x](https://evil.example/p.png?d=secret) [ok](javascript:alert(2))"
        ),
        text_reply("title"),
    )
    reply_id = reply_id_from(post(client, thread_id, "<img src=x onerror=alert(1)>").get_data(as_text=True))
    wait_for_reply(app, reply_id)
    page = client.get(f"/threads/{thread_id}").get_data(as_text=True)
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert (
        "<script>alert(1)" not in page and "evil.example/p.png" in page and "<img" not in page.split('id="messages"')[1]
    )
    assert 'href="javascript' not in page


def test_other_users_cannot_see_or_touch_a_thread(
    app: Flask, client: FlaskClient, thread_id: str, anthropic: FakeAnthropic
) -> None:
    anthropic.script(text_reply("Private"), text_reply("title"))
    reply_id = reply_id_from(post(client, thread_id, "Secret plan").get_data(as_text=True))
    wait_for_reply(app, reply_id)
    intruder = other_client(app)
    for method, url in [
        ("get", f"/threads/{thread_id}"),
        ("post", f"/threads/{thread_id}/messages"),
        ("get", f"/messages/{reply_id}/stream"),
        ("post", f"/messages/{reply_id}/stop"),
        ("post", f"/threads/{thread_id}/messages/{reply_id}/regenerate"),
        ("post", f"/threads/{thread_id}/messages/{reply_id}/select"),
        ("post", f"/messages/{reply_id}/delete"),
    ]:
        response = getattr(intruder, method)(url, data={"content": "x"} if method == "post" else None)
        assert response.status_code == 404, url
        assert "Secret plan" not in response.get_data(as_text=True)


def test_delete_and_undo_a_message(app: Flask, client: FlaskClient, thread_id: str, anthropic: FakeAnthropic) -> None:
    anthropic.script(text_reply("An answer"), text_reply("title"))
    reply_id = reply_id_from(post(client, thread_id, "Question").get_data(as_text=True))
    wait_for_reply(app, reply_id)
    deleted = client.post(f"/messages/{reply_id}/delete", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Message deleted." in deleted and "Undo" in deleted
    assert "An answer" not in client.get(f"/threads/{thread_id}").get_data(as_text=True)
    restored = client.post(f"/messages/{reply_id}/undo", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "An answer" in restored
    assert "An answer" in client.get(f"/threads/{thread_id}").get_data(as_text=True)


class TestWithRedisBroker:
    @pytest.fixture
    def app_config(self, anthropic: FakeAnthropic) -> dict[str, Any]:
        from ..unit.chat.test_broker import REDIS_URL, _redis_or_skip

        _redis_or_skip()
        return {
            "ANTHROPIC_API_KEY": "k",
            "ANTHROPIC_BASE_URL": anthropic.url,
            "LLM_MAX_RETRIES": 0,
            "REDIS_URL": REDIS_URL,
        }

    def test_reply_streams_through_redis(
        self, app: Flask, client: FlaskClient, thread_id: str, anthropic: FakeAnthropic
    ) -> None:
        from webapp.chat.broker import RedisBroker

        assert isinstance(app.extensions["chat.broker"], RedisBroker)
        anthropic.script(token_reply(20, delay=0.005), text_reply("title"))
        reply_id = reply_id_from(post(client, thread_id, "Go").get_data(as_text=True))
        events = read_stream(client, reply_id)
        assert "".join(e.data for e in events if e.event == "delta") == "".join(f"word{i} " for i in range(20))
        assert [e.id for e in events if e.event == "delta"] == list(range(1, 21))
        assert events[-1].event == "done"


def test_deleting_a_thread_mid_reply_is_clean(
    app: Flask, client: FlaskClient, thread_id: str, anthropic: FakeAnthropic
) -> None:
    anthropic.script(token_reply(200, delay=0.01))
    reply_id_from(post(client, thread_id, "Go").get_data(as_text=True))
    time.sleep(0.3)
    assert client.post(f"/threads/{thread_id}/delete").status_code == 303
    app.extensions["chat.runner"].shutdown()
    assert messages_of(app, thread_id) == []
    assert client.get(f"/threads/{thread_id}").status_code == 404


def test_a_reply_becomes_searchable_once_it_has_finished(
    app: Flask, client: FlaskClient, thread_id: str, anthropic: FakeAnthropic
) -> None:
    anthropic.script(text_reply("The zeppelin rollout starts in March.", chunks=4, delay=0.3), text_reply("title"))
    reply_id = reply_id_from(post(client, thread_id, "When does it start?").get_data(as_text=True))
    time.sleep(0.5)
    assert "Nothing found" in client.get("/chats/search?q=zeppelin").get_data(as_text=True)
    wait_for_reply(app, reply_id)
    assert f"#message-{reply_id}" in client.get("/chats/search?q=zeppelin").get_data(as_text=True)


def test_a_mode_change_is_noted_where_it_happened(app: Flask, client: FlaskClient, user: User) -> None:
    thread_id = make_thread(app, user.id, conversation_mode="meeting")
    first = reply_id_from(post(client, thread_id, "What is in scope?").get_data(as_text=True))
    wait_for_reply(app, first)
    changed = client.post(f"/threads/{thread_id}/settings", data={"provider": "offline", "mode": "refinement"})
    assert changed.status_code == 303
    note = "Mode changed to Refinement. The turns above were in Meeting mode."
    page = client.get(f"/threads/{thread_id}").get_data(as_text=True)
    assert page.count(note) == 1 and "Chat settings saved." in page
    wait_for_reply(app, reply_id_from(post(client, thread_id, "Improve this story").get_data(as_text=True)))
    page = client.get(f"/threads/{thread_id}").get_data(as_text=True)
    assert page.count(note) == 1
    assert page.index("What is in scope?") < page.index(note) < page.index("Improve this story")


def test_a_mode_note_shows_on_the_page_of_the_message_after_it(app: Flask, client: FlaskClient, user: User) -> None:
    start = utcnow() - timedelta(hours=1)
    thread_id = make_thread(
        app,
        user.id,
        conversation_mode="refinement",
        mode_changes=[
            {"at": (start + timedelta(minutes=1, seconds=30)).isoformat(), "from": "meeting", "to": "refinement"}
        ],
    )
    with app.app_context():
        db.session.add_all(
            one_branch(
                *(
                    Message(
                        thread_id=thread_id,
                        role=("user", "assistant")[n % 2],
                        content=f"Message {n}",
                        status="complete",
                        created_at=start + timedelta(minutes=n),
                    )
                    for n in range(4)
                )
            )
        )
        db.session.commit()
        thread = db.session.get(Thread, thread_id)
        newest = conversation_context(thread, limit=2)
        earlier = conversation_context(thread, before=newest["messages"][0].id, limit=2)
    assert [m.content for m in newest["messages"]] == ["Message 2", "Message 3"]
    assert [n.new for n in newest["notes_before"][newest["messages"][0].id]] == ["refinement"]
    assert newest["trailing_notes"] == [] and earlier["notes_before"] == {} and earlier["trailing_notes"] == []


def test_the_model_is_told_the_date_where_the_user_is(
    app: Flask, client: FlaskClient, user: User, anthropic: FakeAnthropic
) -> None:
    # UTC+14 and UTC-11 are 25 hours apart: their dates always differ, so one differs from UTC's.
    for zone in ("Pacific/Kiritimati", "Pacific/Pago_Pago"):
        with app.app_context():
            db.session.get(User, user.id).timezone = zone
            db.session.commit()
        thread_id = make_thread(app, user.id, model_provider="anthropic", conversation_mode="meeting")
        anthropic.script(text_reply("Noted."), text_reply("title"))
        wait_for_reply(app, reply_id_from(post(client, thread_id, "What is the date?").get_data(as_text=True)))
        system = next(r.json()["system"] for r in reversed(anthropic.requests) if r.json()["max_tokens"] > 100)
        system = system if isinstance(system, str) else "".join(block["text"] for block in system)
        assert f"Today's date: {today_in(zone).isoformat()}." in system


def test_times_on_the_page_are_on_the_users_clock(app: Flask, client: FlaskClient, user: User) -> None:
    created = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    thread_id = make_thread(app, user.id, title="Clock check", created_at=created, last_activity_at=created)
    assert "01 Mar 2026 12:00 UTC" in client.get(f"/threads/{thread_id}").get_data(as_text=True)
    with app.app_context():
        db.session.get(User, user.id).timezone = "Asia/Tokyo"
        db.session.commit()
    assert "01 Mar 2026 21:00 JST" in client.get(f"/threads/{thread_id}").get_data(as_text=True)
    # Past a month, "active ... ago" turns into the date, also on the user's clock (2 March in Tokyo).
    late = datetime(2026, 3, 1, 16, 0, tzinfo=UTC)
    make_thread(app, user.id, title="Late one", created_at=late, last_activity_at=late)
    row = client.get("/chats").get_data(as_text=True).split('">Late one</a>')[1].split("</li>")[0]
    assert 'title="02 Mar 2026 01:00 JST">02 Mar 2026</time>' in row
    # Each message is labelled with its time; an earlier year's with its date there.
    with app.app_context():
        db.session.add(
            Message(
                thread_id=thread_id,
                role="user",
                content="Hi",
                status="complete",
                created_at=datetime(2024, 3, 1, 16, 0, tzinfo=UTC),
            )
        )
        db.session.commit()
    page = client.get(f"/threads/{thread_id}").get_data(as_text=True)
    assert 'title="02 Mar 2024 01:00 JST">2 Mar 2024</time>' in page
