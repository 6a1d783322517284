"""Files into the chat: Attach or drop them on the page; they join the chat's documents in place."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from webapp.extensions import db
from webapp.models import Project

from .conftest import Account, LiveServer, seed_chat, user_id_of

NOTES = b"Kick-off notes\n\nThe finance team signs off the release on Fridays.\n"

# Drops files made in the page onto the conversation, as a file manager would.
DROP = """([names, size]) => {
  const files = new DataTransfer();
  for (const name of names) files.items.add(new File([name + " " + "x".repeat(size)], name, {type: "text/plain"}));
  const target = document.getElementById("messages");
  target.dispatchEvent(new DragEvent("dragover", {dataTransfer: files, bubbles: true, cancelable: true}));
  const overlay = !document.querySelector("[data-drop-overlay]")?.hidden;
  target.dispatchEvent(new DragEvent("drop", {dataTransfer: files, bubbles: true, cancelable: true}));
  return overlay;
}"""


def test_attach_adds_files_to_an_assistant_chats_own_documents(
    signed_in: Page, account: Account, live_server: LiveServer
) -> None:
    page = signed_in
    thread_id = seed_chat(
        live_server, account, thread_type="assistant", conversation_mode=None, model_provider="offline"
    )
    page.goto(f"/threads/{thread_id}")
    expect(page.locator("#documents-count")).to_have_text("(0)")
    page.evaluate("window.pageMark = 'still here'")
    with page.expect_file_chooser() as chooser:
        page.locator("#composer").get_by_text("Attach").click()
    chooser.value.set_files([{"name": "kickoff-notes.txt", "mimeType": "text/plain", "buffer": NOTES}])
    outcome = page.locator("#upload-results li").filter(has_text="kickoff-notes.txt")
    expect(outcome).to_contain_text("Stored")
    expect(page.locator("#documents-count")).to_have_text("(1)")
    expect(page.locator("#document-list").get_by_role("link", name="kickoff-notes.txt", exact=True)).to_be_attached()
    expect(page.locator("#upload-files")).to_have_value("")
    assert page.evaluate("window.pageMark") == "still here"

    # The answers search what was added.
    page.get_by_label("Message", exact=True).fill("finance")
    page.get_by_label("Message", exact=True).press("Enter")
    expect(page.locator(".message-assistant").last.locator(".prose")).to_contain_text("kickoff-notes.txt")


def test_files_dropped_on_a_project_chat_join_the_project(
    signed_in: Page, account: Account, live_server: LiveServer
) -> None:
    page = signed_in
    with live_server.app.app_context():
        project = Project(user_id=user_id_of(live_server, account), name="Acme onboarding")
        db.session.add(project)
        db.session.commit()
        project_id = project.id
    thread_id = seed_chat(live_server, account, project_id=project_id, model_provider="offline")
    page.goto(f"/threads/{thread_id}")
    expect(page.get_by_text("Project documents")).to_be_visible()
    assert page.evaluate(DROP, [["scope.txt", "risks.txt"], 200]) is True
    expect(page.locator("#upload-results li")).to_have_count(2)
    expect(page.locator("#upload-results")).to_contain_text("scope.txt")
    expect(page.locator("#documents-count")).to_have_text("(2)")
    expect(page.locator("[data-drop-overlay]")).to_be_hidden()

    # Too large for the server: said at once, nothing sent.
    page.evaluate(DROP, [["huge.txt"], 26 * 1024 * 1024])
    expect(page.locator("#toast")).to_contain_text("huge.txt: larger than 25 MB per file.")
    expect(page.locator("#documents-count")).to_have_text("(2)")

    page.goto(f"/projects/{project_id}")
    expect(page.locator("#document-list").get_by_role("link", name="risks.txt", exact=True)).to_be_visible()


def test_a_chat_in_no_project_says_where_files_can_go(
    signed_in: Page, account: Account, live_server: LiveServer
) -> None:
    page = signed_in
    thread_id = seed_chat(live_server, account, model_provider="offline")
    page.goto(f"/threads/{thread_id}")
    expect(page.get_by_text("Attach")).to_have_count(0)
    page.evaluate(DROP, [["scope.txt"], 10])
    expect(page.locator("#toast")).to_have_text(re.compile("move it into a project to add files"))
    expect(page).to_have_url(re.compile(rf"/threads/{thread_id}$"))
