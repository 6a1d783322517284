"""The assistant's tools: their specs for the model, and the handlers that run them.

A handler never takes a user id from the model: it comes from the run's context.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import sqlalchemy as sa

from ..artifacts import passages, traceability
from ..artifacts import service as artifacts
from ..artifacts.items import ItemDraft, drafts_from_tool, place
from ..documents.search import search_chunks
from ..extensions import db
from ..llm.base import ToolCall, ToolResult, ToolSpec
from ..models import (
    ARTIFACT_TYPES,
    ITEM_KINDS,
    ITEM_PRIORITIES,
    ITEM_STATUSES,
    TASK_PRIORITIES,
    Artifact,
    ArtifactItem,
    Document,
    Thread,
)
from ..tasks import service as tasks

SEARCH_LIMIT = 5
LIST_LIMIT = 50
PASSAGE_CHARS = 1200
PROSE_CHARS = 20_000


@dataclass(frozen=True, slots=True)
class ToolContext:
    user_id: str
    thread: Thread
    message_id: str


@dataclass(frozen=True, slots=True)
class ToolOutcome:
    result: ToolResult
    activity: str  # what the chat pane shows, e.g. 'Searched documents for "budget"'


class ToolInputError(ValueError):
    """The model's arguments are unusable; the message (and each problem) goes back to the model."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


_STRING = {"type": "string"}
SEARCH_DOCUMENTS = ToolSpec(
    "search_documents",
    "Full-text search over the documents of this conversation (its project's or its own). "
    "Returns the best passages with document name, page or sheet row, and a link to cite.",
    {
        "type": "object",
        "properties": {"query": {**_STRING, "description": "Words to search for."}},
        "required": ["query"],
    },
)
_ITEM = {
    "type": "object",
    "properties": {
        "key": {
            **_STRING,
            "description": "Stable key such as US-1 or REQ-4; keep an item's key when revising. "
            "Leave out for a new item: one is assigned.",
        },
        "kind": {"type": "string", "enum": list(ITEM_KINDS)},
        "title": _STRING,
        "as_a": {**_STRING, "description": "Story: the role."},
        "i_want": {**_STRING, "description": "Story: the capability."},
        "so_that": {**_STRING, "description": "Story: the benefit."},
        "description": {**_STRING, "description": 'Requirement: the statement ("The system shall ...").'},
        "acceptance_criteria": {"type": "array", "items": {**_STRING, "description": "Given ... When ... Then ..."}},
        "priority": {"type": "string", "enum": list(ITEM_PRIORITIES), "description": "MoSCoW."},
        "estimate": {"type": "integer", "description": "Story points."},
        "status": {"type": "string", "enum": list(ITEM_STATUSES)},
        "requirement_key": {**_STRING, "description": "Story: the key of the requirement it implements."},
        "sources": {
            "type": "array",
            "items": {"type": "integer"},
            "description": "passage_id of each passage from search_documents this item comes from.",
        },
    },
    "required": ["kind", "title"],
}
SAVE_ARTIFACT = ToolSpec(
    "save_artifact",
    "Save a deliverable (user stories, acceptance criteria, requirements document, BRD). Give user stories "
    "and requirements as `items`, each citing its source passages; `content_markdown` is then the prose "
    "before them (it may be empty). A document without items is all `content_markdown`. "
    "Saving again with the same title keeps the earlier version and adds a new one.",
    {
        "type": "object",
        "properties": {
            "artifact_type": {"type": "string", "enum": list(ARTIFACT_TYPES)},
            "title": _STRING,
            "content_markdown": _STRING,
            "items": {"type": "array", "items": _ITEM},
        },
        "required": ["artifact_type", "title"],
    },
)
READ_ARTIFACT = ToolSpec(
    "read_artifact",
    "Read the current version of an artifact saved in this chat (the user may have edited it by hand), "
    "with its items and the requirement checks' findings. Without a title, list this chat's artifacts.",
    {"type": "object", "properties": {"title": _STRING}},
)
_TASK_FIELDS = {
    "title": _STRING,
    "description": _STRING,
    "due_date": {**_STRING, "description": "YYYY-MM-DD"},
    "priority": {"type": "string", "enum": list(TASK_PRIORITIES)},
}
CREATE_TASK = ToolSpec(
    "create_task",
    "Add a task to the user's to-do list.",
    {"type": "object", "properties": _TASK_FIELDS, "required": ["title"]},
)
LIST_TASKS = ToolSpec(
    "list_tasks",
    "List the user's tasks, optionally filtered by status or text.",
    {
        "type": "object",
        "properties": {"status": {"type": "string", "enum": ["all", "pending", "completed"]}, "text": _STRING},
    },
)
UPDATE_TASK = ToolSpec(
    "update_task",
    "Change a task's title, description, due date or priority; or complete/reopen it.",
    {
        "type": "object",
        "properties": {"task_id": _STRING, **_TASK_FIELDS, "completed": {"type": "boolean"}},
        "required": ["task_id"],
    },
)
_TASK_ID = {"type": "object", "properties": {"task_id": _STRING}, "required": ["task_id"]}
COMPLETE_TASK = ToolSpec("complete_task", "Mark one of the user's tasks as done.", _TASK_ID)
DELETE_TASK = ToolSpec(
    "delete_task", "Delete one of the user's tasks (they can undo it from the Tasks page for a minute).", _TASK_ID
)
TASK_TOOLS = (CREATE_TASK, LIST_TASKS, UPDATE_TASK, COMPLETE_TASK, DELETE_TASK)


def has_documents(thread: Thread) -> bool:
    """Whether the thread has a document to search: files still being read, or refused, have no passages yet."""
    scope = Document.project_id == thread.project_id if thread.project_id else Document.thread_id == thread.id
    return db.session.scalar(
        sa.select(sa.exists().where(scope, Document.user_id == thread.user_id, Document.status == "stored"))
    )


def tools_for(thread: Thread) -> list[ToolSpec]:
    """The tools a reply in this thread may use."""
    specs = [SEARCH_DOCUMENTS] if has_documents(thread) else []
    if thread.thread_type == "ba_assistant":
        specs += [SAVE_ARTIFACT, READ_ARTIFACT, *TASK_TOOLS]
    return specs


def _text(arguments: dict[str, Any], key: str, *, required: bool = False) -> str:
    value = arguments.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise ToolInputError(f"'{key}' must be a non-empty string.")
    return value


def _search(arguments: dict[str, Any], ctx: ToolContext) -> tuple[dict[str, Any], str]:
    query = _text(arguments, "query", required=True)
    scope = {"project_id": ctx.thread.project_id} if ctx.thread.project_id else {"thread_id": ctx.thread.id}
    hits = search_chunks(user_id=ctx.user_id, query=query, limit=SEARCH_LIMIT, **scope)
    results = [
        {
            "passage_id": hit.chunk.id,
            "document": hit.document.filename,
            "document_id": hit.document.id,
            "chunk": hit.chunk.ordinal,
            "page": hit.chunk.page,
            "sheet": hit.chunk.sheet,
            "snippet": hit.snippet,
            "text": hit.chunk.text[:PASSAGE_CHARS],
            "url": f"/documents/{hit.document.id}#chunk-{hit.chunk.ordinal}",
        }
        for hit in hits
    ]
    found = f"{len(results)} passage{'s' if len(results) != 1 else ''}"
    return {"query": query, "results": results}, f'Searched documents for "{query}" ({found})'


def _save_artifact(arguments: dict[str, Any], ctx: ToolContext) -> tuple[dict[str, Any], str]:
    content = arguments.get("content_markdown")
    if content is not None and not isinstance(content, str):
        raise ToolInputError("'content_markdown' must be a string.")
    drafts = _item_drafts(arguments["items"], ctx) if "items" in arguments else None
    try:
        with db.session.begin_nested():  # a failure leaves nothing of this save behind
            artifact = artifacts.save_artifact(
                thread=ctx.thread,
                message_id=ctx.message_id,
                artifact_type=_text(arguments, "artifact_type", required=True),
                title=_text(arguments, "title", required=True),
                content_markdown=content or "",
                items=drafts,
            )
    except artifacts.ArtifactError as error:
        raise ToolInputError(str(error)) from error
    payload = {
        "artifact_id": artifact.id,
        "title": artifact.title,
        "version": artifact.version,
        "items": [item.key for item in artifact.items],
        "findings": _findings(artifact),
    }
    return payload, f'Saved artifact "{artifact.title}" (version {artifact.version})'


def _item_drafts(raw: Any, ctx: ToolContext) -> list[ItemDraft]:
    """The items of a save, each with the passages it cites; every problem is reported at once."""
    read = drafts_from_tool(raw)
    cited = passages.citations(ctx.thread, (pid for item in read.items for pid in item.passage_ids))
    problems = read.problems + [
        f"items[{item.index}].sources: passage {pid} is not one of this chat's passages "
        "(cite the passage_id values search_documents returned)."
        for item in read.items
        for pid in item.passage_ids
        if pid not in cited
    ]
    if problems:
        raise ToolInputError(
            "Nothing was saved. Fix every problem listed and save again.", sorted(problems, key=_order)
        )
    return [replace(item.draft, citations=tuple(cited[pid] for pid in item.passage_ids)) for item in read.items]


def _order(problem: str) -> tuple[int, str]:
    """Problems in the order of the items they are about."""
    index = problem[6 : problem.index("]")] if problem.startswith("items[") else ""
    return (int(index) if index.isdigit() else -1, problem)


def _findings(artifact: Artifact) -> dict[str, list[str]]:
    return {key: [finding.message for finding in found] for key, found in traceability.findings(artifact).items()}


def _read_artifact(arguments: dict[str, Any], ctx: ToolContext) -> tuple[dict[str, Any], str]:
    title = _text(arguments, "title").strip()
    current = artifacts.thread_artifacts(ctx.thread.id)
    if not title:
        listed = [
            {"title": a.title, "artifact_type": a.artifact_type, "version": a.version, "items": len(a.items)}
            for a in current
        ]
        return {"artifacts": listed}, f"Listed artifacts ({len(listed)})"
    artifact = next((a for a in current if a.title.casefold() == " ".join(title.split()).casefold()), None)
    if artifact is None:
        names = ", ".join(f'"{a.title}"' for a in current) or "none"
        raise ToolInputError(f"No artifact titled {title!r} in this chat. Its artifacts: {names}.")
    return artifact_for_model(artifact), f'Read artifact "{artifact.title}" (version {artifact.version})'


def artifact_for_model(artifact: Artifact) -> dict[str, Any]:
    """An artifact version as the model reads it: its prose, its items with their sources, the findings."""
    return {
        "title": artifact.title,
        "artifact_type": artifact.artifact_type,
        "version": artifact.version,
        "edited_by_user": artifact.message_id is None,
        "content_markdown": artifacts.prose(artifact)[:PROSE_CHARS],
        "items": [_item_for_model(item) for item in artifact.items],
        "findings": _findings(artifact),
    }


def _item_for_model(item: ArtifactItem) -> dict[str, Any]:
    fields = {
        name: getattr(item, name)
        for name in (
            "key",
            "kind",
            "title",
            "as_a",
            "i_want",
            "so_that",
            "description",
            "acceptance_criteria",
            "priority",
            "estimate",
            "status",
            "requirement_key",
        )
    }
    fields["sources"] = [
        {"passage_id": source.chunk_id, "place": place(source), "removed": source.removed} for source in item.sources
    ]
    return {name: value for name, value in fields.items() if value not in ("", None, [])}


def _task_summary(task: Any) -> dict[str, Any]:
    return {
        "task_id": task.id,
        "title": task.title,
        "completed": task.completed,
        "due_date": task.due_date.isoformat() if task.due_date else None,
        "priority": task.priority,
    }


def _task_fields(arguments: dict[str, Any]) -> dict[str, Any]:
    return {key: arguments[key] for key in ("title", "description", "due_date", "priority") if key in arguments}


def _create_task(arguments: dict[str, Any], ctx: ToolContext) -> tuple[dict[str, Any], str]:
    task = tasks.create_task(
        ctx.user_id, project_id=ctx.thread.project_id, thread_id=ctx.thread.id, **_task_fields(arguments)
    )
    return _task_summary(task), f'Added task "{task.title}"'


def _list_tasks(arguments: dict[str, Any], ctx: ToolContext) -> tuple[dict[str, Any], str]:
    query = tasks.TaskQuery(status=arguments.get("status") or "all", text=arguments.get("text") or "")
    found = tasks.list_tasks(ctx.user_id, query, per_page=LIST_LIMIT).tasks
    return {"tasks": [_task_summary(task) for task in found]}, f"Listed tasks ({len(found)})"


def _complete_task(arguments: dict[str, Any], ctx: ToolContext) -> tuple[dict[str, Any], str]:
    task = tasks.complete_task(ctx.user_id, _text(arguments, "task_id", required=True))
    return _task_summary(task), f'Completed task "{task.title}"'


def _delete_task(arguments: dict[str, Any], ctx: ToolContext) -> tuple[dict[str, Any], str]:
    task = tasks.delete_task(ctx.user_id, _text(arguments, "task_id", required=True))
    payload = {
        **_task_summary(task),
        "deleted": True,
        "undo": "The user can undo this from the Tasks page for a minute.",
    }
    return payload, f'Deleted task "{task.title}"'


def _update_task(arguments: dict[str, Any], ctx: ToolContext) -> tuple[dict[str, Any], str]:
    task_id = _text(arguments, "task_id", required=True)
    fields = _task_fields(arguments)
    task = tasks.update_task(ctx.user_id, task_id, **fields) if fields else tasks.get_task(ctx.user_id, task_id)
    if "completed" in arguments:
        change = tasks.complete_task if arguments["completed"] else tasks.reopen_task
        task = change(ctx.user_id, task_id)
    return _task_summary(task), f'Updated task "{task.title}"'


_HANDLERS: dict[str, Callable[[dict[str, Any], ToolContext], tuple[dict[str, Any], str]]] = {
    "search_documents": _search,
    "save_artifact": _save_artifact,
    "create_task": _create_task,
    "list_tasks": _list_tasks,
    "update_task": _update_task,
    "complete_task": _complete_task,
    "delete_task": _delete_task,
    "read_artifact": _read_artifact,
}


def run_tool(call: ToolCall, ctx: ToolContext) -> ToolOutcome:
    """Run one tool call; a failure becomes an error result the model can read."""
    handler = _HANDLERS.get(call.name)
    if handler is None:
        return _failure(call, f"Unknown tool {call.name!r}.")
    try:
        payload, activity = handler(call.arguments, ctx)
    except ToolInputError as error:
        return _failure(call, str(error), error.problems)
    except tasks.TaskValidationError as error:
        return _failure(call, "; ".join(f"{field}: {reason}" for field, reason in error.errors.items()))
    except tasks.TaskNotFound:
        return _failure(call, "No task with that id.")
    content = json.dumps(payload, ensure_ascii=False, default=str)
    return ToolOutcome(ToolResult(call.id, call.name, content), activity)


def _failure(call: ToolCall, reason: str, problems: list[str] | None = None) -> ToolOutcome:
    body: dict[str, Any] = {"error": reason, "problems": problems} if problems else {"error": reason}
    result = ToolResult(call.id, call.name, json.dumps(body, ensure_ascii=False), is_error=True)
    found = f" ({len(problems)} problem{'s' if len(problems) != 1 else ''})" if problems else ""
    return ToolOutcome(result, f"{call.name} failed: {reason}{found}")
