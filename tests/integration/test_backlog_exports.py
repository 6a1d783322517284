"""A backlog out of the app: Jira and Azure DevOps CSV files, the traceability matrix, Word and PDF from items,
and coverage of the project's documents."""

from __future__ import annotations

import csv
import io
import re

import docx
import openpyxl
import pytest
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader

from webapp.models import User

from ..backlog_data import make_document, make_project, requirement, save_items, story
from ..chat_helpers import make_thread
from ..conftest import other_client

JIRA_HEADER = [
    "Issue Id",
    "Issue Type",
    "Summary",
    "Description",
    "Priority",
    "Story Points",
    "Epic Name",
    "Epic Link",
    "Parent",
    "Labels",
    "Labels",
]
AZURE_HEADER = [
    "ID",
    "Work Item Type",
    "Title",
    "Description",
    "Acceptance Criteria",
    "Priority",
    "Story Points",
    "Tags",
]


@pytest.fixture
def project_id(app: Flask, user: User) -> str:
    return make_project(app, user.id, "Webshop")


@pytest.fixture
def thread_id(app: Flask, user: User, project_id: str) -> str:
    return make_thread(app, user.id, project_id=project_id, title="Checkout")


@pytest.fixture
def passages(app: Flask, user: User, project_id: str) -> list[int]:
    return make_document(app, user.id, project_id=project_id, pages=[1, 1, 2, 3])[1]


@pytest.fixture
def artifact_id(app: Flask, thread_id: str, passages: list[int]) -> str:
    return save_items(
        app,
        thread_id,
        "Checkout stories",
        [
            requirement("Card payments", "The shop shall accept Visa, Mastercard and Amex.", priority="must"),
            story(
                "Pay by card",
                requirement_key="REQ-1",
                priority="must",
                estimate=3,
                acceptance_criteria=(
                    "Given a basket\nWhen I pay by card\nThen the order is placed",
                    "Given an expired card\nWhen I pay\nThen I am told why",
                ),
            ),
            story('=HYPERLINK("http://evil.example")', i_want="a receipt, by email", priority="could", so_that=""),
        ],
        [[passages[1]], [passages[1], passages[2]]],
        intro="From the kick-off.",
    )


def read_csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data(as_text=True), newline="")))


def test_jira_csv_follows_the_importers_column_rules(client: FlaskClient, artifact_id: str) -> None:
    response = client.get(f"/artifacts/{artifact_id}/export.jira.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="checkout-stories-jira.csv"'
    assert not response.data.startswith(b"\xef\xbb\xbf")  # the header's first name must read "Issue Id"
    header, epic, pay, evil = read_csv(response)
    assert header == JIRA_HEADER
    columns = {name: index for index, name in reversed(list(enumerate(header)))}
    assert [epic[columns[name]] for name in ("Issue Id", "Issue Type", "Summary", "Priority", "Epic Name")] == [
        "1",
        "Epic",
        "Card payments",
        "Highest",
        "REQ-1 Card payments",
    ]
    assert epic[columns["Description"]].startswith("The shop shall accept Visa, Mastercard and Amex.")
    assert [
        pay[columns[name]]
        for name in ("Issue Id", "Issue Type", "Summary", "Priority", "Story Points", "Epic Link", "Parent")
    ] == ["2", "Story", "Pay by card", "Highest", "3", "REQ-1 Card payments", "1"]
    assert pay[-2:] == ["US-1", "checkout-stories"] and epic[-2:] == ["REQ-1", "checkout-stories"]
    assert pay[columns["Description"]] == (
        "As a shopper, I want pay by card, so that I can check out.\n\n*Acceptance criteria*\n"
        "# Given a basket \\\\ When I pay by card \\\\ Then the order is placed\n"
        "# Given an expired card \\\\ When I pay \\\\ Then I am told why\n\n"
        "Sources: kickoff.txt, p. 1, §2; kickoff.txt, p. 2, §3"
    )
    # A title that a spreadsheet would run as a formula is kept as text.
    assert evil[columns["Summary"]] == '\'=HYPERLINK("http://evil.example")'
    assert evil[columns["Priority"]] == "Medium" and evil[columns["Epic Link"]] == evil[columns["Parent"]] == ""
    assert all(len(row) == len(header) for row in (epic, pay, evil))


def test_azure_devops_csv_follows_the_importers_column_rules(client: FlaskClient, artifact_id: str) -> None:
    response = client.get(f"/artifacts/{artifact_id}/export.azure-devops.csv")
    assert response.headers["Content-Disposition"] == 'attachment; filename="checkout-stories-azure-devops.csv"'
    header, pay, evil = read_csv(response)
    assert header == AZURE_HEADER
    row = dict(zip(header, pay, strict=False))
    assert row["ID"] == "" and row["Work Item Type"] == "User Story" and row["Title"] == "Pay by card"
    assert row["Description"] == (
        "<p>As a shopper, I want pay by card, so that I can check out.</p>"
        "<p>Implements REQ-1: Card payments</p>"
        "<p>Sources: kickoff.txt, p. 1, §2; kickoff.txt, p. 2, §3</p>"
    )
    assert row["Acceptance Criteria"] == (
        "<ol><li>Given a basket<br>When I pay by card<br>Then the order is placed</li>"
        "<li>Given an expired card<br>When I pay<br>Then I am told why</li></ol>"
    )
    assert row["Priority"] == "1" and row["Story Points"] == "3" and row["Tags"] == "US-1; REQ-1; Checkout stories"
    other = dict(zip(header, evil, strict=False))
    assert (
        other["Title"].startswith("'=HYPERLINK")
        and other["Priority"] == "3"
        and other["Tags"] == "US-2; Checkout stories"
    )
    assert "&quot;" not in other["Title"] and other["Acceptance Criteria"].startswith("<ol><li>Given a basket")


def test_html_in_item_text_is_escaped_in_the_azure_file(app: Flask, client: FlaskClient, thread_id: str) -> None:
    artifact_id = save_items(app, thread_id, "Risky", [story("XSS", i_want="<img src=x onerror=alert(1)>")])
    [_, row] = read_csv(client.get(f"/artifacts/{artifact_id}/export.azure-devops.csv"))
    assert "&lt;img src=x onerror=alert(1)&gt;" in row[3] and "<img" not in row[3]


def test_traceability_matrix_reads_back_from_requirement_to_passage(
    client: FlaskClient, project_id: str, artifact_id: str
) -> None:
    response = client.get(f"/projects/{project_id}/traceability.xlsx")
    assert response.headers["Content-Disposition"] == 'attachment; filename="webshop-traceability.xlsx"'
    sheet = openpyxl.load_workbook(io.BytesIO(response.data))["Traceability"]
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0] == [
        "Requirement",
        "Requirement title",
        "Story",
        "Story title",
        "Acceptance criteria",
        "Source document",
        "Page",
        "Passage",
        "Excerpt",
        "Source status",
        "Artifact",
    ]
    requirement_row, pay_first, pay_second, orphan = rows[1:]
    assert requirement_row[:4] == ["REQ-1", "Card payments", None, None]
    assert requirement_row[5:8] == ["kickoff.txt", 1, "§2"] and requirement_row[9] == "cited"
    assert pay_first[:4] == ["REQ-1", "Card payments", "US-1", "Pay by card"]
    assert pay_first[4].startswith("Given a basket\nWhen I pay by card") and "Given an expired card" in pay_first[4]
    assert pay_second[5:9] == ["kickoff.txt", 2, "§3", "A receipt is emailed after each payment."]
    assert orphan[0] is None and orphan[2] == "US-2" and orphan[3] == '=HYPERLINK("http://evil.example")'
    assert sheet.cell(row=5, column=4).data_type == "s" and orphan[9] == "no source"
    assert orphan[10] == "Checkout stories"


def test_word_and_pdf_are_drawn_from_the_items(client: FlaskClient, artifact_id: str) -> None:
    document = docx.Document(io.BytesIO(client.get(f"/artifacts/{artifact_id}/export.docx").data))
    paragraphs = [(p.style.name, p.text) for p in document.paragraphs]
    assert ("Heading 2", "US-1 · Pay by card") in paragraphs and ("Heading 2", "REQ-1 · Card payments") in paragraphs
    assert ("Normal", "As a shopper, I want pay by card, so that I can check out.") in paragraphs
    assert ("List Number", "Given a basket\nWhen I pay by card\nThen the order is placed") in paragraphs
    assert any(text == "Sources: kickoff.txt, p. 1, §2; kickoff.txt, p. 2, §3" for _, text in paragraphs)
    assert ("Normal", "Priority: Must have · Estimate: 3 · Status: Draft · Implements REQ-1") in paragraphs
    pdf = "\n".join(
        page.extract_text()
        for page in PdfReader(io.BytesIO(client.get(f"/artifacts/{artifact_id}/export.pdf").data)).pages
    )
    assert "US-1 · Pay by card" in pdf and "As a shopper, I want pay by card" in pdf and "Given an expired card" in pdf
    markdown = client.get(f"/artifacts/{artifact_id}/export.md").get_data(as_text=True)
    assert markdown.startswith("From the kick-off.\n\n## REQ-1 · Card payments")
    assert '## US-2 · =HYPERLINK("http://evil.example")' in markdown


def test_project_exports_gather_every_artifacts_current_stories(
    app: Flask, client: FlaskClient, user: User, project_id: str, artifact_id: str
) -> None:
    other_chat = make_thread(app, user.id, project_id=project_id, title="Refunds")
    save_items(app, other_chat, "Refund stories", [story("Refund a payment", requirement_key="REQ-1")])
    save_items(app, make_thread(app, user.id), "Elsewhere", [story("Not in the project")])
    header, *rows = read_csv(client.get(f"/projects/{project_id}/export.jira.csv"))
    summaries = [row[2] for row in rows]
    assert summaries == ["Card payments", "Pay by card", '\'=HYPERLINK("http://evil.example")', "Refund a payment"]
    assert rows[3][7:9] == ["REQ-1 Card payments", "1"]  # linked to the requirement of the other artifact
    azure = read_csv(client.get(f"/projects/{project_id}/export.azure-devops.csv"))
    assert [row[2] for row in azure[1:]][-1] == "Refund a payment"


def test_an_export_with_nothing_to_export_says_so(app: Flask, client: FlaskClient, user: User, thread_id: str) -> None:
    from webapp.artifacts import service
    from webapp.extensions import db
    from webapp.models import Thread

    with app.app_context():
        prose = service.save_artifact(
            thread=db.session.get(Thread, thread_id),
            message_id=None,
            artifact_type="brd",
            title="BRD",
            content_markdown="# BRD\n\nScope.",
        )
        db.session.commit()
        prose_id = prose.id
    for path in ("export.jira.csv", "export.azure-devops.csv", "traceability.xlsx"):
        response = client.get(f"/artifacts/{prose_id}/{path}")
        html = response.get_data(as_text=True)
        assert response.status_code == 409 and response.mimetype == "text/html"
        assert "Nothing to export" in html and "“BRD” has no" in html and "Content-Disposition" not in response.headers
    requirements_only = save_items(app, thread_id, "Reqs", [requirement("Cards", "Cards.")])
    assert "“Reqs” has no user stories to export." in client.get(
        f"/artifacts/{requirements_only}/export.jira.csv"
    ).get_data(as_text=True)
    assert client.get(f"/artifacts/{requirements_only}/traceability.xlsx").status_code == 200
    empty_project = make_project(app, user.id, "Empty")
    response = client.get(f"/projects/{empty_project}/export.jira.csv")
    assert response.status_code == 409 and "The project “Empty” has no user stories to export." in response.get_data(
        as_text=True
    )
    intruder = other_client(app)
    assert intruder.get(f"/projects/{empty_project}/export.jira.csv").status_code == 404


def test_coverage_lists_the_passages_no_current_item_cites(
    app: Flask, client: FlaskClient, user: User, project_id: str, thread_id: str, passages: list[int]
) -> None:
    empty = client.get(f"/projects/{project_id}?tab=coverage").get_data(as_text=True)
    assert "0 of 4 passages" in empty and empty.count('class="uncited"') == 4
    save_items(app, thread_id, "Stories", [story("Pay by card"), story("Receipt")], [[passages[1]], [passages[2]]])
    html = client.get(f"/projects/{project_id}?tab=coverage").get_data(as_text=True)
    assert "2 of 4 passages</strong> cited by an item (50 %)" in html
    uncited = re.findall(r'#chunk-(\d+)">kickoff.txt', html)
    assert uncited == ["1", "4"]
    # A later version that drops a story no longer covers its passage.
    save_items(app, thread_id, "Stories", [story("Pay by card")], [[passages[1]]])
    html = client.get(
        f"/projects/{project_id}?tab=coverage", headers={"HX-Request": "true", "HX-Target": "project-tab"}
    ).get_data(as_text=True)
    assert "<html" not in html and re.findall(r'#chunk-(\d+)">kickoff.txt', html) == ["1", "3", "4"]
    intruder = other_client(app)
    assert intruder.get(f"/projects/{project_id}?tab=coverage").status_code == 404


def test_document_page_shows_which_items_cite_each_passage(
    app: Flask, client: FlaskClient, user: User, project_id: str, thread_id: str
) -> None:
    document_id, passages = make_document(
        app, user.id, ["Intro.", "Cards are taken.", "Receipts by email."], filename="notes.txt", project_id=project_id
    )
    artifact_id = save_items(app, thread_id, "Stories", [story("Pay by card")], [[passages[1]]])
    html = client.get(f"/documents/{document_id}").get_data(as_text=True)
    passage = re.search(r'<section id="chunk-2".*?</section>', html, re.DOTALL).group(0)
    assert f'href="/artifacts/{artifact_id}#item-US-1"' in passage and "US-1 Pay by card" in passage
    assert "Cited by" not in re.search(r'<section id="chunk-1".*?</section>', html, re.DOTALL).group(0)
