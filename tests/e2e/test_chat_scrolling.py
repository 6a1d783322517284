"""Scrolling as users expect: a chat opens on its newest message, the view follows a reply while the
user is at the bottom, stays where they scrolled up to, and offers a way back down."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from ..fakes.anthropic import FakeAnthropic
from ..fakes.script import token_reply
from .conftest import DESKTOP, PHONE, Account, LiveServer, seed_chat

# Where the newest message is against the window and the sticky composer.
GEOMETRY = """() => {
  const all = document.querySelectorAll('#messages > .message');
  const last = all[all.length - 1].getBoundingClientRect();
  return {scrollY: window.scrollY, top: last.top, bottom: last.bottom,
          composerTop: document.getElementById('composer').getBoundingClientRect().top};
}"""


def newest_in_view(page: Page) -> bool:
    box = page.evaluate(GEOMETRY)
    return 0 < box["bottom"] <= box["composerTop"] + 2


def wait_until_newest_in_view(page: Page) -> None:
    page.wait_for_function(
        f"() => {{ const box = ({GEOMETRY})(); return box.bottom > 0 && box.bottom <= box.composerTop + 2; }}"
    )


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], indirect=True, ids=["desktop", "phone"])
def test_the_view_follows_the_reply_and_stays_where_the_user_scrolled(
    signed_in: Page, account: Account, live_server: LiveServer, anthropic: FakeAnthropic
) -> None:
    page = signed_in
    thread_id = seed_chat(live_server, account, exchanges=25)
    page.goto(f"/threads/{thread_id}")
    wait_until_newest_in_view(page)
    opened = page.evaluate(GEOMETRY)
    assert opened["scrollY"] > 500, "a long chat opens on its newest message"
    expect(page.get_by_role("button", name="Newest")).to_be_hidden()

    anthropic.script(token_reply(120, delay=0.04))
    page.get_by_label("Message", exact=True).fill("Walk me through all of it")
    page.get_by_label("Message", exact=True).press("Enter")
    reply = page.locator(".message-assistant").last
    expect(reply.locator(".stream-text")).to_contain_text("word10 ")
    # The user's message and the growing reply stay in sight, above the composer.
    wait_until_newest_in_view(page)
    following = page.evaluate(GEOMETRY)
    assert following["scrollY"] > opened["scrollY"]
    expect(reply.locator(".stream-text")).to_contain_text("word40 ")
    wait_until_newest_in_view(page)
    assert page.evaluate(GEOMETRY)["scrollY"] > following["scrollY"]

    # Scrolled up to read: the view stays put while the reply goes on, and offers the way back.
    page.mouse.wheel(0, -1500)
    page.wait_for_function("() => window.scrollY > 0")
    page.wait_for_timeout(200)
    held = page.evaluate("window.scrollY")
    expect(page.get_by_role("button", name="Newest")).to_be_visible()
    expect(reply.locator(".stream-text")).to_contain_text("word70 ")
    assert page.evaluate("window.scrollY") == held
    assert not newest_in_view(page)

    page.get_by_role("button", name="Newest").click()
    wait_until_newest_in_view(page)
    expect(reply.locator(".prose")).to_contain_text("word119", timeout=15_000)
    wait_until_newest_in_view(page)
    expect(page.get_by_role("button", name="Newest")).to_be_hidden()


def test_focused_controls_are_never_hidden_under_the_composer(
    signed_in: Page, account: Account, live_server: LiveServer
) -> None:
    page = signed_in
    thread_id = seed_chat(live_server, account, exchanges=12)
    page.goto(f"/threads/{thread_id}")
    wait_until_newest_in_view(page)
    page.evaluate("window.scrollTo(0, 0)")
    # Focus moves to the newest reply's actions: the page scrolls them clear of the sticky composer.
    page.locator(".message-assistant").last.get_by_role("button", name="Copy").focus()
    box = page.evaluate("""() => ({
      button: document.activeElement.getBoundingClientRect().bottom,
      composer: document.getElementById('composer').getBoundingClientRect().top})""")
    assert 0 < box["button"] <= box["composer"]


def test_a_link_to_one_message_opens_there(signed_in: Page, account: Account, live_server: LiveServer) -> None:
    page = signed_in
    thread_id = seed_chat(live_server, account, exchanges=25)
    page.goto(f"/threads/{thread_id}")
    first = page.locator(".message").first.get_attribute("id")
    page.goto("/")
    page.goto(f"/threads/{thread_id}#{first}")
    page.wait_for_load_state("load")
    expect(page.locator(f"#{first}")).to_be_in_viewport()
    assert not newest_in_view(page)
    expect(page.get_by_role("button", name="Newest")).to_be_visible()
