"""An artifact's items (user stories and requirements): checked drafts, stable keys, and their Markdown.

A draft comes from a tool call or from the page's form. Both go through `clean_fields`, so the
model and the analyst meet the same rules; the tool reports problems as `items[2].title: ...`,
the form as one message per field.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ..models import ITEM_KINDS, ITEM_PRIORITIES, ITEM_STATUSES, ArtifactItem, ItemSource

MAX_ITEMS = 200
MAX_SOURCES = 20
MAX_CRITERIA = 30
MAX_CRITERION = 2000
MAX_ESTIMATE = 1000
EXCERPT_CHARS = 300
TEXT_LIMITS = {"title": 200, "as_a": 300, "i_want": 2000, "so_that": 2000, "description": 10_000}
# Fields that are one line: whitespace (newlines included) is folded into single spaces.
ONE_LINE = ("title", "as_a", "i_want", "so_that")
KEY = re.compile(r"[A-Z][A-Z0-9]{0,9}-[1-9][0-9]{0,5}")
PREFIXES = {"story": "US", "requirement": "REQ"}

KIND_LABELS = {"story": "User story", "requirement": "Requirement"}
PRIORITY_LABELS = {"must": "Must have", "should": "Should have", "could": "Could have", "wont": "Won't have"}
STATUS_LABELS = {"draft": "Draft", "review": "In review", "approved": "Approved"}
FIELD_LABELS = {
    "kind": "Type",
    "key": "Key",
    "title": "Title",
    "as_a": "As a",
    "i_want": "I want",
    "so_that": "So that",
    "description": "Requirement",
    "acceptance_criteria": "Acceptance criteria",
    "priority": "Priority",
    "estimate": "Estimate",
    "status": "Status",
    "requirement_key": "Requirement it implements",
    "sources": "Sources",
    "content": "Content",
}


@dataclass(frozen=True, slots=True)
class Citation:
    """What an item keeps of a passage it cites: enough to show it after its document is deleted."""

    chunk_id: int | None
    document_id: str | None
    document_name: str
    ordinal: int
    page: int | None = None
    sheet: str | None = None
    excerpt: str = ""


@dataclass(frozen=True, slots=True)
class ItemDraft:
    """An item's fields, checked; `key` None until `assign_keys` numbers it."""

    kind: str
    title: str
    key: str | None = None
    as_a: str = ""
    i_want: str = ""
    so_that: str = ""
    description: str = ""
    acceptance_criteria: tuple[str, ...] = ()
    priority: str | None = None
    estimate: int | None = None
    status: str = "draft"
    requirement_key: str | None = None
    citations: tuple[Citation, ...] = field(default=())


class ItemFieldsError(ValueError):
    """Some fields broke a rule; `errors` maps each field to the reason."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{FIELD_LABELS.get(name, name)}: {reason}" for name, reason in errors.items()))
        self.errors = errors


# Checking fields


def _text(value: Any, name: str, errors: dict[str, str]) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        errors[name] = "must be text."
        return ""
    text = " ".join(value.split()) if name in ONE_LINE else value.strip()
    if len(text) > TEXT_LIMITS[name]:
        errors[name] = f"keep it under {TEXT_LIMITS[name]:,} characters."
    return text


def _choice(
    value: Any, name: str, choices: Sequence[str], errors: dict[str, str], *, default: str | None
) -> str | None:
    if value is None or value == "":
        return default
    text = str(value).strip().lower().replace("'", "").replace("’", "")
    if text not in choices:
        errors[name] = f"choose one of {', '.join(choices)}."
        return default
    return text


def _estimate(value: Any, errors: dict[str, str]) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_ESTIMATE:
        errors["estimate"] = f"a whole number of points from 0 to {MAX_ESTIMATE}."
        return None
    return value


def _key(value: Any, name: str, errors: dict[str, str]) -> str | None:
    if value is None or value == "":
        return None
    key = str(value).strip().upper()
    if not KEY.fullmatch(key):
        errors[name] = "a key such as US-1 or REQ-4 (capitals, a dash, a number)."
        return None
    return key


def _criteria(value: Any, errors: dict[str, str]) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = split_criteria(value)
    if not isinstance(value, list):
        errors["acceptance_criteria"] = "a list of Given/When/Then scenarios."
        return ()
    found = [_criterion(entry) for entry in value]
    if any(entry is None for entry in found):
        errors["acceptance_criteria"] = "each scenario is text, or an object with given, when and then."
        return ()
    texts = tuple(entry for entry in found if entry)
    if len(texts) > MAX_CRITERIA or any(len(text) > MAX_CRITERION for text in texts):
        errors["acceptance_criteria"] = f"at most {MAX_CRITERIA} scenarios of {MAX_CRITERION:,} characters each."
    return texts


def _criterion(entry: Any) -> str | None:
    """One scenario as text; {"given", "when", "then"} becomes three lines."""
    if isinstance(entry, str):
        return "\n".join(line.strip() for line in entry.strip().splitlines() if line.strip())
    if isinstance(entry, dict) and all(isinstance(entry.get(part, ""), str) for part in ("given", "when", "then")):
        lines = [f"{part.capitalize()} {entry[part].strip()}" for part in ("given", "when", "then") if entry.get(part)]
        return "\n".join(lines)
    return None


def split_criteria(text: str) -> list[str]:
    """Scenarios typed in one box, separated by blank lines."""
    return [block for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n")) if block.strip()]


def clean_fields(raw: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Check an item's fields; returns the clean values and a reason per broken field."""
    errors: dict[str, str] = {}
    kind = _choice(raw.get("kind"), "kind", ITEM_KINDS, errors, default=None)
    if kind is None and "kind" not in errors:
        errors["kind"] = "choose story or requirement."
    values: dict[str, Any] = {name: _text(raw.get(name), name, errors) for name in TEXT_LIMITS}
    values.update(
        kind=kind or "story",
        key=_key(raw.get("key"), "key", errors),
        acceptance_criteria=_criteria(raw.get("acceptance_criteria"), errors),
        priority=_choice(raw.get("priority"), "priority", ITEM_PRIORITIES, errors, default=None),
        estimate=_estimate(raw.get("estimate"), errors),
        status=_choice(raw.get("status"), "status", ITEM_STATUSES, errors, default="draft"),
        requirement_key=_key(raw.get("requirement_key"), "requirement_key", errors),
    )
    errors.update(_required(values, kind))
    return values, errors


def _required(values: Mapping[str, Any], kind: str | None) -> dict[str, str]:
    """The fields an item cannot do without (the kind's own only once the kind is known)."""
    needed = {"story": ["title", "as_a", "i_want"], "requirement": ["title", "description"]}.get(kind or "", ["title"])
    return {name: "required." for name in needed if not values[name]}


def draft_from_form(
    form: Mapping[str, Any], *, kind: str, key: str | None, citations: Sequence[Citation] = ()
) -> ItemDraft:
    """An item typed in the page; ItemFieldsError names each field to fix."""
    values, errors = clean_fields({**_form_values(form), "kind": kind, "key": key})
    if errors:
        raise ItemFieldsError(errors)
    return ItemDraft(**values, citations=tuple(citations))


def _form_values(form: Mapping[str, Any]) -> dict[str, Any]:
    names = (*TEXT_LIMITS, "acceptance_criteria", "priority", "estimate", "status", "requirement_key")
    return {name: form.get(name) for name in names}


# Items and drafts


def draft_from_item(item: ArtifactItem) -> ItemDraft:
    """An item as it is, to carry into the next version."""
    return ItemDraft(
        kind=item.kind,
        title=item.title,
        key=item.key,
        as_a=item.as_a,
        i_want=item.i_want,
        so_that=item.so_that,
        description=item.description,
        acceptance_criteria=tuple(item.acceptance_criteria or ()),
        priority=item.priority,
        estimate=item.estimate,
        status=item.status,
        requirement_key=item.requirement_key,
        citations=tuple(citation_of(source) for source in item.sources),
    )


def citation_of(source: ItemSource) -> Citation:
    return Citation(
        source.chunk_id,
        source.document_id,
        source.document_name,
        source.ordinal,
        source.page,
        source.sheet,
        source.excerpt,
    )


def assign_keys(drafts: Sequence[ItemDraft], used: Iterable[str] = ()) -> list[ItemDraft]:
    """Number the drafts without a key after the highest number their prefix has ever had."""
    highest: dict[str, int] = {}
    for key in [*used, *(draft.key for draft in drafts if draft.key)]:
        prefix, _, number = key.rpartition("-")
        highest[prefix] = max(highest.get(prefix, 0), int(number))
    numbered = []
    for draft in drafts:
        if draft.key is None:
            prefix = PREFIXES[draft.kind]
            highest[prefix] = highest.get(prefix, 0) + 1
            draft = replace(draft, key=f"{prefix}-{highest[prefix]}")
        numbered.append(draft)
    return numbered


def build_item(draft: ItemDraft, position: int) -> ArtifactItem:
    """A new row for one version; the citations become its source rows."""
    values = {
        name: getattr(draft, name)
        for name in (
            "kind",
            "key",
            "title",
            "as_a",
            "i_want",
            "so_that",
            "description",
            "priority",
            "estimate",
            "status",
            "requirement_key",
        )
    }
    item = ArtifactItem(**values, position=position, acceptance_criteria=list(draft.acceptance_criteria))
    item.sources = [
        ItemSource(
            position=index,
            chunk_id=c.chunk_id,
            document_id=c.document_id,
            document_name=c.document_name,
            ordinal=c.ordinal,
            page=c.page,
            sheet=c.sheet,
            excerpt=c.excerpt,
        )
        for index, c in enumerate(draft.citations)
    ]
    return item


# Markdown


def place(citation: Citation | ItemSource) -> str:
    """Where a passage is: "notes.pdf, p. 2, §5" or "budget.xlsx, sheet Costs, §3"."""
    parts = [citation.document_name]
    if citation.page:
        parts.append(f"p. {citation.page}")
    if citation.sheet:
        parts.append(f"sheet {citation.sheet}")
    parts.append(f"§{citation.ordinal}")
    return ", ".join(parts)


def story_sentence(item: ArtifactItem | ItemDraft) -> str:
    """ "As a …, I want …, so that …" (without the last part when it is missing)."""
    sentence = f"As a {item.as_a}, I want {item.i_want}"
    return f"{sentence}, so that {item.so_that}" if item.so_that else sentence


def items_markdown(prose: str, items: Sequence[ArtifactItem]) -> str:
    """The artifact's Markdown drawn from its items, after its prose."""
    parts = [prose.strip()] if prose.strip() else []
    parts += [_item_markdown(item) for item in items]
    return "\n\n".join(parts) + "\n"


def _item_markdown(item: ArtifactItem) -> str:
    lines = [f"## {item.key} · {_inline(item.title)}", ""]
    if item.kind == "story":
        lines.append(_inline(story_sentence(item)) + ".")
    else:
        lines.append(item.description)
    lines += ["", " · ".join(_facts(item))]
    if item.acceptance_criteria:
        lines += ["", "**Acceptance criteria**", ""]
        lines += [
            f"{number}. " + "  \n   ".join(_inline(line) for line in criterion.splitlines())
            for number, criterion in enumerate(item.acceptance_criteria, start=1)
        ]
    if item.sources:
        cited = "; ".join(place(source) + (" (source removed)" if source.removed else "") for source in item.sources)
        lines += ["", f"**Sources:** {_inline(cited)}"]
    return "\n".join(lines)


def _facts(item: ArtifactItem) -> list[str]:
    facts = [f"Priority: {PRIORITY_LABELS[item.priority]}"] if item.priority else []
    if item.estimate is not None:
        facts.append(f"Estimate: {item.estimate}")
    facts.append(f"Status: {STATUS_LABELS[item.status]}")
    if item.requirement_key:
        facts.append(f"Implements {item.requirement_key}")
    return facts


_MARKDOWN_SYNTAX = re.compile(r"([\\`*_\[\]<>#|])")


def _inline(text: str) -> str:
    """One line of text that Markdown shows as typed (no headings, emphasis or links of its own)."""
    return _MARKDOWN_SYNTAX.sub(r"\\\1", text)


# Items from a tool call


@dataclass(frozen=True, slots=True)
class ToolItem:
    """One item of a save_artifact call: where it was in the list, its fields, the passage ids it cites."""

    index: int
    draft: ItemDraft
    passage_ids: list[int]


@dataclass(frozen=True, slots=True)
class ToolItems:
    """The items of a save_artifact call that could be read, and every problem found."""

    items: list[ToolItem]
    problems: list[str]


def drafts_from_tool(raw: Any) -> ToolItems:
    """Read the `items` argument; nothing is resolved or saved here."""
    if not isinstance(raw, list):
        return ToolItems([], ["items: must be a list of objects."])
    if len(raw) > MAX_ITEMS:
        return ToolItems([], [f"items: at most {MAX_ITEMS} items in one artifact."])
    items, problems = [], []
    for index, entry in enumerate(raw):
        draft, ids, found = _tool_item(entry)
        problems += [f"items[{index}].{problem}" for problem in found]
        if draft is not None:
            items.append(ToolItem(index, draft, ids))
    problems += _duplicate_keys([item.draft for item in items])
    return ToolItems(items, problems)


def _tool_item(entry: Any) -> tuple[ItemDraft | None, list[int], list[str]]:
    if not isinstance(entry, dict):
        return None, [], ["must be an object with kind, title and the other fields."]
    values, errors = clean_fields(entry)
    ids, source_problem = _passage_ids(entry.get("sources"))
    problems = [f"{name}: {reason}" for name, reason in errors.items()]
    if source_problem:
        problems.append(f"sources: {source_problem}")
    if problems:
        return None, [], problems
    return ItemDraft(**values), ids, []


def _passage_ids(raw: Any) -> tuple[list[int], str | None]:
    if raw is None:
        return [], None
    if not isinstance(raw, list) or len(raw) > MAX_SOURCES:
        return [], f"a list of at most {MAX_SOURCES} passage ids from search_documents."
    ids = []
    for value in raw:
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value.strip())
        if isinstance(value, bool) or not isinstance(value, int):
            return [], f"{value!r} is not a passage id (use the passage_id numbers search_documents gives)."
        ids.append(value)
    return list(dict.fromkeys(ids)), None


def _duplicate_keys(drafts: Sequence[ItemDraft]) -> list[str]:
    seen: set[str] = set()
    repeated = []
    for draft in drafts:
        if draft.key in seen and draft.key not in repeated:
            repeated.append(draft.key)
        if draft.key:
            seen.add(draft.key)
    return [f"items: the key {key} is used more than once; each item needs its own." for key in repeated]
