"""From sources to backlog in the browser: the assistant saves stories citing a passage; the analyst opens
the passage, edits a story in place, sees the new version, and exports the stories for Jira."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from playwright.sync_api import Page, expect

from webapp.auth.service import find_by_email

from ..backlog_data import make_document, make_project
from ..chat_helpers import make_thread
from ..fakes.anthropic import FakeAnthropic
from ..fakes.script import text_reply, tool_reply
from .conftest import Account, LiveServer
from .test_chat import assert_same_page, mark_page, send


def test_stories_with_sources_are_edited_and_exported_for_jira(
    signed_in: Page, account: Account, live_server: LiveServer, anthropic: FakeAnthropic
) -> None:
    page, app = signed_in, live_server.app
    with app.app_context():
        user_id = find_by_email(account.email).id
    project_id = make_project(app, user_id, "Webshop")
    document_id, passages = make_document(app, user_id, project_id=project_id)
    thread_id = make_thread(
        app, user_id, project_id=project_id, model_provider="anthropic", title="Checkout", title_locked=True
    )
    stories = {
        "artifact_type": "user_stories",
        "title": "Checkout stories",
        "items": [
            {
                "kind": "story",
                "title": "Pay by card",
                "as_a": "shopper",
                "i_want": "to pay by card",
                "so_that": "I can check out without cash",
                "priority": "must",
                "acceptance_criteria": ["Given a basket\nWhen I pay by card\nThen the order is placed"],
                "sources": [passages[1]],
            }
        ],
    }
    anthropic.script(
        tool_reply("search_documents", {"query": "card"}),
        tool_reply("save_artifact", stories, call_id="call_2"),
        text_reply("I saved the checkout stories, citing the kick-off notes."),
    )

    page.goto(f"/threads/{thread_id}")
    reply = send(page, "Write the checkout stories from the kick-off notes")
    expect(reply.locator(".prose")).to_contain_text("I saved the checkout stories")

    page.goto(f"/projects/{project_id}?tab=artifacts")
    page.get_by_role("link", name="Checkout stories").click()
    story = page.locator("#item-US-1")
    expect(story.get_by_role("heading", level=3)).to_have_text("US-1 Pay by card")
    expect(story).to_contain_text("As a shopper, I want to pay by card, so that I can check out without cash.")

    # The source opens its passage, highlighted, and the passage names the story that cites it.
    story.get_by_role("link", name="kickoff.txt, §2").click()
    expect(page).to_have_url(re.compile(rf"/documents/{document_id}#chunk-2$"))
    passage = page.locator("#chunk-2")
    expect(passage).to_contain_text("Shoppers must be able to pay by card")
    assert passage.evaluate("element => element.matches(':target')")
    expect(passage.get_by_role("link", name="US-1 Pay by card")).to_be_visible()
    page.go_back()

    # Edit in place: the form replaces the card; an empty title is refused with the field named.
    mark_page(page)
    story.get_by_role("link", name="Edit US-1").click()
    title = story.get_by_label("Title")
    expect(title).to_have_value("Pay by card")
    assert_same_page(page)
    title.fill("")
    story.get_by_role("button", name="Save US-1").click()
    expect(story.get_by_role("alert")).to_have_text("Nothing was saved. Fill in or fix: Title.")
    expect(story.get_by_label("Title")).to_have_attribute("aria-invalid", "true")
    story.get_by_label("Title").fill("Pay by card or wallet")
    story.get_by_label("I want").fill("to pay by card or with a wallet")
    story.get_by_role("button", name="Save US-1").click()

    expect(page.get_by_text("US-1 saved as version 2.")).to_be_visible()
    expect(page.locator(".artifact-meta")).to_contain_text("Version 2 of 2")
    expect(page.locator("#item-US-1").get_by_role("heading", level=3)).to_have_text("US-1 Pay by card or wallet")
    expect(page.locator("#versions li")).to_have_count(2)

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Jira CSV").click()
    download = download_info.value
    assert download.suggested_filename == "checkout-stories-jira.csv"
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"), newline="")))
    assert len(rows) == 1
    assert rows[0]["Summary"] == "Pay by card or wallet" and rows[0]["Issue Type"] == "Story"
    assert rows[0]["Priority"] == "Highest"
    assert rows[0]["Description"].startswith("As a shopper, I want to pay by card or with a wallet, so that")
    assert "# Given a basket \\\\ When I pay by card \\\\ Then the order is placed" in rows[0]["Description"]
