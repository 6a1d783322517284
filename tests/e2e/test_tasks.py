"""The task list: add with Enter, tick off, delete and undo, all in place."""

from __future__ import annotations

import re

from playwright.sync_api import Dialog, Page, expect

TITLE = "Send the minutes to Acme"


def test_add_complete_delete_and_undo_a_task(signed_in: Page) -> None:
    page = signed_in
    page.locator("#sidebar").get_by_role("link", name="Tasks", exact=True).click()
    expect(page.get_by_text("No tasks yet")).to_be_visible()
    page.evaluate("window.pageMark = 'still here'")

    title = page.get_by_label("New task")
    title.fill(TITLE)
    title.press("Enter")
    row = page.locator(".task-row").filter(has_text=TITLE)
    expect(row).to_be_visible()
    expect(page.get_by_label("New task")).to_have_value("")
    expect(page.get_by_label("New task")).to_be_focused()
    expect(page.locator("#task-counts")).to_have_text("1 pending · 0 completed")
    expect(page.get_by_text("No tasks yet")).to_have_count(0)

    row.get_by_role("checkbox", name=f"Mark as done: {TITLE}").click()
    expect(row.get_by_role("checkbox", name=f"Mark as not done: {TITLE}")).to_have_attribute("aria-checked", "true")
    expect(row).to_have_class(re.compile(r"\bis-done\b"))
    expect(page.locator("#task-counts")).to_have_text("0 pending · 1 completed")

    confirmations: list[str] = []

    def accept(dialog: Dialog) -> None:
        confirmations.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    row.get_by_role("link", name=f"Delete {TITLE}").click()
    undo_row = page.locator(".task-row").filter(has_text=f"Deleted “{TITLE}”.")
    expect(undo_row).to_be_visible()
    assert confirmations == [f"Delete “{TITLE}”? You can undo for a minute."]
    expect(page.locator("#task-counts")).to_have_text("0 pending · 0 completed")

    undo_row.get_by_role("button", name="Undo").click()
    expect(undo_row).to_have_count(0)
    expect(row).to_be_visible()
    expect(row).to_have_class(re.compile(r"\bis-done\b"))
    expect(page.locator("#task-counts")).to_have_text("0 pending · 1 completed")
    assert page.evaluate("window.pageMark") == "still here", "the page was loaded again"

    page.reload()
    expect(page.locator(".task-row").filter(has_text=TITLE)).to_be_visible()
    expect(page.locator("#task-counts")).to_have_text("0 pending · 1 completed")
