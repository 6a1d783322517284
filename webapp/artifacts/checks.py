"""Requirement checks that need no model.

What requirements guidance warns about: ISO/IEC/IEEE 29148 asks for unambiguous, verifiable,
traceable and singular requirements; INVEST asks a story to be valuable and testable. So each
item is checked for vague words, a story without its "so that" or its acceptance criteria,
criteria that are not Given/When/Then scenarios, duplicates elsewhere in the project, and a
missing or removed source.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

Check = Literal["ambiguous", "so_that", "no_criteria", "not_gwt", "duplicate", "no_source", "source_removed"]

# Words and phrases that cannot be verified as written (29148's list of vague terms, and common ones).
AMBIGUOUS = (
    "fast",
    "quick",
    "quickly",
    "slow",
    "user-friendly",
    "user friendly",
    "easy",
    "easily",
    "simple",
    "intuitive",
    "efficient",
    "flexible",
    "robust",
    "seamless",
    "seamlessly",
    "adequate",
    "sufficient",
    "reasonable",
    "as appropriate",
    "if appropriate",
    "where appropriate",
    "as needed",
    "as required",
    "if possible",
    "where possible",
    "as soon as possible",
    "etc.",
    "etc",
    "and/or",
    "approximately",
    "minimal",
    "optimal",
    "state-of-the-art",
    "best possible",
    "normally",
    "typically",
    "tbd",
)
_AMBIGUOUS = re.compile(
    r"(?<![\w-])("
    + "|".join(re.escape(term).replace(r"\ ", r"\s+") for term in sorted(AMBIGUOUS, key=len, reverse=True))
    + r")(?![\w-])",
    re.IGNORECASE,
)
_GIVEN_WHEN_THEN = re.compile(r"^\s*given\b.+?\bwhen\b.+?\bthen\b\s*\S", re.IGNORECASE | re.DOTALL)
_WORD = re.compile(r"[a-z0-9]+")
_STOPWORDS = frozenset("a an the to of in on for and or by with as be is are can i want so that my our".split())
DUPLICATE_SIMILARITY = 0.8
_FIELDS = (
    ("title", "title"),
    ("as_a", "as a"),
    ("i_want", "I want"),
    ("so_that", "so that"),
    ("description", "requirement"),
)


class Source(Protocol):
    @property
    def removed(self) -> bool: ...


class Item(Protocol):
    """What the checks read of an item (an ArtifactItem row)."""

    key: str
    kind: str
    title: str
    as_a: str
    i_want: str
    so_that: str
    description: str
    acceptance_criteria: list[str]

    @property
    def sources(self) -> Sequence[Source]: ...


@dataclass(frozen=True, slots=True)
class Finding:
    key: str
    check: Check
    message: str


@dataclass(frozen=True, slots=True)
class Elsewhere:
    """An item of another artifact in the same project, for the duplicate check."""

    artifact_title: str
    item: Item


def check_items(items: Sequence[Item], elsewhere: Sequence[Elsewhere] = ()) -> dict[str, list[Finding]]:
    """Each item's findings, by key; an item with none is left out."""
    found: dict[str, list[Finding]] = {}
    for item in items:
        findings = check_item(item) + _duplicates(item, items, elsewhere)
        if findings:
            found[item.key] = findings
    return found


def check_item(item: Item) -> list[Finding]:
    """The findings for one item on its own (duplicates need the others: see check_items)."""
    findings = [Finding(item.key, "ambiguous", message) for message in _ambiguous(item)]
    if item.kind == "story":
        findings += _story(item)
    findings += [Finding(item.key, "not_gwt", message) for message in _not_scenarios(item.acceptance_criteria)]
    findings += _sources(item)
    return findings


def ambiguous_terms(text: str) -> list[str]:
    """The vague words in `text`, each once, as written."""
    terms: dict[str, str] = {}
    for match in _AMBIGUOUS.finditer(text):
        terms.setdefault(" ".join(match.group(1).lower().split()), match.group(1))
    return list(terms.values())


def _ambiguous(item: Item) -> list[str]:
    texts = [(label, getattr(item, name)) for name, label in _FIELDS]
    texts += [("acceptance criteria", criterion) for criterion in item.acceptance_criteria]
    messages: dict[str, str] = {}
    for label, text in texts:
        for term in (" ".join(term.lower().split()) for term in ambiguous_terms(text)):
            messages.setdefault(
                term,
                f"Ambiguous: “{term}” ({label}) cannot be tested as written; say how much, how soon or which ones.",
            )
    return list(messages.values())


def _story(item: Item) -> list[Finding]:
    findings = []
    if not item.so_that.strip():
        findings.append(
            Finding(
                item.key, "so_that", "No “so that”: say what the user gains, or the story's value cannot be weighed."
            )
        )
    if not item.acceptance_criteria:
        findings.append(Finding(item.key, "no_criteria", "No acceptance criteria: the story cannot be tested."))
    return findings


def is_scenario(criterion: str) -> bool:
    """Whether a criterion reads Given …, When …, Then …, in that order."""
    return bool(_GIVEN_WHEN_THEN.match(criterion))


def _not_scenarios(criteria: Iterable[str]) -> list[str]:
    return [
        f"Acceptance criterion {number} is not Given/When/Then: “{_short(criterion)}”."
        for number, criterion in enumerate(criteria, start=1)
        if not is_scenario(criterion)
    ]


def _sources(item: Item) -> list[Finding]:
    if not item.sources:
        return [Finding(item.key, "no_source", "No source: cite the passage of the documents it comes from.")]
    if all(source.removed for source in item.sources):
        return [Finding(item.key, "source_removed", "Source removed: the documents it came from were deleted.")]
    return []


def _words(item: Item) -> frozenset[str]:
    text = f"{item.title} {item.i_want if item.kind == 'story' else item.description}".lower()
    return frozenset(word for word in _WORD.findall(text) if word not in _STOPWORDS)


def similarity(first: Item, second: Item) -> float:
    """How alike two items' words are (Jaccard: shared words over all words)."""
    a, b = _words(first), _words(second)
    return len(a & b) / len(a | b) if a and b else 0.0


def _duplicates(item: Item, siblings: Sequence[Item], elsewhere: Sequence[Elsewhere]) -> list[Finding]:
    found = [
        f"{other.key}"
        for other in siblings
        if other is not item and other.kind == item.kind and similarity(item, other) >= DUPLICATE_SIMILARITY
    ]
    found += [
        f"{other.item.key} in “{other.artifact_title}”"
        for other in elsewhere
        if other.item.kind == item.kind and similarity(item, other.item) >= DUPLICATE_SIMILARITY
    ]
    return [
        Finding(item.key, "duplicate", f"Looks like a duplicate of {place}: merge them or tell them apart.")
        for place in found
    ]


def _short(text: str, limit: int = 80) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
