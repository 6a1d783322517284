"""Versions in the browser: regenerate into ‹ 3/3 ›, switch and reload, edit an earlier message, stale buttons."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect

from ..fakes.anthropic import FakeAnthropic
from ..fakes.script import text_reply
from .conftest import Account, LiveServer, seed_chat
from .test_chat import send, start_chat


def count_of(bubble: Locator) -> Locator:
    return bubble.locator(".version-count")


def bubble_of(page: Page, role: str, text: str) -> Locator:
    return page.locator(f".message-{role}").filter(has_text=text)


def edit(bubble: Locator, text: str) -> None:
    bubble.locator("summary", has_text="Edit").click()
    box = bubble.get_by_label("Edit your message")
    box.fill(text)
    bubble.get_by_role("button", name="Send as a new version").click()


def test_regenerating_twice_makes_three_versions_to_switch_between(signed_in: Page, anthropic: FakeAnthropic) -> None:
    page = signed_in
    # Each reply of a chat's first exchange is followed by its title.
    anthropic.script(
        text_reply("First answer"),
        text_reply("Risks"),
        text_reply("Second answer"),
        text_reply("Risks"),
        text_reply("Third answer"),
        text_reply("Risks"),
    )
    start_chat(page, provider="anthropic", mode="refinement")
    reply = send(page, "Which risks matter most?")
    expect(reply.locator(".prose")).to_have_text("First answer")
    for text, versions in (("Second answer", "2/2"), ("Third answer", "3/3")):
        page.locator(".message-assistant").get_by_role("button", name="Regenerate").click()
        reply = page.locator(".message-assistant")
        expect(reply.locator(".prose")).to_have_text(text)
        expect(count_of(reply)).to_have_text(versions)
    expect(reply).to_have_count(1)
    expect(reply.get_by_role("button", name="Next version")).to_be_disabled()

    # ‹ from the keyboard, then with the mouse, then ›.
    reply.get_by_role("button", name="Previous version").focus()
    page.keyboard.press("Enter")
    reply = page.locator(".message-assistant")
    expect(reply.locator(".prose")).to_have_text("Second answer")
    expect(count_of(reply)).to_have_text("2/3")
    reply.get_by_role("button", name="Previous version").click()
    expect(page.locator(".message-assistant .prose")).to_have_text("First answer")
    expect(page.get_by_role("button", name="Previous version")).to_be_disabled()
    page.get_by_role("button", name="Next version").click()
    expect(page.locator(".message-assistant .prose")).to_have_text("Second answer")

    page.reload()
    reply = page.locator(".message-assistant")
    expect(reply.locator(".prose")).to_have_text("Second answer")
    expect(count_of(reply)).to_have_text("2/3")
    expect(reply.locator(".versions")).to_have_text(re.compile(r"‹\s*2/3\s*›"))


def test_editing_an_earlier_message_makes_a_branch(
    signed_in: Page, live_server: LiveServer, account: Account, anthropic: FakeAnthropic
) -> None:
    page = signed_in
    thread_id = seed_chat(live_server, account, exchanges=2)
    anthropic.script(text_reply("An answer to the edited question."))
    page.goto(f"/threads/{thread_id}")
    edit(bubble_of(page, "user", "Question 0"), "Question 0, asked better")
    edited = bubble_of(page, "user", "Question 0, asked better")
    expect(count_of(edited)).to_have_text("2/2")
    expect(page.locator(".message-assistant .prose").last).to_have_text("An answer to the edited question.")
    expect(page.locator(".message")).to_have_count(2)

    edited.get_by_role("button", name="Previous version").click()
    expect(page.locator(".message-user .user-text")).to_have_text(["Question 0", "Question 1"])
    expect(count_of(page.locator(".message-user").first)).to_have_text("1/2")
    page.reload()
    expect(page.locator(".message")).to_have_count(4)


def test_a_stale_edit_button_cannot_touch_another_message(
    signed_in: Page, live_server: LiveServer, account: Account, anthropic: FakeAnthropic
) -> None:
    page = signed_in
    thread_id = seed_chat(live_server, account, exchanges=1)
    anthropic.script(text_reply("Answer 1."), text_reply("An answer to the edited question."))
    page.goto(f"/threads/{thread_id}")
    expect(page.locator(".message")).to_have_count(2)
    # A newer exchange, from another tab: this page is not reloaded and does not show it.
    other = page.context.new_page()
    other.goto(f"/threads/{thread_id}")
    expect(send(other, "Question 1").locator(".prose")).to_have_text("Answer 1.")

    # This page's Edit names its own message: the newer one is left as it is.
    edit(bubble_of(page, "user", "Question 0"), "Question 0, asked better")
    expect(page.locator(".message-assistant .prose").last).to_have_text("An answer to the edited question.")

    # The other tab's Edit on "Question 1" is stale now: refused in words, the text kept in its box.
    stale = bubble_of(other, "user", "Question 1")
    edit(stale, "Question 1, changed")
    expect(other.locator("#composer-error")).to_contain_text("no longer on the version of the chat that is shown")
    expect(stale.get_by_label("Edit your message")).to_have_value("Question 1, changed")

    other.reload()
    expect(other.locator(".message-user .user-text")).to_have_text(["Question 0, asked better"])
    other.get_by_role("button", name="Previous version").click()
    expect(other.locator(".message-user .user-text")).to_have_text(["Question 0", "Question 1"])
    expect(other.locator(".message-assistant .prose").last).to_have_text("Answer 1.")
