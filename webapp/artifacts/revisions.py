"""Edits by hand: each one saves the next version, exactly as a save by the assistant does.

Only the newest version can be edited; an edit sent from an older page is refused with
StaleVersion, so that nothing typed since is overwritten without the user knowing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import sqlalchemy as sa

from ..extensions import db
from ..models import Artifact
from . import service
from .items import MAX_ITEMS, ItemDraft, ItemFieldsError, draft_from_form, draft_from_item


class StaleVersion(Exception):
    """The version edited is no longer the newest."""

    def __init__(self, latest: Artifact) -> None:
        super().__init__(f"Version {latest.version} is newer than the one edited.")
        self.latest = latest


class ItemNotFound(LookupError):
    """The version has no item with that key."""


def _latest(artifact: Artifact) -> None:
    latest = service.versions_of(artifact)[0]
    if latest.id != artifact.id:
        raise StaleVersion(latest)


def _drafts(artifact: Artifact) -> list[ItemDraft]:
    return [draft_from_item(item) for item in artifact.items]


def _index(drafts: Sequence[ItemDraft], key: str) -> int:
    for index, draft in enumerate(drafts):
        if draft.key == key:
            return index
    raise ItemNotFound(key)


def _save(
    artifact: Artifact, drafts: Sequence[ItemDraft], *, title: str | None = None, text: str | None = None
) -> Artifact:
    try:
        new = service.save_version(
            thread_id=artifact.thread_id,
            previous=artifact,
            message_id=None,
            artifact_type=artifact.artifact_type,
            title=title or artifact.title,
            text=service.prose(artifact) if text is None else text,
            drafts=drafts,
        )
    except service.ArtifactError as error:
        db.session.rollback()
        raise ItemFieldsError({"content": str(error)}) from error
    db.session.commit()
    return new


def edit_item(artifact: Artifact, key: str, form: Mapping[str, str]) -> Artifact:
    """Save the item's new fields (its key, place and sources stay)."""
    _latest(artifact)
    drafts = _drafts(artifact)
    index = _index(drafts, key)
    old = drafts[index]
    drafts[index] = draft_from_form(form, kind=old.kind, key=key, citations=old.citations)
    return _save(artifact, drafts)


def add_item(artifact: Artifact, form: Mapping[str, str]) -> Artifact:
    """Add a story or requirement at the end; it gets the next free key."""
    _latest(artifact)
    drafts = _drafts(artifact)
    if len(drafts) >= MAX_ITEMS:
        raise ItemFieldsError({"kind": f"an artifact holds at most {MAX_ITEMS} items."})
    kind = form.get("kind", "")
    if kind not in ("story", "requirement"):
        raise ItemFieldsError({"kind": "choose story or requirement."})
    drafts.append(draft_from_form(form, kind=kind, key=None))
    return _save(artifact, drafts)


def move_item(artifact: Artifact, key: str, offset: int) -> Artifact:
    """Move an item up (-1) or down (+1); at either end it stays, and no version is added."""
    _latest(artifact)
    drafts = _drafts(artifact)
    index = _index(drafts, key)
    target = index + offset
    if not 0 <= target < len(drafts):
        return artifact
    drafts[index], drafts[target] = drafts[target], drafts[index]
    return _save(artifact, drafts)


def delete_item(artifact: Artifact, key: str) -> Artifact:
    """Leave the item out of the next version (earlier versions keep it)."""
    _latest(artifact)
    drafts = _drafts(artifact)
    del drafts[_index(drafts, key)]
    if not drafts and not service.prose(artifact).strip():
        raise ItemFieldsError({"key": "this is the artifact's only content; delete the artifact instead."})
    return _save(artifact, drafts)


def edit_artifact(artifact: Artifact, *, title: str, text: str) -> Artifact:
    """Save a new title and prose (the whole Markdown of an artifact without items)."""
    _latest(artifact)
    errors: dict[str, str] = {}
    clean = " ".join(title.split())
    if not clean:
        errors["title"] = "required."
    elif len(clean) > service.MAX_TITLE:
        errors["title"] = f"keep it under {service.MAX_TITLE} characters."
    elif _title_taken(artifact, clean):
        errors["title"] = "another artifact in this chat has this title."
    if len(text) > service.MAX_CONTENT:
        errors["content"] = f"keep it under {service.MAX_CONTENT:,} characters."
    elif not text.strip() and not artifact.items:
        errors["content"] = "required."
    if errors:
        raise ItemFieldsError(errors)
    return _save(artifact, _drafts(artifact), title=clean, text=text)


def _title_taken(artifact: Artifact, title: str) -> bool:
    """Whether another artifact of the chat has (or had) this title: the assistant's saves go by title."""
    root = service.root_id(artifact)
    return bool(
        db.session.scalar(
            sa.select(
                sa.exists().where(
                    Artifact.thread_id == artifact.thread_id,
                    sa.func.lower(Artifact.title) == title.lower(),
                    Artifact.id != root,
                    sa.func.coalesce(Artifact.first_version_id, "") != root,
                )
            )
        )
    )
