"""Projects through HTTP: the list and its counts, create, edit inline or by form, delete."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from webapp.extensions import db
from webapp.models import Document, DocumentChunk, Project, Thread, User, utcnow

from ..conftest import other_client
from ..imports import wait_for_imports


def create_project(client: FlaskClient, name: str = "Acme CRM", **fields: str) -> str:
    response = client.post("/projects", data={"name": name, **fields})
    assert response.status_code == 303, response.get_data(as_text=True)
    return response.headers["Location"].rsplit("/", 1)[1]


def post_files(
    client: FlaskClient, url: str, files: list[tuple[bytes, str]], headers: dict[str, str] | None = None, **fields: str
):
    """Post a multipart form encoded in memory.

    The test client would spool a large body to a temporary file that stays open when the
    app refuses to read it (a 413), which the warnings-as-errors setting turns into a failure.
    """
    values = MultiDict([("files", FileStorage(io.BytesIO(content), name)) for content, name in files])
    values.update(fields)
    boundary, body = encode_multipart(values)
    content_type = f"multipart/form-data; boundary={boundary}"
    return client.post(url, data=body, headers=headers or {}, content_type=content_type)


def upload(client: FlaskClient, project_id: str, *files: tuple[bytes, str]):
    """Upload files to a project and wait until each is stored or refused."""
    response = post_files(client, f"/projects/{project_id}/documents", list(files))
    wait_for_imports(client.application)
    return response


def add_thread(app: Flask, user: User, project_id: str | None, title: str, **fields: object) -> str:
    with app.app_context():
        thread = Thread(user_id=user.id, project_id=project_id, title=title, model_provider="offline", **fields)
        db.session.add(thread)
        db.session.commit()
        return thread.id


@pytest.fixture
def statements(app: Flask) -> Iterator[list[str]]:
    """The SQL statements run while the test is active."""
    seen: list[str] = []
    with app.app_context():
        engine = db.engine

    def record(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    yield seen
    sa.event.remove(engine, "before_cursor_execute", record)


def test_empty_list_explains_projects_and_offers_to_create_one(client: FlaskClient, user: User) -> None:
    page = client.get("/projects").get_data(as_text=True)
    assert "No projects yet" in page and "A project holds one engagement" in page
    assert 'href="/projects/new"' in page
    assert '<span class="nav-label">Projects</span>' in page


def test_create_and_open_a_project(client: FlaskClient, user: User) -> None:
    project_id = create_project(
        client, "Acme CRM", description="Replace the old CRM", instructions="Write stories in Gherkin."
    )
    page = client.get(f"/projects/{project_id}").get_data(as_text=True)
    assert "Project “Acme CRM” created." in page
    assert "<h1>Acme CRM</h1>" in page and "Replace the old CRM" in page
    assert "Write stories in Gherkin." in page
    assert "0 documents · 0 chats" in page and "No documents yet" in page


@pytest.mark.parametrize(
    ("name", "message"),
    [("", "This field is required."), ("   ", "This field is required."), ("x" * 121, "cannot be longer than 120")],
)
def test_project_name_is_required_and_short(
    app: Flask, client: FlaskClient, user: User, name: str, message: str
) -> None:
    response = client.post("/projects", data={"name": name})
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Project)) == 0


def test_list_shows_counts_newest_activity_first(app: Flask, client: FlaskClient, user: User) -> None:
    quiet = create_project(client, "Quiet project")
    busy = create_project(client, "Busy project")
    upload(client, busy, (b"alpha notes", "a.txt"), (b"beta notes", "b.txt"))
    add_thread(app, user, quiet, "Kick-off", last_activity_at=utcnow() + timedelta(minutes=5))
    add_thread(app, user, quiet, "Workshop")
    page = client.get("/projects").get_data(as_text=True)
    assert page.index(">Quiet project</a>") < page.index(">Busy project</a>")  # its chat is the latest activity
    rows = {name: page[page.index(f">{name}</a>") :].split("</tr>")[0] for name in ("Quiet project", "Busy project")}
    assert '<td class="numeric">0</td>\n        <td class="numeric">2</td>' in rows["Quiet project"]
    assert '<td class="numeric">2</td>\n        <td class="numeric">0</td>' in rows["Busy project"]


def test_upload_moves_the_project_to_the_top(app: Flask, client: FlaskClient, user: User) -> None:
    first = create_project(client, "First")
    create_project(client, "Second")
    upload(client, first, (b"fresh material", "new.txt"))
    page = client.get("/projects").get_data(as_text=True)
    assert page.index(">First</a>") < page.index(">Second</a>")


def test_list_counts_come_from_one_query_whatever_the_number_of_projects(
    app: Flask, client: FlaskClient, user: User, statements: list[str]
) -> None:
    def selects_for_list() -> int:
        statements.clear()
        client.get("/projects")
        return sum(1 for statement in statements if "FROM projects" in statement)

    create_project(client, "One")
    one = selects_for_list()
    for number in range(5):
        project_id = create_project(client, f"Project {number}")
        upload(client, project_id, (f"text {number}".encode(), "t.txt"))
    assert selects_for_list() == one == 1


def test_inline_edit_returns_the_header_fragment(client: FlaskClient, user: User) -> None:
    project_id = create_project(client)
    headers = {"HX-Request": "true", "HX-Target": "project-head"}
    form = client.get(f"/projects/{project_id}/edit", headers=headers).get_data(as_text=True)
    assert form.startswith('<form id="project-head"') and 'value="Acme CRM"' in form
    response = client.post(
        f"/projects/{project_id}/edit",
        headers=headers,
        data={"name": "Acme CRM (phase 2)", "description": "Now with billing", "instructions": ""},
    )
    fragment = response.get_data(as_text=True)
    assert response.status_code == 200 and fragment.startswith('<section id="project-head"')
    assert "Acme CRM (phase 2)" in fragment and "Now with billing" in fragment and "<html" not in fragment


def test_edit_works_as_a_plain_form_and_reports_errors(client: FlaskClient, user: User) -> None:
    project_id = create_project(client)
    assert "<h1>Edit project</h1>" in client.get(f"/projects/{project_id}/edit").get_data(as_text=True)
    bad = client.post(f"/projects/{project_id}/edit", data={"name": "", "description": "", "instructions": ""})
    assert bad.status_code == 422 and "This field is required." in bad.get_data(as_text=True)
    good = client.post(
        f"/projects/{project_id}/edit", data={"name": "Renamed", "description": "", "instructions": "Be brief."}
    )
    assert good.status_code == 303
    page = client.get(good.headers["Location"]).get_data(as_text=True)
    assert "Project saved." in page and "<h1>Renamed</h1>" in page and "Be brief." in page


def test_delete_asks_first_and_says_what_happens(app: Flask, client: FlaskClient, user: User) -> None:
    project_id = create_project(client)
    upload(client, project_id, (b"requirements text", "r.txt"))
    add_thread(app, user, project_id, "Kick-off")
    page = client.get(f"/projects/{project_id}/delete").get_data(as_text=True)
    assert "Delete “Acme CRM”?" in page
    assert "Its 1 document will be deleted" in page and "Its 1 chat will be kept, as chats without a project" in page


def test_delete_removes_documents_and_keeps_chats(app: Flask, client: FlaskClient, user: User) -> None:
    project_id = create_project(client)
    upload(client, project_id, (b"requirements about invoices", "r.txt"))
    thread_id = add_thread(app, user, project_id, "Kick-off")
    response = client.post(f"/projects/{project_id}/delete")
    assert response.status_code == 303 and response.headers["Location"] == "/projects"
    assert "Project “Acme CRM” deleted." in client.get("/projects").get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Project, project_id) is None
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Document)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(DocumentChunk)) == 0
        thread = db.session.get(Thread, thread_id)
        assert thread is not None and thread.project_id is None
    assert "Nothing found" in client.get("/search?q=invoices").get_data(as_text=True)


def test_delete_from_the_list_with_htmx_returns_the_list(client: FlaskClient, user: User) -> None:
    keep, drop = create_project(client, "Keep me"), create_project(client, "Drop me")
    response = client.post(f"/projects/{drop}/delete", headers={"HX-Request": "true", "HX-Target": "project-list"})
    fragment = response.get_data(as_text=True)
    assert response.status_code == 200 and fragment.startswith('<div id="project-list">')
    assert "Keep me" in fragment and "Drop me" not in fragment
    client.post(f"/projects/{keep}/delete", headers={"HX-Request": "true", "HX-Target": "project-list"})
    assert "No projects yet" in client.get("/projects").get_data(as_text=True)


def test_tabs_show_chats_and_an_honest_empty_artifacts_tab(app: Flask, client: FlaskClient, user: User) -> None:
    project_id = create_project(client)
    add_thread(app, user, project_id, "Discovery workshop")
    chats = client.get(f"/projects/{project_id}?tab=chats").get_data(as_text=True)
    assert "Discovery workshop" in chats
    fragment = client.get(
        f"/projects/{project_id}?tab=artifacts", headers={"HX-Request": "true", "HX-Target": "project-tab"}
    )
    assert fragment.get_data(as_text=True).startswith('<div id="project-tab">')
    assert "No artifacts yet" in fragment.get_data(as_text=True)
    assert client.get(f"/projects/{project_id}?tab=nope").status_code == 404


def test_another_users_project_is_not_found_on_every_route(app: Flask, client: FlaskClient, user: User) -> None:
    project_id = create_project(client)
    ben = other_client(app)
    for method, path in [
        ("get", f"/projects/{project_id}"),
        ("get", f"/projects/{project_id}/edit"),
        ("post", f"/projects/{project_id}/edit"),
        ("get", f"/projects/{project_id}/delete"),
        ("post", f"/projects/{project_id}/delete"),
        ("post", f"/projects/{project_id}/documents"),
        ("get", f"/search?q=x&project={project_id}"),
    ]:
        response = getattr(ben, method)(path, data={"name": "Stolen"} if method == "post" else None)
        assert response.status_code == 404, (method, path)
    assert "Acme CRM" not in ben.get("/projects").get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Project, project_id).name == "Acme CRM"


def test_pages_need_a_login(client: FlaskClient) -> None:
    for path in ("/projects", "/projects/new", "/search"):
        response = client.get(path)
        assert response.status_code in (302, 303) and "/login" in response.headers["Location"]
