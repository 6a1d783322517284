"""Recent chats in the sidebar: the latest ten, the open one marked, its title following the chat."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from webapp.extensions import db
from webapp.models import Thread, utcnow

from .conftest import PHONE, Account, LiveServer, seed_chat


def seed_chats(server: LiveServer, account: Account, count: int) -> list[str]:
    """`count` chats, "Chat 0" the least recently active; their ids in that order."""
    ids = [seed_chat(server, account, title=f"Chat {n}") for n in range(count)]
    with server.app.app_context():
        for n, thread_id in enumerate(ids):
            db.session.get(Thread, thread_id).last_activity_at = utcnow() - timedelta(hours=count - n)
        db.session.commit()
    return ids


def recent(page: Page):
    return page.locator("#sidebar").get_by_role("navigation", name="Recent chats").get_by_role("link")


def test_the_latest_ten_with_the_open_one_marked_and_titled_as_it_is_named(
    signed_in: Page, account: Account, live_server: LiveServer
) -> None:
    page = signed_in
    ids = seed_chats(live_server, account, 11)
    page.goto("/")
    expect(recent(page)).to_have_text([f"Chat {n}" for n in range(10, 0, -1)])

    recent(page).filter(has_text="Chat 4").click()
    expect(page).to_have_url(f"/threads/{ids[4]}")
    expect(recent(page).and_(page.locator("[aria-current=page]"))).to_have_text(["Chat 4"])

    page.locator("#sidebar").get_by_role("button", name="New chat").click()
    expect(page.get_by_role("heading", name="Untitled chat")).to_be_visible()
    expect(recent(page).first).to_have_text("Untitled chat")
    expect(recent(page).first).to_have_attribute("aria-current", "page")
    expect(recent(page)).to_have_count(10)

    # The offline provider names the chat after its first message; the sidebar follows without a reload.
    page.get_by_role("button", name="Meeting").first.click()
    expect(page.locator(".thread-badges")).to_have_text("Meeting")
    page.evaluate("window.pageMark = 'still here'")
    page.get_by_label("Message", exact=True).fill("Plan the Acme kick-off agenda")
    page.get_by_label("Message", exact=True).press("Enter")
    expect(recent(page).first).to_have_text("Plan the Acme kick-off agenda")
    assert page.evaluate("window.pageMark") == "still here"


@pytest.mark.parametrize("viewport", [PHONE], indirect=True, ids=["phone"])
def test_recent_chats_are_in_the_phone_drawer(signed_in: Page, account: Account, live_server: LiveServer) -> None:
    page = signed_in
    ids = seed_chats(live_server, account, 3)
    page.goto(f"/threads/{ids[0]}")
    expect(recent(page).first).not_to_be_in_viewport()
    page.get_by_role("button", name="Open menu").click()
    expect(recent(page)).to_have_text(["Chat 2", "Chat 1", "Chat 0"])
    expect(recent(page).last).to_have_attribute("aria-current", "page")
    recent(page).first.click()
    expect(page).to_have_url(f"/threads/{ids[2]}")
    expect(page.get_by_role("heading", name="Chat 2")).to_be_visible()
