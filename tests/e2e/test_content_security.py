"""The main pages under the Content-Security-Policy: a browser that enforces it reports no violation."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from ..fakes.anthropic import FakeAnthropic
from ..fakes.script import text_reply
from .test_chat import send, start_chat

# Kept in the page by the browser itself, for every document the test loads.
RECORD_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.cspViolations.push(event.violatedDirective + " blocked " + (event.blockedURI || "inline code"));
});
"""
REPLY = (
    "Here is the plan.\n\n| Step | Owner | Days |\n|:--|:-:|--:|\n| Kick-off | Ana | 1 |\n\n"
    "```python\nprint('approved')\n```\n"
)


@pytest.fixture
def violations(signed_in: Page) -> Iterator[list[str]]:
    """Every violation the browser reports, in the console or as an event, across the test's pages."""
    found: list[str] = []

    def console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            found.append(message.text)

    signed_in.on("console", console)
    signed_in.add_init_script(RECORD_VIOLATIONS)
    yield found
    assert not found, f"the Content-Security-Policy blocked something: {found}"


def visit(page: Page, found: list[str], url: str | None = None) -> None:
    if url is not None:
        page.goto(url)
    page.wait_for_load_state("load")
    found.extend(page.evaluate("window.cspViolations || []"))
    page.evaluate("window.cspViolations = []")


def test_main_pages_and_a_streamed_reply_break_no_rule_of_the_policy(
    signed_in: Page, violations: list[str], anthropic: FakeAnthropic
) -> None:
    page = signed_in
    for url in (
        "/",
        "/projects",
        "/projects/new",
        "/chats",
        "/chats/new",
        "/assistant",
        "/tasks",
        "/settings",
        "/artifacts",
        "/search?q=budget",
        "/chats/search?q=plan",
        "/no-such-page",
    ):
        visit(page, violations, url)

    page.goto("/projects/new")
    page.get_by_label("Name").fill("Acme onboarding")
    page.get_by_role("button", name="Create project").click()
    page.get_by_role("button", name="Add documents").set_input_files(
        {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"Budget owner: Ana."}
    )
    page.get_by_role("button", name="Upload").click()
    expect(page.locator("#upload-results li")).to_contain_text("Stored")
    visit(page, violations)
    page.locator("#document-list").get_by_role("link", name="notes.txt", exact=True).click()
    visit(page, violations)

    anthropic.script(text_reply(REPLY, chunks=8), text_reply("Kick-off plan"))
    start_chat(page, provider="anthropic", mode="meeting")
    reply = send(page, "Plan the kick-off")
    expect(reply.locator(".prose table td").last).to_have_text("1")
    expect(reply.locator(".prose td").last).to_have_css("text-align", "right")
    visit(page, violations)
    page.reload()
    visit(page, violations)
