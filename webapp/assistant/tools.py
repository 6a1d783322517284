"""The assistant's tools: their specs for the model, and the handlers that run them.

A handler never takes a user id from the model: it comes from the run's context.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from ..artifacts import service as artifacts
from ..documents.search import search_chunks
from ..extensions import db
from ..llm.base import ToolCall, ToolResult, ToolSpec
from ..models import ARTIFACT_TYPES, TASK_PRIORITIES, Document, Thread
from ..tasks import service as tasks

SEARCH_LIMIT = 5
LIST_LIMIT = 50
PASSAGE_CHARS = 1200


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
    """The model's arguments are unusable; the message goes back to the model."""


_STRING = {"type": "string"}
SEARCH_DOCUMENTS = ToolSpec(
    "search_documents",
    "Full-text search over the documents of this conversation (its project's or its own). "
    "Returns the best passages with document name, page or sheet row, and a link to cite.",
    {"type": "object", "properties": {"query": {**_STRING, "description": "Words to search for."}},
     "required": ["query"]},
)
SAVE_ARTIFACT = ToolSpec(
    "save_artifact",
    "Save a deliverable (user stories, acceptance criteria, requirements document, BRD) as Markdown. "
    "Saving again with the same title keeps the earlier version and adds a new one.",
    {"type": "object", "properties": {
        "artifact_type": {"type": "string", "enum": list(ARTIFACT_TYPES)},
        "title": _STRING, "content_markdown": _STRING},
     "required": ["artifact_type", "title", "content_markdown"]},
)
_TASK_FIELDS = {
    "title": _STRING, "description": _STRING,
    "due_date": {**_STRING, "description": "YYYY-MM-DD"},
    "priority": {"type": "string", "enum": list(TASK_PRIORITIES)},
}
CREATE_TASK = ToolSpec(
    "create_task", "Add a task to the user's to-do list.",
    {"type": "object", "properties": _TASK_FIELDS, "required": ["title"]},
)
LIST_TASKS = ToolSpec(
    "list_tasks", "List the user's tasks, optionally filtered by status or text.",
    {"type": "object", "properties": {
        "status": {"type": "string", "enum": ["all", "pending", "completed"]}, "text": _STRING}},
)
UPDATE_TASK = ToolSpec(
    "update_task", "Change a task's title, description, due date or priority; or complete/reopen it.",
    {"type": "object", "properties": {"task_id": _STRING, **_TASK_FIELDS, "completed": {"type": "boolean"}},
     "required": ["task_id"]},
)
TASK_TOOLS = (CREATE_TASK, LIST_TASKS, UPDATE_TASK)


def has_documents(thread: Thread) -> bool:
    scope = Document.project_id == thread.project_id if thread.project_id else Document.thread_id == thread.id
    return db.session.scalar(sa.select(sa.exists().where(scope, Document.user_id == thread.user_id)))


def tools_for(thread: Thread) -> list[ToolSpec]:
    """The tools a reply in this thread may use."""
    specs = [SEARCH_DOCUMENTS] if has_documents(thread) else []
    if thread.thread_type == "ba_assistant":
        specs += [SAVE_ARTIFACT, *TASK_TOOLS]
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
        {"document": hit.document.filename, "document_id": hit.document.id, "chunk": hit.chunk.ordinal,
         "page": hit.chunk.page, "sheet": hit.chunk.sheet, "snippet": hit.snippet,
         "text": hit.chunk.text[:PASSAGE_CHARS], "url": f"/documents/{hit.document.id}#chunk-{hit.chunk.ordinal}"}
        for hit in hits
    ]
    found = f"{len(results)} passage{'s' if len(results) != 1 else ''}"
    return {"query": query, "results": results}, f'Searched documents for "{query}" ({found})'


def _save_artifact(arguments: dict[str, Any], ctx: ToolContext) -> tuple[dict[str, Any], str]:
    try:
        artifact = artifacts.save_artifact(
            thread=ctx.thread, message_id=ctx.message_id,
            artifact_type=_text(arguments, "artifact_type", required=True),
            title=_text(arguments, "title", required=True),
            content_markdown=_text(arguments, "content_markdown", required=True),
        )
    except artifacts.ArtifactError as error:
        raise ToolInputError(str(error)) from error
    return ({"artifact_id": artifact.id, "title": artifact.title, "version": artifact.version},
            f'Saved artifact "{artifact.title}" (version {artifact.version})')


def _task_summary(task: Any) -> dict[str, Any]:
    return {"task_id": task.id, "title": task.title, "completed": task.completed,
            "due_date": task.due_date.isoformat() if task.due_date else None, "priority": task.priority}


def _task_fields(arguments: dict[str, Any]) -> dict[str, Any]:
    return {key: arguments[key] for key in ("title", "description", "due_date", "priority") if key in arguments}


def _create_task(arguments: dict[str, Any], ctx: ToolContext) -> tuple[dict[str, Any], str]:
    task = tasks.create_task(ctx.user_id, project_id=ctx.thread.project_id, thread_id=ctx.thread.id,
                             **_task_fields(arguments))
    return _task_summary(task), f'Added task "{task.title}"'


def _list_tasks(arguments: dict[str, Any], ctx: ToolContext) -> tuple[dict[str, Any], str]:
    query = tasks.TaskQuery(status=arguments.get("status") or "all", text=arguments.get("text") or "")
    found = tasks.list_tasks(ctx.user_id, query, per_page=LIST_LIMIT).tasks
    return {"tasks": [_task_summary(task) for task in found]}, f"Listed tasks ({len(found)})"


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
}


def run_tool(call: ToolCall, ctx: ToolContext) -> ToolOutcome:
    """Run one tool call; a failure becomes an error result the model can read."""
    handler = _HANDLERS.get(call.name)
    if handler is None:
        return _failure(call, f"Unknown tool {call.name!r}.")
    try:
        payload, activity = handler(call.arguments, ctx)
    except ToolInputError as error:
        return _failure(call, str(error))
    except tasks.TaskValidationError as error:
        return _failure(call, "; ".join(f"{field}: {reason}" for field, reason in error.errors.items()))
    except tasks.TaskNotFound:
        return _failure(call, "No task with that id.")
    content = json.dumps(payload, ensure_ascii=False, default=str)
    return ToolOutcome(ToolResult(call.id, call.name, content), activity)


def _failure(call: ToolCall, reason: str) -> ToolOutcome:
    result = ToolResult(call.id, call.name, json.dumps({"error": reason}), is_error=True)
    return ToolOutcome(result, f"{call.name} failed: {reason}")
