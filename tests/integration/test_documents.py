"""Documents through HTTP: uploading good and bad files, reading, downloading and deleting."""

from __future__ import annotations

import io
import re
from typing import Any

import openpyxl
import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from webapp.extensions import db
from webapp.models import Document, DocumentChunk, ImportJob, Project, User

from .. import samples
from ..conftest import AuthActions, csrf_token_from, other_client
from ..imports import wait_for_imports
from .test_projects import add_thread, create_project, post_files, upload

HTMX_UPLOAD = {"HX-Request": "true", "HX-Target": "upload-results"}
LIST = {"HX-Request": "true", "HX-Target": "document-list"}


def _counts(app: Flask) -> tuple[int, int]:
    with app.app_context():
        documents = db.session.scalar(sa.select(sa.func.count()).select_from(Document))
        chunks = db.session.scalar(sa.select(sa.func.count()).select_from(DocumentChunk))
    return documents, chunks


def _document_id(app: Flask, filename: str) -> str:
    with app.app_context():
        return db.session.scalar(sa.select(Document.id).where(Document.filename == filename))


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def project_id(client: FlaskClient, user: User) -> str:
    return create_project(client)


def test_mixed_batch_stores_the_good_files_and_explains_the_bad_one(
    app: Flask, client: FlaskClient, project_id: str
) -> None:
    response = upload(
        client,
        project_id,
        (samples.pdf("Scope of release one.", "Risks: data migration."), "scope.pdf"),
        (samples.docx_file(["Stakeholder map."], table=[["Role", "Name"], ["Sponsor", "Maria"]]), "stakeholders.docx"),
        (samples.xlsx({"Budget": samples.BUDGET_ROWS}), "budget.xlsx"),
        (samples.CSV_TEXT.encode("cp1252"), "people.csv"),
        (b"# Glossary\n\nLead: a possible customer.", "glossary.md"),
        (samples.PNG, "whiteboard.png"),
    )
    assert response.status_code == 303
    page = _text(client.get(response.headers["Location"]).get_data(as_text=True))
    assert "scope.pdf: Received. It is being read." in page
    page = _text(client.get(response.headers["Location"]).get_data(as_text=True))
    for name, extent in [
        ("scope.pdf", "PDF 1.3 KB 2 pages"),
        ("stakeholders.docx", "Word"),
        ("budget.xlsx", "Excel"),
        ("people.csv", "CSV 72 B 2 rows"),
        ("glossary.md", "Markdown"),
    ]:
        assert f"{name} {extent}" in page
    assert "whiteboard.png Not stored 72 B This is an image (PNG). Only text documents can be searched." in page
    with app.app_context():
        messages = dict(db.session.execute(sa.select(Document.filename, ImportJob.message).join(ImportJob)).all())
    assert messages["scope.pdf"] == "Stored: 2 pages, 2 passages."
    assert messages["stakeholders.docx"] == "Stored: 1 passage."
    assert messages["budget.xlsx"] == messages["people.csv"] == "Stored: 2 rows, 1 passage."


def test_htmx_upload_answers_with_per_file_results_and_the_new_list(
    app: Flask, client: FlaskClient, project_id: str
) -> None:
    data = {"files": [(io.BytesIO(b"Meeting notes about invoices."), "notes.txt"), (io.BytesIO(b""), "empty.txt")]}
    response = client.post(f"/projects/{project_id}/documents", data=data, headers=HTMX_UPLOAD)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    assert "Received" in html and "empty.txt" in html and "The file is empty." in html
    assert '<div id="document-list" hx-swap-oob="true"' in html and ">notes.txt</a>" in html
    assert response.headers["HX-Trigger"] == "documents-changed"  # the project's header refreshes its counts
    wait_for_imports(app)


def test_the_list_follows_each_file_until_it_is_stored(app: Flask, client: FlaskClient, project_id: str) -> None:
    data = {"files": [(io.BytesIO(b"Meeting notes about invoices."), "notes.txt")]}
    html = client.post(f"/projects/{project_id}/documents", data=data, headers=HTMX_UPLOAD).get_data(as_text=True)
    document_id = _document_id(app, "notes.txt")
    poll = f'hx-get="/projects/{project_id}/documents?processing={document_id}" hx-trigger="every 1s"'
    assert poll in html and 'class="badge badge-accent"' in html
    wait_for_imports(app)
    listing = client.get(f"/projects/{project_id}/documents?processing={document_id}", headers=LIST)
    assert listing.headers["HX-Trigger"] == "documents-changed"  # it was being read, and no longer is
    html = listing.get_data(as_text=True)
    assert "every 1s" not in html and "1 passage" in html and "Download notes.txt" in html
    assert "HX-Trigger" not in client.get(f"/projects/{project_id}/documents", headers=LIST).headers
    # Without htmx the list's address leads back to the project.
    assert client.get(f"/projects/{project_id}/documents").headers["Location"] == f"/projects/{project_id}"


def test_each_uploaded_file_follows_itself_until_stored_or_refused(
    app: Flask, client: FlaskClient, project_id: str
) -> None:
    data = {
        "files": [
            (io.BytesIO(b"Meeting notes about invoices."), "notes.txt"),
            (io.BytesIO(samples.PNG), "whiteboard.png"),
        ]
    }
    html = client.post(f"/projects/{project_id}/documents", data=data, headers=HTMX_UPLOAD).get_data(as_text=True)
    notes, picture = _document_id(app, "notes.txt"), _document_id(app, "whiteboard.png")
    for document_id in (notes, picture):
        assert f'hx-get="/documents/{document_id}/outcome" hx-trigger="every 1s"' in html
    wait_for_imports(app)

    def row(document_id: str) -> dict[str, str]:
        return {"HX-Request": "true", "HX-Target": f"outcome-{document_id}"}

    stored = client.get(f"/documents/{notes}/outcome", headers=row(notes))
    assert "Stored" in stored.get_data(as_text=True) and "Stored: 1 passage." in stored.get_data(as_text=True)
    assert "every 1s" not in stored.get_data(as_text=True)
    assert stored.headers["HX-Trigger"] == "documents-changed"  # the page's counts follow
    refused = _text(client.get(f"/documents/{picture}/outcome", headers=row(picture)).get_data(as_text=True))
    assert "Not stored whiteboard.png This is an image (PNG)." in refused
    # Without htmx the address opens the document; another user's document is not found.
    assert client.get(f"/documents/{notes}/outcome").headers["Location"] == f"/documents/{notes}"
    assert other_client(app).get(f"/documents/{notes}/outcome", headers=row(notes)).status_code == 404


def test_upload_without_files_asks_for_one(client: FlaskClient, project_id: str) -> None:
    response = client.post(f"/projects/{project_id}/documents", data={}, headers=HTMX_UPLOAD)
    assert response.status_code == 422 and "Choose at least one file" in response.get_data(as_text=True)


def test_duplicate_is_reported_and_not_stored_twice(app: Flask, client: FlaskClient, project_id: str) -> None:
    upload(client, project_id, (b"Same words.", "first.txt"))
    response = client.post(
        f"/projects/{project_id}/documents",
        headers=HTMX_UPLOAD,
        data={"files": [(io.BytesIO(b"Same words."), "copy.txt")]},
    )
    assert "Already uploaded as “first.txt”; not stored again." in response.get_data(as_text=True)
    assert _counts(app)[0] == 1
    other = create_project(client, "Other project")
    upload(client, other, (b"Same words.", "first.txt"))
    assert _counts(app)[0] == 2  # a different project may hold its own copy


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("bomb.docx", samples.zip_bomb_docx(), "expands to far more data"),
        ("secret.pdf", samples.pdf("Confidential", password="pw"), "protected by a password"),
        ("broken.pdf", b"%PDF-1.4\n%%EOF garbage", "may be damaged"),
        ("fake.xlsx", b"name,value\n", "named .xlsx but its content is not a XLSX file"),
        ("old.doc", samples.OLD_WORD, "Save it as .docx"),
    ],
)
def test_bad_file_leaves_nothing_behind_and_spares_the_others(
    app: Flask, client: FlaskClient, project_id: str, name: str, data: bytes, message: str
) -> None:
    client.post(
        f"/projects/{project_id}/documents",
        headers=HTMX_UPLOAD,
        data={"files": [(io.BytesIO(data), name), (io.BytesIO(b"Good file."), "good.txt")]},
    )
    wait_for_imports(app)
    html = client.get(f"/projects/{project_id}/documents", headers=LIST).get_data(as_text=True)
    assert message in html and "Not stored" in html
    assert _counts(app) == (2, 1)  # the refused file stays listed, with its reason and no passages
    with app.app_context():
        assert db.session.scalar(sa.select(Document.status).where(Document.filename == name)) == "refused"


class TestSizeLimits:
    @pytest.fixture
    def app_config(self) -> dict[str, Any]:
        return {"MAX_UPLOAD_MB": 1, "MAX_CONTENT_LENGTH": 3 * 1024 * 1024, "MAX_DOCUMENTS_PER_PROJECT": 2}

    def test_a_file_over_the_per_file_limit_is_refused_alone(
        self, app: Flask, client: FlaskClient, project_id: str
    ) -> None:
        big = b"requirement " * 100_000  # 1.2 MB
        files = [(big, "big.txt"), (b"small", "small.txt")]
        response = post_files(client, f"/projects/{project_id}/documents", files, HTMX_UPLOAD)
        html = response.get_data(as_text=True)
        assert "big.txt" in html and "Larger than the 1 MB limit per file; not stored." in html
        wait_for_imports(app)
        assert _counts(app)[0] == 1

    @staticmethod
    def _post_huge(client: FlaskClient, project_id: str, **headers: str):
        return post_files(client, f"/projects/{project_id}/documents", [(b"x" * (4 << 20), "huge.txt")], headers)

    def test_a_request_over_the_total_limit_is_refused_with_a_clear_page(
        self, app: Flask, client: FlaskClient, project_id: str
    ) -> None:
        response = self._post_huge(client, project_id)
        page = response.get_data(as_text=True)
        assert response.status_code == 413
        assert "Upload refused: too large." in page and "Nothing was stored." in page
        assert "up to 1 MB" in page and "up to 3 MB in total" in page and "<html" in page
        assert _counts(app) == (0, 0)

    def test_htmx_gets_the_413_message_as_a_fragment(self, client: FlaskClient, project_id: str) -> None:
        response = self._post_huge(client, project_id, **HTMX_UPLOAD)
        html = response.get_data(as_text=True)
        assert response.status_code == 413 and "Upload refused: too large." in html and "<html" not in html

    def test_a_project_holds_a_limited_number_of_documents(
        self, app: Flask, client: FlaskClient, project_id: str
    ) -> None:
        response = client.post(
            f"/projects/{project_id}/documents",
            headers=HTMX_UPLOAD,
            data={"files": [(io.BytesIO(f"file {n}".encode()), f"{n}.txt") for n in range(3)]},
        )
        assert "This holds the maximum of 2 documents; delete some first." in response.get_data(as_text=True)
        wait_for_imports(app)
        assert _counts(app)[0] == 2


def test_document_page_shows_passages_with_anchors_and_pages(app: Flask, client: FlaskClient, project_id: str) -> None:
    upload(client, project_id, (samples.pdf("Scope <b>of</b> release one.", "Risks: data migration."), "scope.pdf"))
    document_id = _document_id(app, "scope.pdf")
    page = client.get(f"/documents/{document_id}").get_data(as_text=True)
    assert '<h2 class="page-marker" id="page-1">Page 1</h2>' in page and "Page 2" in page
    assert '<section id="chunk-1" class="passage"' in page and 'id="chunk-2"' in page
    assert "Scope &lt;b&gt;of&lt;/b&gt; release one." in page
    assert "PDF · " in page and "2 pages" in page
    assert "Acme CRM" in page  # breadcrumbs lead back to the project


def test_spreadsheet_page_shows_tables_and_offers_parsed_downloads(
    app: Flask, client: FlaskClient, project_id: str
) -> None:
    data = samples.xlsx({"Budget": samples.BUDGET_ROWS, "People": [["Name", "Role"], ["Ana", "=cmd|' /C calc'!A0"]]})
    upload(client, project_id, (data, "budget.xlsx"))
    document_id = _document_id(app, "budget.xlsx")
    page = client.get(f"/documents/{document_id}").get_data(as_text=True)
    assert "<h2>Budget</h2>" in page and '<th scope="col">Cost</th>' in page
    assert '<tbody id="chunk-1" class="passage">' in page and '<tbody id="chunk-2" class="passage">' in page
    assert '<th scope="row" class="numeric muted">4</th><td>Desk</td><td>300.5</td><td></td>' in page

    csv_response = client.get(f"/documents/{document_id}/table.csv?sheet=0")
    assert csv_response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in csv_response.headers["Content-Disposition"]
    assert csv_response.get_data().decode("utf-8-sig").splitlines() == [
        "Row,Item,Cost,Ordered",
        "2,Laptop,1200,2026-03-01",
        "4,Desk,300.5,",
    ]
    xlsx_response = client.get(f"/documents/{document_id}/table.xlsx")
    workbook = openpyxl.load_workbook(io.BytesIO(xlsx_response.get_data()))
    assert workbook.sheetnames == ["Budget", "People"]
    assert [cell.value for cell in workbook["Budget"][2]] == [2, "Laptop", 1200, "2026-03-01"]
    role = workbook["People"]["C2"]
    assert role.value == "=cmd|' /C calc'!A0" and role.data_type == "s"  # text, never a formula
    workbook.close()
    assert client.get(f"/documents/{document_id}/table.json").status_code == 404


def test_download_returns_the_original_bytes(app: Flask, client: FlaskClient, project_id: str) -> None:
    original = samples.CSV_TEXT.encode("cp1252")
    upload(client, project_id, (original, "Größen.csv"), (samples.docx_file(["Hello"]), "brief.docx"))
    response = client.get(f"/documents/{_document_id(app, 'Größen.csv')}/download")
    assert response.get_data() == original
    assert response.headers["Content-Type"] == "text/csv; charset=cp1252"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "filename*=UTF-8''Gr%C3%B6%C3%9Fen.csv" in response.headers["Content-Disposition"]
    docx_response = client.get(f"/documents/{_document_id(app, 'brief.docx')}/download")
    assert docx_response.headers["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    assert client.get(f"/documents/{_document_id(app, 'brief.docx')}/table.csv").status_code == 404


def test_delete_asks_then_removes_the_document_and_its_passages(
    app: Flask, client: FlaskClient, project_id: str
) -> None:
    upload(client, project_id, (b"Invoices are approved by finance.", "process.txt"))
    document_id = _document_id(app, "process.txt")
    confirm = client.get(f"/documents/{document_id}/delete").get_data(as_text=True)
    assert "Delete “process.txt”?" in confirm and "cannot be undone" in confirm
    response = client.post(f"/documents/{document_id}/delete")
    assert response.status_code == 303 and response.headers["Location"] == f"/projects/{project_id}"
    assert "“process.txt” deleted." in client.get(response.headers["Location"]).get_data(as_text=True)
    assert _counts(app) == (0, 0)
    assert client.get(f"/documents/{document_id}").status_code == 404


def test_htmx_delete_returns_the_refreshed_list(app: Flask, client: FlaskClient, project_id: str) -> None:
    upload(client, project_id, (b"alpha", "a.txt"), (b"beta", "b.txt"))
    response = client.post(
        f"/documents/{_document_id(app, 'a.txt')}/delete", headers={"HX-Request": "true", "HX-Target": "document-list"}
    )
    html = response.get_data(as_text=True)
    assert html.startswith('<div id="document-list">') and ">b.txt</a>" in html and ">a.txt</a>" not in html


def test_another_users_document_is_not_found_on_every_route(app: Flask, client: FlaskClient, project_id: str) -> None:
    upload(client, project_id, (samples.xlsx({"S": [["A"], ["1"]]}), "s.xlsx"))
    document_id = _document_id(app, "s.xlsx")
    ben = other_client(app)
    for method, path in [
        ("get", f"/documents/{document_id}"),
        ("get", f"/documents/{document_id}/download"),
        ("get", f"/documents/{document_id}/table.csv"),
        ("get", f"/documents/{document_id}/table.xlsx"),
        ("get", f"/documents/{document_id}/delete"),
        ("post", f"/documents/{document_id}/delete"),
    ]:
        assert getattr(ben, method)(path).status_code == 404, (method, path)
    assert _counts(app)[0] == 1


class TestThreadDocuments:
    def test_assistant_thread_holds_its_own_documents(self, app: Flask, client: FlaskClient, user: User) -> None:
        thread_id = add_thread(app, user, None, "Ask anything", thread_type="assistant")
        response = client.post(
            f"/threads/{thread_id}/documents",
            headers=HTMX_UPLOAD,
            data={"files": [(io.BytesIO(b"Thread notes on onboarding."), "onboarding.txt")]},
        )
        assert "Received" in response.get_data(as_text=True)
        wait_for_imports(app)
        with app.app_context():
            document = db.session.scalar(sa.select(Document))
            assert (document.thread_id, document.project_id) == (thread_id, None)
        listing = client.get(f"/threads/{thread_id}/documents").get_data(as_text=True)
        assert ">onboarding.txt</a>" in listing

    def test_plain_form_upload_returns_to_a_safe_next_page(self, app: Flask, client: FlaskClient, user: User) -> None:
        thread_id = add_thread(app, user, None, "Ask anything", thread_type="assistant")
        data = {"files": [(io.BytesIO(b"Notes."), "n.txt")], "next": "https://evil.example/"}
        response = client.post(f"/threads/{thread_id}/documents", data=data)
        assert response.status_code == 303 and response.headers["Location"] == "/"
        data = {"files": [(io.BytesIO(b"More notes."), "m.txt")], "next": f"/threads/{thread_id}"}
        assert client.post(f"/threads/{thread_id}/documents", data=data).headers["Location"] == f"/threads/{thread_id}"
        wait_for_imports(app)

    def test_other_thread_types_and_other_users_threads_are_not_found(
        self, app: Flask, client: FlaskClient, user: User
    ) -> None:
        chat_id = add_thread(app, user, None, "A BA chat", thread_type="ba_assistant")
        assistant_id = add_thread(app, user, None, "Mine", thread_type="assistant")
        data = {"files": [(io.BytesIO(b"Notes."), "n.txt")]}
        assert client.post(f"/threads/{chat_id}/documents", data=data).status_code == 404
        assert client.get(f"/threads/{chat_id}/documents").status_code == 404
        ben = other_client(app)
        data = {"files": [(io.BytesIO(b"Notes."), "n.txt")]}
        assert ben.post(f"/threads/{assistant_id}/documents", data=data).status_code == 404
        assert ben.get(f"/threads/{assistant_id}/documents").status_code == 404
        assert _counts(app)[0] == 0


def test_upload_bumps_the_projects_activity(app: Flask, client: FlaskClient, project_id: str) -> None:
    with app.app_context():
        before = db.session.get(Project, project_id).last_activity_at
    upload(client, project_id, (b"new", "n.txt"))
    with app.app_context():
        assert db.session.get(Project, project_id).last_activity_at > before


class TestSizeLimitWithCsrf:
    """The CSRF check reads the form before any view runs; a refused body must still explain itself."""

    @pytest.fixture
    def app_config(self) -> dict[str, Any]:
        return {"MAX_UPLOAD_MB": 1, "MAX_CONTENT_LENGTH": 2 * 1024 * 1024, "WTF_CSRF_ENABLED": True}

    def test_request_over_the_limit_gets_the_upload_message(self, app: Flask, client: FlaskClient) -> None:
        token = csrf_token_from(client.get("/register").get_data(as_text=True))
        AuthActions(client).register(csrf_token=token)
        response = client.post("/projects", data={"name": "Limits", "csrf_token": token})
        project_id = response.headers["Location"].rsplit("/", 1)[1]
        response = post_files(
            client,
            f"/projects/{project_id}/documents",
            [(b"x" * (3 << 20), "huge.txt")],
            {"X-CSRFToken": token, "HX-Request": "true", "HX-Target": "upload-results"},
        )
        assert response.status_code == 413 and "Upload refused: too large." in response.get_data(as_text=True)
        assert _counts(app) == (0, 0)
