"""Items in the artifact page: sources that open their passage, findings, and edits that save new versions."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from webapp.extensions import db
from webapp.models import Artifact, ArtifactItem, User

from ..backlog_data import make_document, make_project, requirement, save_items, story
from ..chat_helpers import make_thread
from ..conftest import other_client


@pytest.fixture
def project_id(app: Flask, user: User) -> str:
    return make_project(app, user.id)


@pytest.fixture
def thread_id(app: Flask, user: User, project_id: str) -> str:
    return make_thread(app, user.id, project_id=project_id, title="Checkout")


@pytest.fixture
def document(app: Flask, user: User, project_id: str) -> tuple[str, list[int]]:
    return make_document(app, user.id, project_id=project_id, pages=[1, 1, 2, 3])


@pytest.fixture
def artifact_id(app: Flask, thread_id: str, document: tuple[str, list[int]]) -> str:
    _, passages = document
    return save_items(
        app,
        thread_id,
        "Checkout stories",
        [
            requirement("Card payments", "The shop shall accept cards."),
            story("Pay by card", requirement_key="REQ-1", priority="must", estimate=3),
            story("Fast checkout", i_want="a fast checkout etc.", so_that="", acceptance_criteria=("It is quick",)),
        ],
        [[passages[1]], [passages[1], passages[2]]],
        intro="Stories from the **kick-off**.",
    )


def text(response) -> str:
    return response.get_data(as_text=True)


def card(html: str, key: str) -> str:
    match = re.search(rf'<article class="card item[^"]*" id="item-{key}".*?</article>', html, re.DOTALL)
    assert match, f"no card for {key}"
    return match.group(0)


def latest_id(app: Flask) -> str:
    with app.app_context():
        return db.session.scalar(sa.select(Artifact.id).order_by(Artifact.version.desc()).limit(1))


def test_items_show_their_fields_sources_and_findings(
    client: FlaskClient, artifact_id: str, document: tuple[str, list[int]]
) -> None:
    document_id, _ = document
    html = text(client.get(f"/artifacts/{artifact_id}"))
    assert "Stories from the <strong>kick-off</strong>." in html and "3 items" in html
    pay = card(html, "US-1")
    assert (
        "As a <strong>shopper</strong>, I want <strong>pay by card</strong>, so that <strong>I can check out</strong>."
        in pay
    )
    assert "Must have" in pay and "3 points" in pay and 'href="#item-REQ-1"' in pay
    assert f'href="/documents/{document_id}#chunk-2">kickoff.txt, p. 1, §2</a>' in pay
    assert f'href="/documents/{document_id}#chunk-3">kickoff.txt, p. 2, §3</a>' in pay
    assert "<q>Shoppers must be able to pay by card, including Amex, at checkout.</q>" in pay
    assert "finding" not in pay
    fast = card(html, "US-2")
    assert "Ambiguous: “fast”" in fast and "Ambiguous: “etc.”" in fast and "No “so that”" in fast
    assert "Acceptance criterion 1 is not Given/When/Then: “It is quick”." in fast
    assert "No source cited." in fast and "No source: cite the passage" in fast
    for export in ("export.jira.csv", "export.azure-devops.csv", "traceability.xlsx"):
        assert f"/artifacts/{artifact_id}/{export}" in html


def test_a_deleted_document_leaves_source_removed(
    app: Flask, client: FlaskClient, artifact_id: str, document: tuple[str, list[int]]
) -> None:
    document_id, _ = document
    assert client.post(f"/documents/{document_id}/delete").status_code == 303
    pay = card(text(client.get(f"/artifacts/{artifact_id}")), "US-1")
    assert 'href="/documents/' not in pay and pay.count('badge-warn">Source removed</span>') == 2
    assert "kickoff.txt, p. 1, §2 <q>Shoppers must be able to pay by card" in pay
    assert "Source removed: the documents it came from were deleted." in pay


def test_an_item_is_edited_in_place_and_saved_as_a_new_version(
    app: Flask, client: FlaskClient, artifact_id: str
) -> None:
    form = client.get(
        f"/artifacts/{artifact_id}/items/US-1/edit", headers={"HX-Request": "true", "HX-Target": "item-US-1"}
    )
    html = text(form)
    assert "<html" not in html and 'id="item-US-1"' in html and 'hx-target="#item-US-1"' in html
    assert 'value="Pay by card"' in html and "Given a basket\nWhen I pay\nThen I get a receipt" in html
    response = client.post(
        f"/artifacts/{artifact_id}/items/US-1",
        data={
            "title": "Pay by card or wallet",
            "as_a": "shopper",
            "i_want": "to pay by card or wallet",
            "so_that": "I can check out",
            "acceptance_criteria": "Given a basket\nWhen I pay\nThen I get a receipt\n\n"
            "Given a wallet\r\nWhen I pay with it\r\nThen the order is placed",
            "priority": "should",
            "estimate": "5",
            "status": "review",
            "requirement_key": "req-1",
        },
    )
    assert response.status_code == 303
    new_id = latest_id(app)
    assert response.headers["Location"] == f"/artifacts/{new_id}#versions"
    page = text(client.get(response.headers["Location"]))
    assert "US-1 saved as version 2." in page and "Version 2 of 2" in page
    pay = card(page, "US-1")
    assert "Pay by card or wallet" in pay and "Should have" in pay and "In review" in pay and "5 points" in pay
    assert "kickoff.txt, p. 1, §2" in pay  # the sources stay
    with app.app_context():
        item = db.session.scalar(
            sa.select(ArtifactItem).where(ArtifactItem.artifact_id == new_id, ArtifactItem.key == "US-1")
        )
        assert item.acceptance_criteria[1] == "Given a wallet\nWhen I pay with it\nThen the order is placed"
        assert item.requirement_key == "REQ-1"
    changes = text(client.get(f"/artifacts/{new_id}/changes"))
    assert "Added: </span>## US-1 · Pay by card or wallet" in changes
    assert "Removed: </span>## US-1 · Pay by card" in changes
    # The earlier version is unchanged, and can no longer be edited.
    old = text(client.get(f"/artifacts/{artifact_id}"))
    assert "Pay by card or wallet" not in old and "/items/US-1/edit" not in old


def test_htmx_edit_redirects_to_the_new_version(app: Flask, client: FlaskClient, artifact_id: str) -> None:
    response = client.post(
        f"/artifacts/{artifact_id}/items/REQ-1",
        data={"title": "Cards", "description": "The shop shall accept Visa and Mastercard."},
        headers={"HX-Request": "true", "HX-Target": "item-REQ-1"},
    )
    assert response.status_code == 204 and response.headers["HX-Redirect"] == f"/artifacts/{latest_id(app)}#versions"


def test_empty_required_fields_answer_422_naming_them(app: Flask, client: FlaskClient, artifact_id: str) -> None:
    data = {"title": " ", "as_a": "", "i_want": "", "estimate": "many", "priority": "urgent"}
    fragment = client.post(
        f"/artifacts/{artifact_id}/items/US-1", data=data, headers={"HX-Request": "true", "HX-Target": "item-US-1"}
    )
    assert fragment.status_code == 422
    html = text(fragment)
    assert "<html" not in html and "Nothing was saved. Fill in or fix: Title, As a, I want, Priority, Estimate." in html
    assert "Title: required." in html and "I want: required." in html
    assert 'aria-invalid="true"' in html and 'value="urgent"' not in html
    page = client.post(f"/artifacts/{artifact_id}/items/US-1", data=data)
    assert page.status_code == 422 and "<html" in text(page) and "Title: required." in text(page)
    added = client.post(f"/artifacts/{artifact_id}/items", data={"kind": "requirement", "title": "Refunds"})
    assert added.status_code == 422 and "Fill in or fix: Requirement." in text(added)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Artifact)) == 1


def test_add_move_and_remove_items_each_save_a_version(app: Flask, client: FlaskClient, artifact_id: str) -> None:
    added = client.post(
        f"/artifacts/{artifact_id}/items",
        data={
            "kind": "story",
            "title": "Refund",
            "as_a": "clerk",
            "i_want": "to refund a payment",
            "so_that": "money goes back",
            "acceptance_criteria": "Given a payment\nWhen I refund it\nThen the shopper is paid back",
        },
    )
    assert added.status_code == 303
    second = latest_id(app)
    html = text(client.get(f"/artifacts/{second}"))
    assert "Refund" in card(html, "US-3") and "Item added as version 2." in html
    moved = client.post(f"/artifacts/{second}/items/US-3/move", data={"direction": "up"})
    assert moved.status_code == 303
    third = latest_id(app)
    keys = re.findall(
        r'<article class="card item[^"]*" id="item-([A-Z]+-\d+)"', text(client.get(f"/artifacts/{third}"))
    )
    assert keys == ["REQ-1", "US-1", "US-3", "US-2"]
    confirm = text(client.get(f"/artifacts/{third}/items/US-2/delete"))
    assert "Remove US-2 from “Checkout stories”?" in confirm and 'name="csrf_token"' in confirm
    removed = client.post(f"/artifacts/{third}/items/US-2/delete")
    assert removed.status_code == 303
    fourth = text(client.get(removed.headers["Location"]))
    assert 'id="item-US-2"' not in fourth and "US-2 removed: version 4." in fourth and "Version 4 of 4" in fourth
    added_again = client.post(
        f"/artifacts/{latest_id(app)}/items",
        data={"kind": "story", "title": "Gift cards", "as_a": "shopper", "i_want": "to pay with a gift card"},
    )
    assert added_again.status_code == 303
    assert 'id="item-US-4"' in text(client.get(added_again.headers["Location"]))  # US-2 is never reused


def test_an_edit_from_an_older_version_is_refused(app: Flask, client: FlaskClient, artifact_id: str) -> None:
    client.post(f"/artifacts/{artifact_id}/items/REQ-1", data={"title": "Cards", "description": "Cards."})
    stale = client.post(
        f"/artifacts/{artifact_id}/items/REQ-1",
        data={"title": "Old tab", "description": "Old."},
        headers={"HX-Request": "true", "HX-Target": "item-REQ-1"},
    )
    assert stale.status_code == 409
    assert "Nothing was saved: version 1 is not the newest" in text(stale)
    assert f'href="/artifacts/{latest_id(app)}"' in text(stale)


def test_the_whole_artifact_is_edited_by_hand(
    app: Flask, client: FlaskClient, thread_id: str, artifact_id: str
) -> None:
    form = text(client.get(f"/artifacts/{artifact_id}/edit"))
    assert "Stories from the **kick-off**." in form and "Text before the items" in form
    empty = client.post(f"/artifacts/{artifact_id}/edit", data={"title": "", "content": ""})
    assert empty.status_code == 422 and "Fill in or fix: Title." in text(empty)
    saved = client.post(f"/artifacts/{artifact_id}/edit", data={"title": "Payment stories", "content": "New intro."})
    assert saved.status_code == 303
    html = text(client.get(saved.headers["Location"]))
    assert "<h1>Payment stories</h1>" in html and "New intro." in html and 'id="item-US-1"' in html
    prose = save_items  # noqa: F841  (a prose artifact: the content is all of it)
    with app.app_context():
        from webapp.artifacts import service
        from webapp.models import Thread

        brd = service.save_artifact(
            thread=db.session.get(Thread, thread_id),
            message_id=None,
            artifact_type="brd",
            title="BRD",
            content_markdown="# BRD\n\nScope.",
        )
        db.session.commit()
        brd_id = brd.id
    assert client.post(f"/artifacts/{brd_id}/edit", data={"title": "BRD", "content": " "}).status_code == 422
    taken = client.post(f"/artifacts/{brd_id}/edit", data={"title": "payment STORIES", "content": "x"})
    assert taken.status_code == 422 and "another artifact in this chat has this title" in text(taken)
    ok = client.post(f"/artifacts/{brd_id}/edit", data={"title": "BRD", "content": "# BRD\n\nScope and goals."})
    assert "Scope and goals." in text(client.get(ok.headers["Location"]))


def test_other_users_cannot_see_or_edit_items(app: Flask, client: FlaskClient, artifact_id: str) -> None:
    intruder = other_client(app)
    for method, path, data in [
        ("get", "/items/US-1", None),
        ("get", "/items/US-1/edit", None),
        ("get", "/edit", None),
        ("post", "/items/US-1", {"title": "Hacked", "as_a": "x", "i_want": "y"}),
        ("post", "/items", {"kind": "story", "title": "Hacked", "as_a": "x", "i_want": "y"}),
        ("post", "/items/US-1/move", {"direction": "down"}),
        ("post", "/items/US-1/delete", None),
        ("get", "/export.jira.csv", None),
        ("get", "/export.azure-devops.csv", None),
        ("get", "/traceability.xlsx", None),
    ]:
        response = getattr(intruder, method)(f"/artifacts/{artifact_id}{path}", data=data)
        assert response.status_code == 404, path
        assert "Pay by card" not in text(response)
    assert client.get(f"/artifacts/{artifact_id}/items/US-9").status_code == 404
    assert client.get(f"/artifacts/{artifact_id}/items/bad key").status_code == 404
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Artifact)) == 1
