"""Saving, finding, comparing and deleting artifacts.

Every save of an existing title keeps the old version: versions are rows that point at
the first one (`first_version_id`). An artifact belongs to the owner of its thread.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import ARTIFACT_TYPES, Artifact, ArtifactItem, Thread
from ..threads.service import NO_PROJECT, project_options
from .items import ItemDraft, assign_keys, build_item, items_markdown

MAX_TITLE = 200
MAX_CONTENT = 200_000
# The Markdown drawn from items may be longer than typed prose, but not without end.
MAX_DRAWN = 1_000_000
PER_PAGE = 50
TYPE_LABELS = {
    "user_stories": "User stories",
    "acceptance_criteria": "Acceptance criteria",
    "requirements_doc": "Requirements document",
    "brd": "Business requirements (BRD)",
    "other": "Other",
}


class ArtifactError(ValueError):
    """The artifact cannot be saved as given."""


# Reading


def root_id(artifact: Artifact) -> str:
    """The id shared by every version of an artifact: its first version's."""
    return artifact.first_version_id or artifact.id


def _root_column() -> Any:
    return sa.func.coalesce(Artifact.first_version_id, Artifact.id)


def _latest(*conditions: Any) -> sa.Select[tuple[Artifact]]:
    """The newest version of each artifact whose thread matches `conditions`, newest first."""
    newest = (
        sa.select(_root_column().label("root"), sa.func.max(Artifact.version).label("version"))
        .join(Thread, Thread.id == Artifact.thread_id)
        .where(*conditions)
        .group_by(_root_column())
        .subquery()
    )
    return (
        sa.select(Artifact)
        .join(newest, sa.and_(_root_column() == newest.c.root, Artifact.version == newest.c.version))
        .options(joinedload(Artifact.thread).joinedload(Thread.project))
        .order_by(Artifact.created_at.desc(), Artifact.id)
    )


def thread_artifacts(thread_id: str) -> list[Artifact]:
    """The newest version of each artifact saved in a thread, newest first."""
    return list(db.session.scalars(_latest(Artifact.thread_id == thread_id)))


# The name the assistant's code has used since artifacts were first saved.
latest_versions = thread_artifacts


def project_artifacts(user_id: str, project_id: str) -> list[Artifact]:
    """The newest version of each artifact saved in the user's chats of a project."""
    return list(db.session.scalars(_latest(Thread.user_id == user_id, Thread.project_id == project_id)))


def get_artifact(user_id: str, artifact_id: str) -> Artifact | None:
    """One version of an artifact, if it is in one of the user's threads."""
    return db.session.scalar(
        sa.select(Artifact)
        .join(Thread, Thread.id == Artifact.thread_id)
        .where(Artifact.id == artifact_id, Thread.user_id == user_id)
    )


def versions_of(artifact: Artifact) -> list[Artifact]:
    """Every version of an artifact, newest first."""
    root = root_id(artifact)
    return list(
        db.session.scalars(
            sa.select(Artifact)
            .where(sa.or_(Artifact.id == root, Artifact.first_version_id == root))
            .order_by(Artifact.version.desc())
        )
    )


@dataclass(frozen=True, slots=True)
class ArtifactFilters:
    """Narrow the artifact list: `project` is a project id, NO_PROJECT, or None for all."""

    artifact_type: str | None = None
    project: str | None = None

    @classmethod
    def parse(cls, artifact_type: str | None, project: str | None) -> ArtifactFilters:
        """Keep only values that can match; an unknown type means no type filter."""
        return cls(artifact_type if artifact_type in ARTIFACT_TYPES else None, project or None)

    @property
    def active(self) -> bool:
        return bool(self.artifact_type or self.project)

    def args(self) -> dict[str, str]:
        """The filters as query-string arguments."""
        return {key: value for key, value in (("type", self.artifact_type), ("project", self.project)) if value}


@dataclass(frozen=True, slots=True)
class ArtifactLibrary:
    """A page of the user's artifacts (latest versions), and the choices for the filters."""

    artifacts: list[Artifact]
    page: int
    has_more: bool
    filters: ArtifactFilters
    projects: list[tuple[str, str]] = field(default_factory=list)


def _filter_conditions(user_id: str, filters: ArtifactFilters) -> list[Any]:
    conditions: list[Any] = [Thread.user_id == user_id]
    if filters.project == NO_PROJECT:
        conditions.append(Thread.project_id.is_(None))
    elif filters.project:
        conditions.append(Thread.project_id == filters.project)
    return conditions


def library(user_id: str, filters: ArtifactFilters, *, page: int = 1) -> ArtifactLibrary:
    """The user's artifacts, newest first, as the filters say, `PER_PAGE` to a page."""
    page = max(page, 1)
    query = _latest(*_filter_conditions(user_id, filters))
    if filters.artifact_type:
        # The type of the newest version counts: a later save may change it.
        query = query.where(Artifact.artifact_type == filters.artifact_type)
    found = list(db.session.scalars(query.offset((page - 1) * PER_PAGE).limit(PER_PAGE + 1)))
    return ArtifactLibrary(found[:PER_PAGE], page, len(found) > PER_PAGE, filters, project_options(user_id))


# One artifact and its history


@dataclass(frozen=True, slots=True)
class ArtifactPage:
    """One version of an artifact with its history."""

    artifact: Artifact
    versions: list[Artifact]

    @property
    def latest(self) -> Artifact:
        return self.versions[0]

    @property
    def is_latest(self) -> bool:
        return self.artifact.id == self.latest.id

    @property
    def previous(self) -> Artifact | None:
        """The version just before the one shown."""
        return next((v for v in self.versions if v.version < self.artifact.version), None)


def artifact_page(artifact: Artifact) -> ArtifactPage:
    """An artifact version with all the versions of its artifact."""
    return ArtifactPage(artifact, versions_of(artifact))


DiffKind = Literal["hunk", "added", "removed", "same"]


@dataclass(frozen=True, slots=True)
class DiffLine:
    kind: DiffKind
    text: str


@dataclass(frozen=True, slots=True)
class Changes:
    """What changed in a version since the one before it."""

    page: ArtifactPage
    lines: list[DiffLine]

    @property
    def added(self) -> int:
        return sum(line.kind == "added" for line in self.lines)

    @property
    def removed(self) -> int:
        return sum(line.kind == "removed" for line in self.lines)


_DIFF_KINDS: dict[str, DiffKind] = {"@": "hunk", "+": "added", "-": "removed", " ": "same"}
_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")


def diff_lines(older: str, newer: str, *, context: int = 3) -> list[DiffLine]:
    """A line diff of two texts: where each change is, then added, removed and unchanged lines."""
    diff = difflib.unified_diff(older.splitlines(), newer.splitlines(), lineterm="", n=context)
    # The first two lines name the files being compared; there are none here.
    return [
        DiffLine(_DIFF_KINDS[raw[:1]], _hunk_label(raw) if raw[:1] == "@" else raw[1:]) for raw in islice(diff, 2, None)
    ]


def _hunk_label(header: str) -> str:
    """Say where a change is in the newer version: "@@ -28,4 +28,5 @@" becomes "Lines 28–32"."""
    match = _HUNK.match(header)
    if match is None:
        return header
    start, count = int(match.group(1)), int(match.group(2) or 1)
    if count <= 1:
        return f"Line {max(start, 1)}"
    return f"Lines {start}–{start + count - 1}"


def changes(artifact: Artifact) -> Changes:
    """The line diff between a version and the version before it (none for the first)."""
    page = artifact_page(artifact)
    previous = page.previous
    lines = diff_lines(previous.content_markdown, artifact.content_markdown) if previous else []
    return Changes(page, lines)


# Writing


def prose(artifact: Artifact) -> str:
    """The artifact's own text: all of it without items, the part before the items with them."""
    return artifact.intro_markdown if artifact.items else artifact.content_markdown


def save_artifact(
    *,
    thread: Thread,
    message_id: str | None,
    artifact_type: str,
    title: str,
    content_markdown: str,
    items: Sequence[ItemDraft] | None = None,
) -> Artifact:
    """Save a new artifact, or a new version of the thread's artifact with the same title.

    With `items`, `content_markdown` is the prose before them and the Markdown is drawn from
    the items; without, it is the whole content.
    """
    title = _clean_title(title)
    if artifact_type not in ARTIFACT_TYPES:
        raise ArtifactError(f"artifact_type must be one of {', '.join(ARTIFACT_TYPES)}.")
    if len(content_markdown) > MAX_CONTENT or not (content_markdown.strip() or items):
        raise ArtifactError(f"Content must be between 1 and {MAX_CONTENT} characters.")
    previous = _latest_titled(thread.id, title)
    return save_version(
        thread_id=thread.id,
        previous=previous,
        message_id=message_id,
        artifact_type=artifact_type,
        title=title,
        text=content_markdown,
        drafts=items or [],
    )


def _clean_title(title: str) -> str:
    title = " ".join(title.split())[:MAX_TITLE]
    if not title:
        raise ArtifactError("An artifact needs a title.")
    return title


def _latest_titled(thread_id: str, title: str) -> Artifact | None:
    """The newest version of the thread's artifact that has, or once had, this title."""
    found = db.session.scalars(
        sa.select(Artifact)
        .where(Artifact.thread_id == thread_id, sa.func.lower(Artifact.title) == title.lower())
        .order_by(Artifact.version.desc())
        .limit(1)
    ).first()
    return versions_of(found)[0] if found is not None else None


def used_keys(previous: Artifact | None) -> set[str]:
    """Every key any version of the artifact has had, so a deleted item's key is never reused."""
    if previous is None:
        return set()
    root = root_id(previous)
    return set(
        db.session.scalars(
            sa.select(ArtifactItem.key)
            .join(Artifact, Artifact.id == ArtifactItem.artifact_id)
            .where(sa.or_(Artifact.id == root, Artifact.first_version_id == root))
        )
    )


def save_version(
    *,
    thread_id: str,
    previous: Artifact | None,
    message_id: str | None,
    artifact_type: str,
    title: str,
    text: str,
    drafts: Sequence[ItemDraft],
) -> Artifact:
    """Add the next version after `previous` (or a first one); the previous items stop being current."""
    artifact = Artifact(
        thread_id=thread_id,
        message_id=message_id,
        artifact_type=artifact_type,
        title=title,
        version=previous.version + 1 if previous else 1,
        first_version_id=root_id(previous) if previous else None,
    )
    numbered = assign_keys(drafts, used_keys(previous))
    artifact.items = [build_item(draft, position) for position, draft in enumerate(numbered)]
    artifact.intro_markdown = text if numbered else ""
    artifact.content_markdown = items_markdown(text, artifact.items) if numbered else text
    if len(artifact.content_markdown) > MAX_DRAWN:
        raise ArtifactError(f"The artifact would be over {MAX_DRAWN:,} characters long; split it in two.")
    if previous is not None:
        db.session.execute(
            sa.update(ArtifactItem).where(ArtifactItem.artifact_id == previous.id).values(is_current=False)
        )
    db.session.add(artifact)
    db.session.flush()
    return artifact


def delete_artifact(artifact: Artifact) -> int:
    """Delete an artifact with all its versions; return how many versions went."""
    root = root_id(artifact)
    # Later versions first: they point at the first one.
    result = db.session.execute(sa.delete(Artifact).where(Artifact.first_version_id == root))
    db.session.execute(sa.delete(Artifact).where(Artifact.id == root))
    db.session.commit()
    return result.rowcount + 1
