"""The composer: nothing typed is ever lost, the box fits its text, and the keyboard does what chat pages do."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import Browser, Page, expect

from webapp.extensions import db
from webapp.models import Thread, TokenUsage

from ..fakes.anthropic import FakeAnthropic
from ..fakes.script import token_reply
from .conftest import Account, LiveServer, new_account, register, seed_chat, user_id_of

DRAFT = "Which teams sign off the\nrelease, and when?"


def composer(page: Page):
    return page.get_by_label("Message", exact=True)


def open_chat(page: Page, thread_id: str) -> None:
    page.goto(f"/threads/{thread_id}")
    page.wait_for_load_state("domcontentloaded")


def type_and_send(page: Page, text: str = DRAFT) -> None:
    box = composer(page)
    box.fill(text)
    box.press("Enter")


def saved_draft(page: Page, thread_id: str) -> str | None:
    return page.evaluate(f"localStorage.getItem('draft:{thread_id}')")


def expect_kept(page: Page, thread_id: str, reason: str | re.Pattern[str]) -> None:
    """The refusal is said in the composer, and the text stays in the box and in the saved draft."""
    expect(page.locator("#composer-error")).to_contain_text(reason)
    expect(composer(page)).to_have_value(DRAFT)
    assert saved_draft(page, thread_id) == DRAFT


def test_a_send_while_a_reply_is_written_keeps_the_text_and_esc_stops_the_reply(
    signed_in: Page, account: Account, live_server: LiveServer, anthropic: FakeAnthropic
) -> None:
    page = signed_in
    thread_id = seed_chat(live_server, account)
    anthropic.script(token_reply(300, delay=0.03), token_reply(3))
    open_chat(page, thread_id)
    type_and_send(page, "Start a long answer")
    reply = page.locator(".message-assistant").last
    expect(reply.locator(".stream-text")).to_contain_text("word5 ")

    type_and_send(page)
    expect_kept(page, thread_id, "A reply is still being written: wait or press Stop")
    expect(page.locator(".message-user")).to_have_count(1)

    composer(page).press("Escape")
    expect(reply.get_by_text("Stopped", exact=True)).to_be_visible(timeout=2_000)
    composer(page).press("Enter")
    expect(page.locator(".message-user .user-text").last).to_have_text(DRAFT)
    expect(composer(page)).to_have_value("")
    expect(page.locator("#composer-error")).to_be_empty()
    assert saved_draft(page, thread_id) is None
    expect(page.locator(".message-assistant").last.locator(".prose")).to_have_text("word0 word1 word2")


def test_a_chat_whose_provider_was_removed_refuses_with_the_reason(
    signed_in: Page, account: Account, live_server: LiveServer
) -> None:
    page = signed_in
    thread_id = seed_chat(live_server, account, model_provider="gemini")
    open_chat(page, thread_id)
    type_and_send(page)
    expect_kept(page, thread_id, 'The provider "gemini" is not configured on this server')


def test_a_spent_budget_says_when_replies_resume(signed_in: Page, account: Account, live_server: LiveServer) -> None:
    page = signed_in
    thread_id = seed_chat(live_server, account)
    with live_server.app.app_context():
        db.session.add(
            TokenUsage(
                user_id=user_id_of(live_server, account),
                provider="anthropic",
                model="m",
                purpose="chat",
                input_tokens=1,
                output_tokens=1,
                cost=Decimal("60"),
            )
        )
        db.session.commit()
    open_chat(page, thread_id)
    type_and_send(page)
    expect_kept(page, thread_id, "Your monthly budget is spent ($60.00 of $50.00); new replies resume on the 1st")
    expect(page.locator("#toast")).to_be_hidden()


def log_out_in_another_tab(page: Page) -> None:
    other = page.context.new_page()
    other.goto("/")
    other.locator("#sidebar").get_by_role("button", name="Log out").click()
    expect(other).to_have_url("/login")
    other.close()


@pytest.mark.parametrize(
    "end_session",
    [lambda page: page.context.clear_cookies(), log_out_in_another_tab],
    ids=["cookie-gone", "logged-out-elsewhere"],
)
def test_an_ended_session_keeps_the_draft_through_logging_in_again(
    signed_in: Page, account: Account, live_server: LiveServer, end_session
) -> None:
    page = signed_in
    thread_id = seed_chat(live_server, account, model_provider="offline")
    open_chat(page, thread_id)
    end_session(page)
    type_and_send(page)
    expect_kept(page, thread_id, "Your session ended: log in again (your draft is kept).")
    assert page.url.endswith(f"/threads/{thread_id}")

    page.locator("#composer-error").get_by_role("link", name="log in again").click()
    page.get_by_label("Email").fill(account.email)
    page.get_by_label("Password").fill(account.password)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(rf"/threads/{thread_id}$"))
    expect(composer(page)).to_have_value(DRAFT)
    composer(page).press("Enter")
    expect(page.locator(".message-user .user-text").last).to_have_text(DRAFT)


def test_a_chat_deleted_meanwhile_keeps_the_text_to_copy(
    signed_in: Page, account: Account, live_server: LiveServer
) -> None:
    page = signed_in
    thread_id = seed_chat(live_server, account, model_provider="offline")
    open_chat(page, thread_id)
    with live_server.app.app_context():
        db.session.delete(db.session.get(Thread, thread_id))
        db.session.commit()
    type_and_send(page)
    expect_kept(page, thread_id, "This chat no longer exists. Your text is still in the box")


# What a reverse proxy or an outage answers, whatever the app would have said.
@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (413, "more than the server takes in one message"),
        (429, "Too many requests just now"),
        (502, "The server could not take the message (error 502)"),
        (503, "The server could not take the message (error 503)"),
    ],
)
def test_refusals_from_in_front_of_the_app_keep_the_text(
    signed_in: Page, account: Account, live_server: LiveServer, status: int, reason: str
) -> None:
    page = signed_in
    thread_id = seed_chat(live_server, account, model_provider="offline")
    open_chat(page, thread_id)
    page.route(f"**/threads/{thread_id}/messages", lambda route: route.fulfill(status=status, body="<h1>Refused</h1>"))
    type_and_send(page)
    expect_kept(page, thread_id, reason)
    expect(page.locator(".message-user")).to_have_count(0)
    expect(page.locator("#toast")).to_be_hidden()


def test_a_lost_connection_keeps_the_text(browser: Browser, live_server: LiveServer) -> None:
    # A context of its own: the browser reports the failed request as a console error, as it should.
    context = browser.new_context(base_url=live_server.url)
    try:
        page = context.new_page()
        account = new_account()
        register(page, account)
        thread_id = seed_chat(live_server, account, model_provider="offline")
        open_chat(page, thread_id)
        page.route(f"**/threads/{thread_id}/messages", lambda route: route.abort("internetdisconnected"))
        type_and_send(page)
        expect_kept(page, thread_id, "Cannot reach the server. Your text is kept")
        expect(page.locator("#toast")).to_be_hidden()
    finally:
        context.close()


def test_an_over_long_message_is_refused_with_the_limit_never_cut(
    signed_in: Page, account: Account, live_server: LiveServer
) -> None:
    page = signed_in
    thread_id = seed_chat(live_server, account, model_provider="offline")
    open_chat(page, thread_id)
    count = page.locator("#composer-count")
    composer(page).fill("x" * 1_000)
    expect(count).to_be_hidden()
    composer(page).fill("x" * 29_000)
    expect(count).to_have_text("29,000 / 32,000")
    long_text = "y" * 32_001
    composer(page).fill(long_text)
    expect(count).to_have_text("32,001 / 32,000")
    expect(count).to_have_class(re.compile(r"\bover\b"))
    sent: list[str] = []
    page.on("request", lambda request: sent.append(request.url) if request.method == "POST" else None)
    composer(page).press("Enter")
    expect(page.locator("#composer-error")).to_have_text(
        "Messages are limited to 32,000 characters; this one has 32,001. Shorten it, or add it to the chat as a document."
    )
    assert composer(page).input_value() == long_text and sent == []


def test_an_over_long_paste_is_refused_whole_and_can_become_a_document(
    signed_in: Page, account: Account, live_server: LiveServer
) -> None:
    page = signed_in
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    thread_id = seed_chat(
        live_server, account, model_provider="offline", thread_type="assistant", conversation_mode=None
    )
    open_chat(page, thread_id)
    pasted = ("Interview notes, line after line. " * 1_250)[:42_300]
    page.evaluate("text => navigator.clipboard.writeText(text)", pasted)
    composer(page).fill("Please summarise: ")
    composer(page).press("End")
    composer(page).press("Control+V")
    expect(page.locator("#composer-error")).to_contain_text(
        "That paste has 42,300 characters; a message holds at most 32,000, so nothing was pasted."
    )
    expect(composer(page)).to_have_value("Please summarise: ")

    page.get_by_role("button", name="Add it to the chat as a document").click()
    expect(page.locator("#upload-results")).to_contain_text("Pasted text.txt")
    expect(page.locator("#upload-results")).to_contain_text("Stored")
    expect(page.locator("#documents-count")).to_have_text("(1)")
    expect(page.locator("#document-list").get_by_role("link", name="Pasted text.txt", exact=True)).to_be_attached()

    # A paste that fits goes in as usual.
    page.evaluate("text => navigator.clipboard.writeText(text)", "the short part")
    composer(page).press("Control+V")
    expect(composer(page)).to_have_value("Please summarise: the short part")


def test_the_box_grows_with_its_text_then_scrolls_and_keys_work(
    signed_in: Page, account: Account, live_server: LiveServer
) -> None:
    page = signed_in
    thread_id = seed_chat(live_server, account, model_provider="offline")
    open_chat(page, thread_id)
    box = composer(page)
    expect(box).to_be_focused()
    empty = box.bounding_box()["height"]
    box.fill("\n".join(f"line {n}" for n in range(8)))
    grown = box.bounding_box()["height"]
    assert grown > empty * 1.5
    box.fill("\n".join(f"line {n}" for n in range(200)))
    tall = box.bounding_box()["height"]
    viewport = page.viewport_size["height"]
    assert viewport * 0.4 < tall <= viewport * 0.5 + 2
    assert page.evaluate("document.getElementById('composer-input').scrollHeight") > tall

    box.fill("First line")
    box.press("Shift+Enter")
    box.press_sequentially("second line")
    expect(box).to_have_value("First line\nsecond line")
    assert box.bounding_box()["height"] < grown
    box.press("Enter")
    expect(page.locator(".message-user .user-text").last).to_have_text("First line\nsecond line")
    expect(box).to_have_value("")


def test_shortcuts_are_listed_and_a_new_chat_is_one_key_away(
    signed_in: Page, account: Account, live_server: LiveServer
) -> None:
    page = signed_in
    thread_id = seed_chat(live_server, account, model_provider="offline")
    open_chat(page, thread_id)
    page.locator("h1").click()
    page.keyboard.press("?")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Stop the reply being written")
    expect(dialog).to_contain_text("Start a new chat")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    page.get_by_role("button", name="Keyboard shortcuts").click()
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()

    # Typing a question mark in the box is just typing.
    composer(page).press_sequentially("Why?")
    expect(dialog).to_be_hidden()
    composer(page).press("Control+Shift+O")
    expect(page).not_to_have_url(re.compile(rf"/threads/{thread_id}$"))
    expect(page).to_have_url(re.compile(r"/threads/[0-9a-f-]{36}$"))
    expect(page.get_by_role("heading", name="Untitled chat")).to_be_visible()
