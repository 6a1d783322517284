"""Test data for backlogs: projects, documents with passages, and artifacts saved with items."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from flask import Flask

from webapp.artifacts import service
from webapp.artifacts.items import ItemDraft
from webapp.artifacts.passages import citations
from webapp.extensions import db
from webapp.models import Document, DocumentChunk, Project, Thread

KICKOFF = [
    "The finance team wants invoices reconciled every night against the bank feed.",
    "Shoppers must be able to pay by card, including Amex, at checkout.",
    "A receipt is emailed after each payment.",
    "Reporting is out of scope for phase one.",
]


def make_project(app: Flask, user_id: str, name: str = "Webshop") -> str:
    with app.app_context():
        project = Project(user_id=user_id, name=name)
        db.session.add(project)
        db.session.commit()
        return project.id


def make_document(
    app: Flask,
    user_id: str,
    passages: Sequence[str] = KICKOFF,
    *,
    filename: str = "kickoff.txt",
    project_id: str | None = None,
    thread_id: str | None = None,
    pages: Sequence[int | None] | None = None,
) -> tuple[str, list[int]]:
    """A parsed document with these passages; returns its id and its passages' ids in order."""
    text = "\n\n".join(passages)
    with app.app_context():
        document = Document(
            user_id=user_id,
            project_id=project_id,
            thread_id=thread_id,
            filename=filename,
            content_type="text/plain",
            size_bytes=len(text),
            original=text.encode(),
            sha256=hashlib.sha256(f"{filename}{text}".encode()).hexdigest(),
            meta={"chunks": len(passages)},
        )
        db.session.add(document)
        db.session.flush()
        db.session.execute(
            sa.insert(DocumentChunk),
            [
                {
                    "document_id": document.id,
                    "ordinal": ordinal,
                    "text": passage,
                    "page": pages[ordinal - 1] if pages else None,
                }
                for ordinal, passage in enumerate(passages, start=1)
            ],
        )
        db.session.commit()
        ids = list(
            db.session.scalars(
                sa.select(DocumentChunk.id)
                .where(DocumentChunk.document_id == document.id)
                .order_by(DocumentChunk.ordinal)
            )
        )
        return document.id, ids


def story(title: str, **fields: Any) -> ItemDraft:
    values = {
        "as_a": "shopper",
        "i_want": title.lower(),
        "so_that": "I can check out",
        "acceptance_criteria": ("Given a basket\nWhen I pay\nThen I get a receipt",),
        **fields,
    }
    return ItemDraft(kind="story", title=title, **values)


def requirement(title: str, description: str, **fields: Any) -> ItemDraft:
    return ItemDraft(kind="requirement", title=title, description=description, **fields)


def save_items(
    app: Flask,
    thread_id: str,
    title: str,
    drafts: Sequence[ItemDraft],
    cites: Sequence[Sequence[int]] = (),
    *,
    intro: str = "",
    artifact_type: str = "user_stories",
) -> str:
    """Save an artifact of items; `cites[i]` are the passage ids item i cites."""
    with app.app_context():
        thread = db.session.get(Thread, thread_id)
        with_sources = []
        for index, draft in enumerate(drafts):
            ids = cites[index] if index < len(cites) else ()
            found = citations(thread, ids)
            with_sources.append(ItemDraft(**{**_fields(draft), "citations": tuple(found[i] for i in ids)}))
        artifact = service.save_artifact(
            thread=thread,
            message_id=None,
            artifact_type=artifact_type,
            title=title,
            content_markdown=intro,
            items=with_sources,
        )
        db.session.commit()
        return artifact.id


def _fields(draft: ItemDraft) -> dict[str, Any]:
    return {name: getattr(draft, name) for name in draft.__slots__ if name != "citations"}
