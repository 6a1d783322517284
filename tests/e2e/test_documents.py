"""A project with a document: create it, upload a text file, and find a word in it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from .. import hostile

NOTES = b"""Kick-off meeting notes

The finance team wants invoice reconciliation to run every night.
Approval of the budget is expected in March.
"""


def test_create_a_project_upload_a_text_file_and_search_it(signed_in: Page) -> None:
    page = signed_in
    if page.goto("/projects").status == 404:
        pytest.skip("the project pages are not on this branch yet")
    expect(page.get_by_text("No projects yet")).to_be_visible()
    page.get_by_role("link", name="New project").click()
    page.get_by_label("Name").fill("Acme onboarding")
    page.get_by_label("Description").fill("Billing replacement for Acme")
    page.get_by_role("button", name="Create project").click()
    expect(page.get_by_role("heading", name="Acme onboarding", level=1)).to_be_visible()
    expect(page.get_by_text("No documents yet")).to_be_visible()

    files = page.get_by_role("button", name="Add documents")
    files.set_input_files({"name": "kickoff-notes.txt", "mimeType": "text/plain", "buffer": NOTES})
    page.get_by_role("button", name="Upload").click()
    outcome = page.locator("#upload-results li").filter(has_text="kickoff-notes.txt")
    expect(outcome).to_contain_text("Received")
    expect(page.locator("#document-list").get_by_role("link", name="kickoff-notes.txt", exact=True)).to_be_visible()
    expect(page.locator("#document-list tr").filter(has_text="kickoff-notes.txt")).to_contain_text("1 passage")
    expect(page.get_by_text("No documents yet")).to_have_count(0)
    expect(files).to_have_value("")

    search = page.get_by_label("Search this project's documents")
    search.fill("reconciliation")
    search.press("Enter")
    expect(page).to_have_url(re.compile(r"/search\?.*q=reconciliation"))
    hit = page.locator(".hit").first
    expect(hit.get_by_role("link", name="kickoff-notes.txt", exact=True)).to_be_visible()
    expect(hit.locator("mark")).to_have_text(["reconciliation"])

    # The search box on the results page searches as you type.
    box = page.get_by_label("Search words")
    box.fill("budget")
    expect(page.locator(".hit mark")).to_have_text(["budget"])
    expect(page).to_have_url(re.compile(r"q=budget"))
    box.fill("helicopter")
    expect(page.get_by_role("heading", name="Nothing found for “helicopter”")).to_be_visible()


def test_uploaded_files_turn_from_being_read_to_stored_or_refused_without_a_reload(signed_in: Page) -> None:
    page = signed_in
    page.goto("/projects/new")
    page.get_by_label("Name").fill("Imports")
    page.get_by_role("button", name="Create project").click()
    page.evaluate("window.sameDocument = true")  # gone if the page reloads
    slow = hostile.pdf_operator_flood(operations=60_000, pages=8)  # a second or two of reading
    page.get_by_role("button", name="Add documents").set_input_files(
        [
            {"name": "drawing.pdf", "mimeType": "application/pdf", "buffer": slow},
            {"name": "flood.pdf", "mimeType": "application/pdf", "buffer": hostile.pdf_operator_flood()},
            {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"Kick-off notes about invoices."},
        ]
    )
    page.get_by_role("button", name="Upload").click()
    rows = page.locator("#document-list tr")
    drawing = rows.filter(has_text="drawing.pdf")
    expect(drawing.locator(".badge")).to_have_text(re.compile("Reading|Waiting"))
    expect(drawing).to_contain_text("8 pages", timeout=30_000)
    expect(drawing.get_by_role("link", name="Download drawing.pdf")).to_be_visible()
    flood = rows.filter(has_text="flood.pdf")
    expect(flood.locator(".badge")).to_have_text("Not stored")
    expect(flood).to_contain_text("Page 1 holds more than the 100,000 drawing operations allowed per page.")
    expect(rows.filter(has_text="notes.txt")).to_contain_text("1 passage")
    assert page.evaluate("window.sameDocument") is True
    expect(page.locator("#document-list[hx-trigger]")).to_have_count(0)  # nothing left to follow
