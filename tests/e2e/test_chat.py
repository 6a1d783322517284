"""A conversation in the browser: posting, streaming, resuming after a reload, and stopping."""

from __future__ import annotations

import re
import time

from playwright.sync_api import Locator, Page, expect

from ..fakes.anthropic import FakeAnthropic
from ..fakes.script import text_reply, token_reply

# Remembers, in the page, the reply text as streamed just before the final bubble replaces it.
RECORD_STREAMED_TEXT = """
document.addEventListener("htmx:sseBeforeMessage", function (event) {
  if (event.detail.type !== "done") return;
  var text = event.target.closest(".message").querySelector(".stream-text");
  window.streamedBeforeDone = text ? text.textContent : null;
});
"""


def start_chat_from_home(page: Page) -> None:
    page.goto("/")
    page.locator("#main").get_by_role("button", name="New chat").click()
    expect(page.get_by_role("heading", name="Untitled chat")).to_be_visible()


def start_chat(page: Page, *, provider: str, mode: str) -> None:
    """Start a chat with the New chat form of the Chats section."""
    page.goto("/chats/new")
    page.get_by_label("Provider", exact=True).select_option(provider)
    page.get_by_label("Mode", exact=True).select_option(mode)
    page.get_by_role("button", name="Start chat").click()
    expect(page.get_by_role("heading", name="Untitled chat")).to_be_visible()


def send(page: Page, text: str) -> Locator:
    """Type `text` in the composer, press Enter, and return the reply's bubble."""
    # The page's scripts (deferred) handle Enter; a heading can be visible before they have run.
    page.wait_for_load_state("domcontentloaded")
    page.get_by_label("Message", exact=True).fill(text)
    page.get_by_label("Message", exact=True).press("Enter")
    expect(page.locator(".message-user").last).to_have_text(re.compile(re.escape(text)))
    return page.locator(".message-assistant").last


def mark_page(page: Page) -> None:
    """Tag the current document, so a later check can tell whether the page was loaded again."""
    page.evaluate("window.pageMark = 'still here'")


def assert_same_page(page: Page) -> None:
    assert page.evaluate("window.pageMark") == "still here", "the page was loaded again"


def test_offline_chat_streams_a_rendered_reply_and_keeps_the_draft(signed_in: Page) -> None:
    page = signed_in
    page.add_init_script(RECORD_STREAMED_TEXT)
    start_chat_from_home(page)
    page.get_by_role("button", name=re.compile("^Meeting")).click()
    expect(page.locator(".thread-badges")).to_have_text("Meeting")
    expect(page.get_by_role("heading", name="How do you want to work?")).to_have_count(0)

    mark_page(page)
    reply = send(page, "What should we ask the **finance** team?")
    expect(reply).to_be_visible()
    expect(reply.locator(".prose")).to_contain_text("No language model is configured")
    expect(reply).not_to_have_attribute("aria-busy", "true")
    expect(reply.get_by_role("button", name="Stop")).to_have_count(0)
    # Markdown, rendered: the setup help is a list with code, not asterisks and backticks.
    expect(reply.locator(".prose li code").filter(has_text="ANTHROPIC_API_KEY")).to_be_visible()
    expect(reply.locator(".prose")).not_to_contain_text("`")
    streamed = page.evaluate("window.streamedBeforeDone")
    assert "No language model is configured" in streamed and "- `ANTHROPIC_API_KEY`" in streamed
    user_bubble = page.locator(".message-user").last
    expect(user_bubble).to_have_text(re.compile(r"What should we ask the \*\*finance\*\* team\?"))
    composer = page.get_by_label("Message", exact=True)
    expect(composer).to_have_value("")
    # The title made from the first message reaches the heading and the tab without a reload,
    # and the details panel counts the reply's tokens.
    expect(page.get_by_role("heading", name="What should we ask the finance team?")).to_be_visible()
    expect(page).to_have_title("What should we ask the finance team? · BA Assistant")
    expect(page.locator("#thread-totals dd").first).to_have_text(re.compile(r"^[1-9]\d* in / [1-9]\d* out$"))
    assert_same_page(page)

    composer.press_sequentially("A draft I have not sent")
    page.reload()
    expect(page.get_by_label("Message", exact=True)).to_have_value("A draft I have not sent")
    expect(page.locator(".message-assistant")).to_have_count(1)


EXPECTED = "".join(f"word{i} " for i in range(60))


def test_a_reload_mid_reply_shows_the_text_so_far_and_resumes_without_gap_or_duplicate(
    signed_in: Page, anthropic: FakeAnthropic
) -> None:
    page = signed_in
    page.add_init_script(RECORD_STREAMED_TEXT)
    # The reply, then the title the app asks for after a chat's first exchange.
    anthropic.script(token_reply(60, delay=0.05), text_reply("Pacing check"))
    start_chat(page, provider="anthropic", mode="meeting")
    reply = send(page, "Count for me")
    expect(reply.locator(".stream-text")).to_contain_text("word10 ")

    # The page as the server sends it already holds the text so far.
    html = page.reload().text()
    saved = re.search(r'class="stream-text"[^>]*>([^<]*)<', html)
    assert saved and saved.group(1).startswith("word0 word1 word2 ") and EXPECTED.startswith(saved.group(1))
    reply = page.locator(".message-assistant").last
    expect(reply).to_have_attribute("aria-busy", "true")
    expect(reply.locator(".stream-text")).to_contain_text(saved.group(1))

    expect(reply.locator(".prose")).to_have_text(EXPECTED.strip(), timeout=15_000)
    assert page.evaluate("window.streamedBeforeDone") == EXPECTED
    page.reload()
    expect(page.locator(".message-assistant .prose")).to_have_text(EXPECTED.strip())


def test_stop_ends_a_long_reply_at_once_and_keeps_its_text(signed_in: Page, anthropic: FakeAnthropic) -> None:
    page = signed_in
    anthropic.script(token_reply(400, delay=0.05))
    start_chat(page, provider="anthropic", mode="refinement")
    reply = send(page, "Write a lot")
    expect(reply.locator(".stream-text")).to_contain_text("word5 ")

    clicked = time.monotonic()
    reply.get_by_role("button", name="Stop").click()
    expect(reply.get_by_text("Stopped", exact=True)).to_be_visible(timeout=2_000)
    assert time.monotonic() - clicked < 2.0  # the reply had 20 s left
    expect(reply).not_to_have_attribute("aria-busy", "true")
    kept = reply.locator(".prose").inner_text()
    assert kept.startswith("word0 word1 word2 word3 word4 word5") and "word399" not in kept

    # Nothing more arrives, and the stopped reply reads the same after a reload.
    page.wait_for_timeout(300)
    assert reply.locator(".prose").inner_text() == kept
    page.reload()
    reply = page.locator(".message-assistant").last
    expect(reply.get_by_text("Stopped", exact=True)).to_be_visible()
    expect(reply.locator(".prose")).to_have_text(kept)


def test_a_reply_cut_at_the_length_limit_goes_on_in_place_with_continue(
    signed_in: Page, anthropic: FakeAnthropic
) -> None:
    page = signed_in
    anthropic.script(
        text_reply("The scope covers billing, ", chunks=3, stop="max_tokens"),
        text_reply("invoicing and refunds.", chunks=3, delay=0.05),
    )
    start_chat(page, provider="anthropic", mode="refinement")
    reply = send(page, "What is in scope?")
    expect(reply.get_by_text("Cut off at the length limit")).to_be_visible()
    mark_page(page)

    reply.get_by_role("button", name="Continue").click()
    reply = page.locator(".message-assistant").last
    expect(reply.locator(".prose")).to_have_text("The scope covers billing, invoicing and refunds.")
    expect(page.locator(".message-assistant")).to_have_count(1)
    expect(reply.get_by_text("Cut off at the length limit")).to_have_count(0)
    expect(reply.get_by_role("button", name="Continue")).to_have_count(0)
    assert_same_page(page)
    page.reload()
    expect(page.locator(".message-assistant .prose")).to_have_text("The scope covers billing, invoicing and refunds.")
