"""Saving and reading artifacts; every save of an existing title keeps the old version."""

from __future__ import annotations

import sqlalchemy as sa

from ..extensions import db
from ..models import ARTIFACT_TYPES, Artifact, Thread

MAX_TITLE = 200
MAX_CONTENT = 200_000


class ArtifactError(ValueError):
    """The artifact cannot be saved as given."""


def latest_versions(thread_id: str) -> list[Artifact]:
    """The newest version of each artifact in a thread, newest first."""
    newest = (
        sa.select(sa.func.coalesce(Artifact.first_version_id, Artifact.id).label("root"),
                  sa.func.max(Artifact.version).label("version"))
        .where(Artifact.thread_id == thread_id)
        .group_by("root")
        .subquery()
    )
    query = (
        sa.select(Artifact)
        .join(newest, sa.and_(sa.func.coalesce(Artifact.first_version_id, Artifact.id) == newest.c.root,
                              Artifact.version == newest.c.version))
        .order_by(Artifact.created_at.desc())
    )
    return list(db.session.scalars(query))


def save_artifact(
    *, thread: Thread, message_id: str | None, artifact_type: str, title: str, content_markdown: str
) -> Artifact:
    """Save a new artifact, or a new version of the thread's artifact with the same title."""
    title = " ".join(title.split())[:MAX_TITLE]
    if not title:
        raise ArtifactError("An artifact needs a title.")
    if artifact_type not in ARTIFACT_TYPES:
        raise ArtifactError(f"artifact_type must be one of {', '.join(ARTIFACT_TYPES)}.")
    if not content_markdown.strip() or len(content_markdown) > MAX_CONTENT:
        raise ArtifactError(f"Content must be between 1 and {MAX_CONTENT} characters.")
    previous = db.session.scalars(
        sa.select(Artifact)
        .where(Artifact.thread_id == thread.id, sa.func.lower(Artifact.title) == title.lower())
        .order_by(Artifact.version.desc())
        .limit(1)
    ).first()
    artifact = Artifact(
        thread_id=thread.id, message_id=message_id, artifact_type=artifact_type, title=title,
        content_markdown=content_markdown,
        version=previous.version + 1 if previous else 1,
        first_version_id=(previous.first_version_id or previous.id) if previous else None,
    )
    db.session.add(artifact)
    db.session.flush()
    return artifact
