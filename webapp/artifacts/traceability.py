"""From passages to items and back: coverage of a project's documents, who cites a passage, findings.

Only the items of each artifact's newest version count (`ArtifactItem.is_current`): an item
removed in a later version no longer covers its passage.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager

from ..extensions import db
from ..models import Artifact, ArtifactItem, Document, DocumentChunk, ItemSource, Thread
from . import checks

COVERAGE_PER_PAGE = 100


def current_items(user_id: str, *conditions: sa.ColumnElement[bool]) -> list[ArtifactItem]:
    """The current items of the user's artifacts matching `conditions`, each with its artifact loaded."""
    return list(
        db.session.scalars(
            sa.select(ArtifactItem)
            .join(ArtifactItem.artifact)
            .join(Thread, Thread.id == Artifact.thread_id)
            .where(ArtifactItem.is_current.is_(True), Thread.user_id == user_id, *conditions)
            .options(contains_eager(ArtifactItem.artifact))
            .order_by(Artifact.created_at, Artifact.id, ArtifactItem.position)
        )
    )


def project_items(user_id: str, project_id: str) -> list[ArtifactItem]:
    """The current items of every artifact in the user's chats of a project."""
    return current_items(user_id, Thread.project_id == project_id)


def findings(artifact: Artifact) -> dict[str, list[checks.Finding]]:
    """The requirement checks' findings for an artifact version's items, duplicates counted project-wide."""
    thread = artifact.thread
    others: list[checks.Elsewhere] = []
    if thread.project_id:
        others = [
            checks.Elsewhere(item.artifact.title, item)
            for item in project_items(thread.user_id, thread.project_id)
            if item.artifact_id != artifact.id and _root(item.artifact) != _root(artifact)
        ]
    return checks.check_items(artifact.items, others)


def _root(artifact: Artifact) -> str:
    return artifact.first_version_id or artifact.id


# Who cites a passage


@dataclass(frozen=True, slots=True)
class CitingItem:
    key: str
    title: str
    artifact_id: str
    artifact_title: str


def citing_items(user_id: str, document_id: str) -> dict[int, list[CitingItem]]:
    """For each passage of a document (by its ordinal), the current items that cite it."""
    rows = db.session.execute(
        sa.select(DocumentChunk.ordinal, ArtifactItem.key, ArtifactItem.title, Artifact.id, Artifact.title)
        .select_from(ItemSource)
        .join(ArtifactItem, ArtifactItem.id == ItemSource.item_id)
        .join(Artifact, Artifact.id == ArtifactItem.artifact_id)
        .join(Thread, Thread.id == Artifact.thread_id)
        .join(DocumentChunk, DocumentChunk.id == ItemSource.chunk_id)
        .where(DocumentChunk.document_id == document_id, ArtifactItem.is_current.is_(True), Thread.user_id == user_id)
        .order_by(Artifact.title, ArtifactItem.position)
    ).all()
    cited: dict[int, list[CitingItem]] = {}
    for ordinal, key, title, artifact_id, artifact_title in rows:
        cited.setdefault(ordinal, []).append(CitingItem(key, title, artifact_id, artifact_title))
    return cited


# Coverage


@dataclass(frozen=True, slots=True)
class UncitedPassage:
    chunk_id: int
    document_id: str
    document_name: str
    ordinal: int
    page: int | None
    sheet: str | None
    text: str


@dataclass(frozen=True, slots=True)
class Coverage:
    """How much of a project's documents the items cite, and a page of the passages none cites yet."""

    passages: int
    cited: int
    uncited: list[UncitedPassage]
    page: int
    has_more: bool

    @property
    def percent(self) -> int:
        return round(100 * self.cited / self.passages) if self.passages else 0


def _is_cited() -> sa.Exists:
    return (
        sa.select(ItemSource.id)
        .join(ArtifactItem, ArtifactItem.id == ItemSource.item_id)
        .where(ItemSource.chunk_id == DocumentChunk.id, ArtifactItem.is_current.is_(True))
        .exists()
    )


def coverage(user_id: str, project_id: str, *, page: int = 1, per_page: int = COVERAGE_PER_PAGE) -> Coverage:
    """The project's passages that no current item cites, in document order, a page at a time."""
    page = max(page, 1)
    scope = sa.and_(Document.project_id == project_id, Document.user_id == user_id)
    cited = _is_cited()
    total, covered = db.session.execute(
        sa.select(sa.func.count(), sa.func.count().filter(cited))
        .select_from(DocumentChunk)
        .join(Document, Document.id == DocumentChunk.document_id)
        .where(scope)
    ).one()
    rows = db.session.execute(
        sa.select(
            DocumentChunk.id,
            Document.id,
            Document.filename,
            DocumentChunk.ordinal,
            DocumentChunk.page,
            DocumentChunk.sheet,
            sa.func.substr(DocumentChunk.text, 1, 400),
        )
        .join(Document, Document.id == DocumentChunk.document_id)
        .where(scope, ~cited)
        .order_by(Document.filename, Document.id, DocumentChunk.ordinal)
        .offset((page - 1) * per_page)
        .limit(per_page + 1)
    ).all()
    uncited = [UncitedPassage(*row) for row in rows[:per_page]]
    return Coverage(total, covered, uncited, page, len(rows) > per_page)
