"""Task rules, shared by the Tasks pages and the assistant's tools; independent of Flask.

Every function takes the owner's `user_id` explicitly: another user's task is "not found".
Raw strings (from a form or a tool call) are accepted for due dates and priorities and
validated here, so that every caller follows the same rules.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Final, Literal

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager

from ..extensions import db
from ..models import TASK_PRIORITIES, Project, Task, Thread, utcnow

MAX_TITLE = 500
MAX_DESCRIPTION = 5000
MAX_SEARCH = 200
STATUSES = ("all", "pending", "completed")
SORTS = ("created", "due", "priority")
PER_PAGE = 50
# How long after a deletion "Undo" still works.
UNDO_WINDOW = timedelta(seconds=60)
# Deleted rows stay this long so that another tab can be told the task was deleted.
PURGE_AFTER = timedelta(days=1)


class _Keep(enum.Enum):
    KEEP = "keep"


KEEP: Final = _Keep.KEEP
"""Default of `update_task` arguments: leave this field as it is."""

Keep = Literal[_Keep.KEEP]


class TaskError(Exception):
    """Base class of the task rules' errors."""


class TaskValidationError(TaskError):
    """Some input broke a rule; `errors` maps each field name to the reason."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{name}: {reason}" for name, reason in errors.items()))
        self.errors = errors


class TaskNotFound(TaskError):
    """This user has no such task."""

    message = "That task does not exist."

    def __init__(self, task_id: str) -> None:
        super().__init__(self.message)
        self.task_id = task_id


class TaskDeleted(TaskNotFound):
    """The task was deleted (perhaps in another tab); it may still be restorable."""

    message = "This task was deleted."


class ProjectNotFound(TaskError):
    """This user has no such project."""

    def __init__(self, project_id: str) -> None:
        super().__init__("That project does not exist.")
        self.project_id = project_id


class UndoExpired(TaskError):
    """The task was deleted too long ago to be restored."""

    def __init__(self, task_id: str) -> None:
        super().__init__("It is too late to undo that deletion.")
        self.task_id = task_id


# Parsing: one function per field, each raising TaskValidationError naming its field.


def parse_title(raw: str) -> str:
    title = (raw or "").strip()
    if not title:
        raise TaskValidationError({"title": "Enter a title."})
    if len(title) > MAX_TITLE:
        raise TaskValidationError({"title": f"Keep the title under {MAX_TITLE} characters."})
    return title


def parse_description(raw: str | None) -> str:
    description = (raw or "").strip()
    if len(description) > MAX_DESCRIPTION:
        raise TaskValidationError({"description": f"Keep the description under {MAX_DESCRIPTION:,} characters."})
    return description


def parse_due_date(raw: str | date | None) -> date | None:
    """Turn "YYYY-MM-DD" (or a date, or nothing) into a due date."""
    if isinstance(raw, datetime):
        return raw.date()
    if raw is None or isinstance(raw, date):
        return raw
    text = raw.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise TaskValidationError({"due_date": "Enter a date as YYYY-MM-DD."}) from None


def parse_priority(raw: str) -> str:
    priority = (raw or "").strip().lower()
    if priority not in TASK_PRIORITIES:
        raise TaskValidationError({"priority": "Choose low, medium or high."})
    return priority


def _owned_id(user_id: str, model: type[Project] | type[Thread], raw: str | None, reason: str, name: str) -> str | None:
    if not raw:
        return None
    found = db.session.scalar(sa.select(model.id).where(model.id == raw, model.user_id == user_id))
    if found is None:
        raise TaskValidationError({name: reason})
    return found


def _parse_project(user_id: str, raw: str | None) -> str | None:
    return _owned_id(user_id, Project, raw, "Choose one of your projects.", "project_id")


def _parse_thread(user_id: str, raw: str | None) -> str | None:
    return _owned_id(user_id, Thread, raw, "Choose one of your chats.", "thread_id")


def _validated(user_id: str, raw: Mapping[str, Any]) -> dict[str, Any]:
    """Parse every given field, collecting all the reasons before failing."""
    parsers: dict[str, Callable[[Any], Any]] = {
        "title": parse_title,
        "description": parse_description,
        "due_date": parse_due_date,
        "priority": parse_priority,
        "project_id": lambda value: _parse_project(user_id, value),
        "thread_id": lambda value: _parse_thread(user_id, value),
    }
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, value in raw.items():
        if value is KEEP:
            continue
        try:
            values[name] = parsers[name](value)
        except TaskValidationError as error:
            errors.update(error.errors)
    if errors:
        raise TaskValidationError(errors)
    return values


# Reading

_URL_DEFAULTS = {"status": "all", "q": "", "sort": "created"}


@dataclass(frozen=True)
class TaskQuery:
    """Which tasks to list, and in what order."""

    status: str = "all"
    project_id: str | None = None
    text: str = ""
    sort: str = "created"

    def __post_init__(self) -> None:
        errors = {}
        if self.status not in STATUSES:
            errors["status"] = "Choose all, pending or completed."
        if self.sort not in SORTS:
            errors["sort"] = "Sort by created, due or priority."
        if errors:
            raise TaskValidationError(errors)

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> TaskQuery:
        """Read a query from URL parameters, ignoring values it does not know."""
        status = args.get("status", "all")
        sort = args.get("sort", "created")
        return cls(
            status=status if status in STATUSES else "all",
            project_id=args.get("project") or None,
            text=args.get("q", "").strip()[:MAX_SEARCH],
            sort=sort if sort in SORTS else "created",
        )

    def args(self, **changes: Any) -> dict[str, Any]:
        """The URL parameters for this query with `changes` applied, defaults left out."""
        args = {"status": self.status, "project": self.project_id, "q": self.text, "sort": self.sort} | changes
        return {key: value for key, value in args.items() if value not in (None, _URL_DEFAULTS.get(key))}


@dataclass(frozen=True)
class TaskPage:
    """One page of a task list; `tasks` have `project` and `thread` loaded."""

    tasks: list[Task]
    query: TaskQuery
    page: int
    per_page: int
    has_more: bool = False

    def next_args(self) -> dict[str, Any]:
        return self.query.args(page=self.page + 1)


_PRIORITY_RANK = sa.case({"high": 0, "medium": 1, "low": 2}, value=Task.priority, else_=3)
_ORDERS = {
    "created": (Task.created_at.desc(), Task.id.desc()),
    "due": (Task.due_date.asc().nulls_last(), Task.created_at.desc(), Task.id.desc()),
    "priority": (_PRIORITY_RANK, Task.due_date.asc().nulls_last(), Task.created_at.desc(), Task.id.desc()),
}


def _live(user_id: str) -> sa.ColumnElement[bool]:
    return sa.and_(Task.user_id == user_id, Task.deleted_at.is_(None))


def _with_names() -> sa.Select[tuple[Task]]:
    """Tasks with their project's and chat's names in the same query (no query per row)."""
    return (
        sa.select(Task)
        .outerjoin(Task.project)
        .outerjoin(Task.thread)
        .options(
            contains_eager(Task.project).load_only(Project.id, Project.name),
            contains_eager(Task.thread).load_only(Thread.id, Thread.title),
        )
    )


def _filtered(statement: sa.Select[Any], query: TaskQuery) -> sa.Select[Any]:
    if query.status != "all":
        statement = statement.where(Task.completed.is_(query.status == "completed"))
    if query.project_id:
        statement = statement.where(Task.project_id == query.project_id)
    if query.text:
        statement = statement.where(
            sa.or_(
                Task.title.icontains(query.text, autoescape=True),
                Task.description.icontains(query.text, autoescape=True),
            )
        )
    return statement


def list_tasks(user_id: str, query: TaskQuery | None = None, *, page: int = 1, per_page: int = PER_PAGE) -> TaskPage:
    """One page of the user's tasks matching `query`."""
    query = query or TaskQuery()
    page = max(page, 1)
    statement = _filtered(_with_names().where(_live(user_id)), query).order_by(*_ORDERS[query.sort])
    # One row more than the page tells whether there is a next page without counting.
    rows = list(db.session.scalars(statement.limit(per_page + 1).offset((page - 1) * per_page)))
    return TaskPage(tasks=rows[:per_page], query=query, page=page, per_page=per_page, has_more=len(rows) > per_page)


def get_task(user_id: str, task_id: str) -> Task:
    """The user's task, or TaskNotFound (TaskDeleted if it was deleted)."""
    task = db.session.scalar(_with_names().where(Task.id == task_id, Task.user_id == user_id))
    if task is None:
        raise TaskNotFound(task_id)
    if task.deleted_at is not None:
        raise TaskDeleted(task_id)
    return task


def counts(user_id: str, project_id: str | None = None) -> tuple[int, int]:
    """How many (pending, completed) tasks the user has, optionally in one project."""
    statement = sa.select(
        sa.func.count().filter(Task.completed.is_(False)),
        sa.func.count().filter(Task.completed.is_(True)),
    ).where(_live(user_id))
    if project_id:
        statement = statement.where(Task.project_id == project_id)
    pending, completed = db.session.execute(statement).one()
    return pending, completed


def recently_deleted(user_id: str, project_id: str | None = None, *, limit: int = 5) -> list[Task]:
    """Tasks deleted recently enough to be restored, newest deletion first."""
    statement = (
        sa.select(Task)
        .where(Task.user_id == user_id, Task.deleted_at >= utcnow() - UNDO_WINDOW)
        .order_by(Task.deleted_at.desc())
        .limit(limit)
    )
    if project_id:
        statement = statement.where(Task.project_id == project_id)
    return list(db.session.scalars(statement))


def find_project(user_id: str, project_id: str) -> Project | None:
    return db.session.scalar(sa.select(Project).where(Project.id == project_id, Project.user_id == user_id))


def project_choices(user_id: str) -> list[tuple[str, str]]:
    """(id, name) of the user's projects, by name, for a task's project field."""
    statement = sa.select(Project.id, Project.name).where(Project.user_id == user_id).order_by(Project.name)
    return [(row.id, row.name) for row in db.session.execute(statement)]


@dataclass(frozen=True)
class TaskBoard:
    """What the Tasks page shows: a page of tasks, the counts, and what can still be undone."""

    tasks: TaskPage
    pending: int
    completed: int
    recently_deleted: list[Task]
    project: Project | None = None


def task_board(user_id: str, query: TaskQuery, *, page: int = 1) -> TaskBoard:
    """The Tasks page for `query`; ProjectNotFound if it names a project that is not the user's."""
    project = None
    if query.project_id:
        project = find_project(user_id, query.project_id)
        if project is None:
            raise ProjectNotFound(query.project_id)
    pending, completed = counts(user_id, query.project_id)
    return TaskBoard(
        tasks=list_tasks(user_id, query, page=page),
        pending=pending,
        completed=completed,
        recently_deleted=recently_deleted(user_id, query.project_id),
        project=project,
    )


# Writing


def create_task(
    user_id: str,
    *,
    title: str,
    description: str = "",
    due_date: str | date | None = None,
    priority: str = "medium",
    project_id: str | None = None,
    thread_id: str | None = None,
) -> Task:
    """Add a pending task; the project and chat, if given, must be the user's."""
    values = _validated(
        user_id,
        {
            "title": title,
            "description": description,
            "due_date": due_date,
            "priority": priority,
            "project_id": project_id,
            "thread_id": thread_id,
        },
    )
    task = Task(user_id=user_id, **values)
    db.session.add(task)
    db.session.commit()
    return task


def update_task(
    user_id: str,
    task_id: str,
    *,
    title: str | Keep = KEEP,
    description: str | None | Keep = KEEP,
    due_date: str | date | None | Keep = KEEP,
    priority: str | Keep = KEEP,
    project_id: str | None | Keep = KEEP,
) -> Task:
    """Change the given fields (leave out, or pass KEEP, to keep one); None or "" clears."""
    task = get_task(user_id, task_id)
    values = _validated(
        user_id,
        {
            "title": title,
            "description": description,
            "due_date": due_date,
            "priority": priority,
            "project_id": project_id,
        },
    )
    for name, value in values.items():
        setattr(task, name, value)
    db.session.commit()
    return task


def complete_task(user_id: str, task_id: str) -> Task:
    """Mark the task done; completing a done task keeps its first completion time."""
    task = get_task(user_id, task_id)
    if not task.completed:
        task.completed = True
        task.completed_at = utcnow()
        db.session.commit()
    return task


def reopen_task(user_id: str, task_id: str) -> Task:
    """Mark the task pending again."""
    task = get_task(user_id, task_id)
    if task.completed:
        task.completed = False
        task.completed_at = None
        db.session.commit()
    return task


def delete_task(user_id: str, task_id: str) -> Task:
    """Delete the task; `restore_task` undoes this within UNDO_WINDOW."""
    task = get_task(user_id, task_id)
    now = utcnow()
    task.deleted_at = now
    db.session.execute(
        sa.delete(Task).where(Task.user_id == user_id, Task.deleted_at < now - PURGE_AFTER),
        execution_options={"synchronize_session": False},
    )
    db.session.commit()
    return task


def restore_task(user_id: str, task_id: str) -> Task:
    """Undo a recent deletion; restoring a task that is not deleted changes nothing."""
    task = db.session.scalar(sa.select(Task).where(Task.id == task_id, Task.user_id == user_id))
    if task is None:
        raise TaskNotFound(task_id)
    if task.deleted_at is None:
        return task
    if task.deleted_at < utcnow() - UNDO_WINDOW:
        raise UndoExpired(task_id)
    task.deleted_at = None
    db.session.commit()
    return task
