"""A set of items as a backlog: its stories, and the requirement each story implements.

Shared by the tracker files and the traceability matrix, which both read a backlog, not rows.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from ..models import ArtifactItem

_NOT_SLUG = re.compile(r"[^a-z0-9]+")


class NothingToExport(Exception):
    """The artifact or project has no items of the kind the export needs."""


@dataclass(frozen=True, slots=True)
class Backlog:
    items: list[ArtifactItem]

    @property
    def stories(self) -> list[ArtifactItem]:
        return [item for item in self.items if item.kind == "story"]

    @property
    def requirements(self) -> list[ArtifactItem]:
        return [item for item in self.items if item.kind == "requirement"]

    def requirement_of(self, story: ArtifactItem) -> ArtifactItem | None:
        """The requirement a story implements: by key, in its own artifact first, then anywhere in the backlog."""
        if not story.requirement_key:
            return None
        matches = [item for item in self.requirements if item.key == story.requirement_key]
        return next((item for item in matches if item.artifact_id == story.artifact_id), None) or (
            matches[0] if matches else None
        )

    def stories_of(self, requirement: ArtifactItem) -> list[ArtifactItem]:
        return [story for story in self.stories if self.requirement_of(story) is requirement]


def backlog(items: Sequence[ArtifactItem], *, need: str, scope: str) -> Backlog:
    """The items as a backlog; NothingToExport when it has no stories (`need="stories"`) or no items at all."""
    found = Backlog(list(items))
    if need == "stories" and not found.stories:
        raise NothingToExport(f"{scope} has no user stories to export.")
    if not found.items:
        raise NothingToExport(f"{scope} has no stories or requirements to export.")
    return found


def slug(text: str, fallback: str = "artifact") -> str:
    """ASCII, lower case, dashes: "Checkout: café stories" becomes "checkout-cafe-stories"."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return _NOT_SLUG.sub("-", ascii_text.lower()).strip("-")[:60].strip("-") or fallback


def spreadsheet_safe(value: str) -> str:
    """Text that a spreadsheet opening the file shows as text, never runs as a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
