"""User stories as the CSV files that Jira's and Azure DevOps' importers take.

Jira (CSV importer): a header row with Summary; one row per issue; multi-line values quoted;
several Labels columns for several labels (labels have no spaces). Requirements that stories
implement come first as epics, since the importer links children to parents listed above
them: "Epic Name" and "Epic Link" for Jira Server and Data Center, "Issue Id" and "Parent" for
Jira Cloud. Priorities are Jira's defaults (Highest … Lowest).

Azure DevOps (Boards, import work items from CSV): a header row of field names; "ID" empty so
that every row is a new work item; "Work Item Type" and "Title" required; Description and
Acceptance Criteria are HTML fields; Priority is 1 (highest) to 4; Tags are separated by ";".
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from html import escape

from ..models import ArtifactItem
from .backlog import Backlog, slug, spreadsheet_safe
from .items import place, story_sentence

JIRA_PRIORITIES = {"must": "Highest", "should": "High", "could": "Medium", "wont": "Lowest"}
AZURE_PRIORITIES = {"must": "1", "should": "2", "could": "3", "wont": "4"}
JIRA_COLUMNS = [
    "Issue Id",
    "Issue Type",
    "Summary",
    "Description",
    "Priority",
    "Story Points",
    "Epic Name",
    "Epic Link",
    "Parent",
]
AZURE_COLUMNS = [
    "ID",
    "Work Item Type",
    "Title",
    "Description",
    "Acceptance Criteria",
    "Priority",
    "Story Points",
    "Tags",
]


def _csv(header: Sequence[str], rows: Iterable[Sequence[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows([spreadsheet_safe(cell) for cell in row] for row in rows)
    return buffer.getvalue().encode("utf-8")


def _estimate(item: ArtifactItem) -> str:
    return "" if item.estimate is None else str(item.estimate)


def _sources_line(item: ArtifactItem) -> str:
    cited = [place(source) + (" (source removed)" if source.removed else "") for source in item.sources]
    return "Sources: " + "; ".join(cited) if cited else ""


# Jira


def jira_csv(found: Backlog) -> bytes:
    """Epics (the requirements stories implement), then the stories linked to them."""
    epics = [requirement for requirement in found.requirements if found.stories_of(requirement)]
    ids = {id(item): str(number) for number, item in enumerate([*epics, *found.stories], start=1)}
    labels = {id(item): _jira_labels(item) for item in [*epics, *found.stories]}
    width = max(len(value) for value in labels.values())
    rows = [_jira_epic(epic, ids, labels, width) for epic in epics]
    rows += [_jira_story(story, found.requirement_of(story), ids, labels, width) for story in found.stories]
    return _csv(JIRA_COLUMNS + ["Labels"] * width, rows)


def _jira_labels(item: ArtifactItem) -> list[str]:
    return [item.key, slug(item.artifact.title)]


def _epic_name(requirement: ArtifactItem) -> str:
    return f"{requirement.key} {requirement.title}"


def _jira_epic(epic: ArtifactItem, ids: dict[int, str], labels: dict[int, list[str]], width: int) -> list[str]:
    description = "\n\n".join(part for part in (epic.description, _jira_criteria(epic), _sources_line(epic)) if part)
    row = [
        ids[id(epic)],
        "Epic",
        epic.title,
        description,
        JIRA_PRIORITIES.get(epic.priority or "", ""),
        _estimate(epic),
        _epic_name(epic),
        "",
        "",
    ]
    return row + _padded(labels[id(epic)], width)


def _jira_story(
    story: ArtifactItem, epic: ArtifactItem | None, ids: dict[int, str], labels: dict[int, list[str]], width: int
) -> list[str]:
    description = "\n\n".join(
        part for part in (story_sentence(story) + ".", _jira_criteria(story), _sources_line(story)) if part
    )
    row = [
        ids[id(story)],
        "Story",
        story.title,
        description,
        JIRA_PRIORITIES.get(story.priority or "", ""),
        _estimate(story),
        "",
        _epic_name(epic) if epic else "",
        ids[id(epic)] if epic else "",
    ]
    return row + _padded(labels[id(story)], width)


def _jira_criteria(item: ArtifactItem) -> str:
    """The criteria as a numbered list in Jira's wiki markup (\\\\ breaks a line inside an entry)."""
    if not item.acceptance_criteria:
        return ""
    entries = ["# " + " \\\\ ".join(criterion.splitlines()) for criterion in item.acceptance_criteria]
    return "*Acceptance criteria*\n" + "\n".join(entries)


def _padded(values: list[str], width: int) -> list[str]:
    return values + [""] * (width - len(values))


# Azure DevOps


def azure_csv(found: Backlog) -> bytes:
    """One "User Story" work item per story (the Agile process's type)."""
    return _csv(AZURE_COLUMNS, [_azure_story(story, found.requirement_of(story)) for story in found.stories])


def _azure_story(story: ArtifactItem, requirement: ArtifactItem | None) -> list[str]:
    parts = [f"<p>{escape(story_sentence(story))}.</p>"]
    if requirement is not None:
        parts.append(f"<p>Implements {escape(requirement.key)}: {escape(requirement.title)}</p>")
    if story.sources:
        parts.append(f"<p>{escape(_sources_line(story))}</p>")
    criteria = "".join(
        f"<li>{'<br>'.join(escape(line) for line in criterion.splitlines())}</li>"
        for criterion in story.acceptance_criteria
    )
    tags = [story.key, *([requirement.key] if requirement else []), story.artifact.title.replace(";", ",")]
    return [
        "",
        "User Story",
        story.title,
        "".join(parts),
        f"<ol>{criteria}</ol>" if criteria else "",
        AZURE_PRIORITIES.get(story.priority or "", ""),
        _estimate(story),
        "; ".join(tags),
    ]
