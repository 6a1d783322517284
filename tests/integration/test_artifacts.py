"""Artifact pages through HTTP: the list, one artifact with its versions and changes, exports, delete."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from io import BytesIO
from typing import Any

import docx
import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader

from webapp.artifacts import service
from webapp.extensions import db
from webapp.models import Artifact, Project, Thread, User

from ..chat_helpers import make_thread, reply_id_from, wait_for_reply
from ..conftest import other_client
from ..fakes.anthropic import FakeAnthropic
from ..fakes.script import text_reply, tool_reply

STORIES = """# Checkout stories

As a **shopper** I want to pay by card, café included — “quickly”.

## Stories

1. Pay by card
2. Get a receipt

- Works on mobile
- Works offline

| Story | Points |
|-------|-------:|
| Pay by card | 3 |
| Receipt | 5 |

```
Given a basket
```
"""


def save(app: Flask, thread_id: str, title: str, content: str, artifact_type: str = "user_stories") -> str:
    with app.app_context():
        thread = db.session.get(Thread, thread_id)
        artifact = service.save_artifact(
            thread=thread, message_id=None, artifact_type=artifact_type, title=title, content_markdown=content
        )
        db.session.commit()
        return artifact.id


def make_project(app: Flask, user_id: str, name: str) -> str:
    with app.app_context():
        project = Project(user_id=user_id, name=name)
        db.session.add(project)
        db.session.commit()
        return project.id


def page_text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def thread_id(app: Flask, user: User) -> str:
    return make_thread(app, user.id, title="Checkout discovery")


def test_empty_list_explains_where_artifacts_come_from(client: FlaskClient, user: User) -> None:
    html = page_text(client.get("/artifacts"))
    assert "No artifacts yet" in html and "saved by the assistant in BA chats" in html
    assert "user stories" in html and 'href="/chats"' in html
    assert '<a href="/artifacts" class="nav-link active"' in html


def test_list_shows_the_newest_version_of_each_newest_first(
    app: Flask, client: FlaskClient, user: User, thread_id: str
) -> None:
    project_id = make_project(app, user.id, "Webshop")
    in_project = make_thread(app, user.id, title="Webshop chat", project_id=project_id)
    save(app, thread_id, "Checkout stories", "v1")
    save(app, in_project, "Webshop BRD", "The BRD", "brd")
    save(app, thread_id, "Checkout stories", "v2")
    html = page_text(client.get("/artifacts"))
    rows = re.findall(r'<tr id="artifact-.*?</tr>', html, re.DOTALL)
    assert len(rows) == 2
    assert "Checkout stories" in rows[0] and "User stories" in rows[0] and "Checkout discovery" in rows[0]
    assert "No project" in rows[0] and '<td class="numeric">2</td>' in rows[0]
    assert "Webshop BRD" in rows[1] and "Business requirements (BRD)" in rows[1] and "Webshop" in rows[1]


def test_list_filters_by_type_and_project(app: Flask, client: FlaskClient, user: User, thread_id: str) -> None:
    project_id = make_project(app, user.id, "Webshop")
    in_project = make_thread(app, user.id, title="Webshop chat", project_id=project_id)
    save(app, thread_id, "Checkout stories", "stories")
    save(app, in_project, "Webshop BRD", "The BRD", "brd")
    by_type = page_text(client.get("/artifacts?type=brd"))
    assert "Webshop BRD" in by_type and "Checkout stories" not in by_type
    by_project = page_text(client.get(f"/artifacts?project={project_id}"))
    assert "Webshop BRD" in by_project and "Checkout stories" not in by_project
    no_project = page_text(client.get("/artifacts?project=none"))
    assert "Checkout stories" in no_project and "Webshop BRD" not in no_project
    nothing = page_text(client.get(f"/artifacts?project={project_id}&type=user_stories"))
    assert "No artifacts match" in nothing
    fragment = client.get("/artifacts?type=brd", headers={"HX-Request": "true", "HX-Target": "artifact-library"})
    assert "Webshop BRD" in page_text(fragment) and "<html" not in page_text(fragment)


def test_show_renders_sanitised_markdown_with_links_and_exports(app: Flask, client: FlaskClient, user: User) -> None:
    project_id = make_project(app, user.id, "Webshop")
    thread_id = make_thread(app, user.id, title="Webshop chat", project_id=project_id)
    artifact_id = save(app, thread_id, "Checkout stories", STORIES + "\n<script>alert(1)</script>\n")
    html = page_text(client.get(f"/artifacts/{artifact_id}"))
    assert "<strong>shopper</strong>" in html and "<table>" in html
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html
    assert f'href="/threads/{thread_id}"' in html and "Webshop chat" in html
    assert f'href="/projects/{project_id}?tab=artifacts"' in html
    for extension in ("md", "docx", "pdf"):
        assert f"/artifacts/{artifact_id}/export.{extension}" in html
    assert "Version 1 of 1" in html


def test_versions_can_each_be_viewed_and_compared(app: Flask, client: FlaskClient, thread_id: str) -> None:
    first = save(app, thread_id, "Login stories", "# Login\n\n- Sign in\n- Sign out\n")
    second = save(
        app, thread_id, "login stories", "# Login\n\n- Sign in with <b>SSO</b>\n- Sign out\n- Reset password\n"
    )
    latest = page_text(client.get(f"/artifacts/{second}"))
    assert "Version 2 of 2" in latest and "Sign in with &lt;b&gt;SSO&lt;/b&gt;" in latest
    assert f'href="/artifacts/{first}"' in latest and f'href="/artifacts/{second}/changes"' in latest
    earlier = page_text(client.get(f"/artifacts/{first}"))
    assert "This is an earlier version" in earlier and "Version 1 of 2" in earlier and "Reset password" not in earlier
    changes = page_text(client.get(f"/artifacts/{second}/changes"))
    assert "Changes from version 1 to version 2" in changes and "2 lines added, 1 line removed." in changes
    assert re.search(r'diff-removed">.*?Removed: </span>- Sign in</div>', changes)
    assert re.search(r'diff-added">.*?Added: </span>- Sign in with &lt;b&gt;SSO&lt;/b&gt;</div>', changes)
    assert "<b>SSO" not in changes
    assert "is the first version" in page_text(client.get(f"/artifacts/{first}/changes"))


def test_markdown_export_is_the_content_as_saved(app: Flask, client: FlaskClient, thread_id: str) -> None:
    artifact_id = save(app, thread_id, "Checkout stories: café", STORIES)
    response = client.get(f"/artifacts/{artifact_id}/export.md")
    assert response.status_code == 200 and response.mimetype == "text/markdown"
    assert response.headers["Content-Disposition"] == 'attachment; filename="checkout-stories-cafe-v1.md"'
    assert response.get_data(as_text=True) == STORIES


def test_docx_export_keeps_headings_lists_and_tables(app: Flask, client: FlaskClient, thread_id: str) -> None:
    save(app, thread_id, "Checkout stories", "old")
    artifact_id = save(app, thread_id, "Checkout stories", STORIES)
    response = client.get(f"/artifacts/{artifact_id}/export.docx")
    assert response.headers["Content-Disposition"] == 'attachment; filename="checkout-stories-v2.docx"'
    document = docx.Document(BytesIO(response.data))
    paragraphs = [(p.style.name, p.text) for p in document.paragraphs]
    assert paragraphs[0] == ("Title", "Checkout stories")
    assert ("Heading 2", "Stories") in paragraphs
    assert ("List Number", "Pay by card") in paragraphs and ("List Bullet", "Works offline") in paragraphs
    assert any("café included — “quickly”" in text for _, text in paragraphs)
    bold = [run.text for p in document.paragraphs for run in p.runs if run.bold]
    assert "shopper" in bold
    table = document.tables[0]
    assert [[cell.text for cell in row.cells] for row in table.rows] == [
        ["Story", "Points"],
        ["Pay by card", "3"],
        ["Receipt", "5"],
    ]


def test_pdf_export_has_the_title_and_unicode_text(app: Flask, client: FlaskClient, thread_id: str) -> None:
    artifact_id = save(app, thread_id, "Checkout stories", STORIES)
    response = client.get(f"/artifacts/{artifact_id}/export.pdf")
    assert response.mimetype == "application/pdf" and response.data.startswith(b"%PDF")
    assert response.headers["Content-Disposition"] == 'attachment; filename="checkout-stories-v1.pdf"'
    text = "\n".join(page.extract_text() for page in PdfReader(BytesIO(response.data)).pages)
    assert "Checkout stories" in text and "café included" in text
    assert "Pay by card" in text and "Receipt" in text and "Given a basket" in text


def test_delete_asks_first_then_removes_every_version(app: Flask, client: FlaskClient, thread_id: str) -> None:
    first = save(app, thread_id, "Login stories", "one")
    second = save(app, thread_id, "Login stories", "two")
    confirm = page_text(client.get(f"/artifacts/{first}/delete"))
    assert "Delete this artifact?" in confirm and "All 2 versions are deleted" in confirm
    assert f'action="/artifacts/{first}/delete"' in confirm and 'name="csrf_token"' in confirm
    shown = page_text(client.get(f"/artifacts/{second}"))
    assert 'hx-confirm="Delete “Login stories” and all its versions?' in shown
    response = client.post(f"/artifacts/{second}/delete")
    assert response.status_code == 303 and response.headers["Location"] == "/artifacts"
    listing = page_text(client.get("/artifacts"))
    assert "deleted with all its versions" in listing and "No artifacts yet" in listing
    assert client.get(f"/artifacts/{first}").status_code == 404
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Artifact)) == 0
        assert db.session.get(Thread, thread_id) is not None


def test_delete_from_htmx_redirects_the_page(app: Flask, client: FlaskClient, thread_id: str) -> None:
    artifact_id = save(app, thread_id, "Login stories", "one")
    response = client.post(f"/artifacts/{artifact_id}/delete", headers={"HX-Request": "true"})
    assert response.status_code == 204 and response.headers["HX-Redirect"] == "/artifacts"
    library = client.get("/artifacts").get_data(as_text=True)
    assert "“Login stories” deleted" in library and f"/artifacts/{artifact_id}" not in library


def test_other_users_get_404_everywhere(app: Flask, client: FlaskClient, thread_id: str) -> None:
    artifact_id = save(app, thread_id, "Secret stories", "Secret plan")
    intruder = other_client(app)
    for method, path in [
        ("get", ""),
        ("get", "/changes"),
        ("get", "/export.md"),
        ("get", "/export.docx"),
        ("get", "/export.pdf"),
        ("get", "/delete"),
        ("post", "/delete"),
    ]:
        response = getattr(intruder, method)(f"/artifacts/{artifact_id}{path}")
        assert response.status_code == 404, path
        assert "Secret" not in page_text(response)
    assert "Secret stories" not in page_text(intruder.get("/artifacts"))
    assert client.get(f"/artifacts/{artifact_id}").status_code == 200


def test_thread_page_lists_its_artifacts(app: Flask, client: FlaskClient, thread_id: str) -> None:
    assert "None yet. Ask for user stories" in page_text(client.get(f"/threads/{thread_id}"))
    save(app, thread_id, "Login stories", "one")
    artifact_id = save(app, thread_id, "Login stories", "two")
    html = page_text(client.get(f"/threads/{thread_id}"))
    assert f'href="/artifacts/{artifact_id}">Login stories</a>' in html and "v2" in html


def test_project_artifacts_are_the_newest_versions_in_its_chats(app: Flask, user: User) -> None:
    project_id = make_project(app, user.id, "Webshop")
    in_project = make_thread(app, user.id, project_id=project_id)
    elsewhere = make_thread(app, user.id)
    save(app, in_project, "BRD", "one", "brd")
    newest = save(app, in_project, "BRD", "two", "brd")
    save(app, elsewhere, "Other", "x")
    with app.app_context():
        assert [a.id for a in service.project_artifacts(user.id, project_id)] == [newest]
        assert service.project_artifacts("someone-else", project_id) == []


def test_list_pages_after_fifty(app: Flask, client: FlaskClient, thread_id: str) -> None:
    with app.app_context():
        thread = db.session.get(Thread, thread_id)
        for number in range(service.PER_PAGE + 2):
            artifact = service.save_artifact(
                thread=thread, message_id=None, artifact_type="other", title=f"Note {number:02d}", content_markdown="x"
            )
            artifact.created_at = artifact.created_at + timedelta(seconds=number)
        db.session.commit()
    first = page_text(client.get("/artifacts"))
    assert "Note 51" in first and "Note 01" not in first and "page=2" in first
    second = page_text(client.get("/artifacts?page=2"))
    assert "Note 01" in second and "Note 00" in second and "Note 51" not in second


class TestSavedFromAChat:
    """The assistant saves an artifact, then a new version of it, during a BA chat."""

    @pytest.fixture
    def anthropic(self) -> Iterator[FakeAnthropic]:
        with FakeAnthropic() as fake:
            yield fake

    @pytest.fixture
    def app_config(self, anthropic: FakeAnthropic) -> dict[str, Any]:
        return {"ANTHROPIC_API_KEY": "test-key", "ANTHROPIC_BASE_URL": anthropic.url, "LLM_MAX_RETRIES": 0}

    def ask(self, client: FlaskClient, thread_id: str, text: str) -> str:
        response = client.post(
            f"/threads/{thread_id}/messages",
            data={"content": text},
            headers={"HX-Request": "true", "HX-Target": "messages"},
        )
        return reply_id_from(page_text(response))

    def test_saving_twice_keeps_two_versions(
        self, app: Flask, client: FlaskClient, user: User, anthropic: FakeAnthropic
    ) -> None:
        # A named chat: no title request joins the scripted replies.
        thread_id = make_thread(
            app,
            user.id,
            model_provider="anthropic",
            conversation_mode="refinement",
            title="Login refinement",
            title_locked=True,
        )
        draft = {"artifact_type": "user_stories", "title": "Login stories", "content_markdown": "- Sign in\n"}
        revised = {**draft, "title": "login stories", "content_markdown": "- Sign in\n- Reset password\n"}
        anthropic.script(
            tool_reply("save_artifact", draft),
            text_reply("Saved the stories."),
            tool_reply("save_artifact", revised, call_id="call_2"),
            text_reply("Added a story."),
        )
        assert wait_for_reply(app, self.ask(client, thread_id, "Write the login stories")).status == "complete"
        assert wait_for_reply(app, self.ask(client, thread_id, "Add password reset")).status == "complete"

        listing = page_text(client.get("/artifacts"))
        assert listing.count('<tr id="artifact-') == 1
        latest_id = re.search(r'href="/artifacts/([0-9a-f-]{36})">login stories</a>', listing).group(1)
        html = page_text(client.get(f"/artifacts/{latest_id}"))
        assert "Version 2 of 2" in html and "Reset password" in html
        assert re.findall(r">Version (\d)</", html) == ["2", "1"]
        assert "Login refinement" in html
        changes = page_text(client.get(f"/artifacts/{latest_id}/changes"))
        assert "Added: </span>- Reset password" in changes
