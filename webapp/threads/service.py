"""Thread rules and list queries, independent of Flask's request globals."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy import orm

from ..extensions import db
from ..llm.specs import MODEL_NAME_MAX, PROVIDER_NAMES
from ..models import CONVERSATION_MODES, Message, Project, Thread, User, utcnow

PAGE_SIZE = 25
PROJECT_LIST_LIMIT = 50
TITLE_MAX = 200
MODEL_MAX = MODEL_NAME_MAX
# The project filter's value for chats that belong to no project.
NO_PROJECT = "none"
PROJECT_SORTS = ("newest", "oldest", "title")


class ThreadError(Exception):
    """A rule was broken; `field` names the form field it belongs to."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class ProviderRegistry(Protocol):
    def available(self) -> Sequence[Any]: ...


@dataclass(frozen=True, kw_only=True)
class NewThread:
    """What a user asked for when starting a chat; empty strings mean "use the default"."""

    thread_type: str = "ba_assistant"
    project: Project | None = None
    title: str = ""
    provider: str = ""
    model: str = ""
    mode: str = ""


@dataclass(frozen=True)
class ThreadRow:
    """A thread as a list shows it: with its project's name and its message count."""

    thread: Thread
    project_name: str | None
    message_count: int


@dataclass(frozen=True)
class Cursor:
    """Where a page of a thread list ends: the last row's activity time and id.

    Paging by position instead of by offset keeps a deep page as fast as the first,
    and a chat that becomes active while the user reads shows neither twice nor never.
    """

    last_activity_at: datetime
    thread_id: str

    def encode(self) -> str:
        return f"{self.last_activity_at.isoformat()}~{self.thread_id}"

    @classmethod
    def parse(cls, text: str) -> Cursor:
        """Read an encoded cursor; raises ValueError for anything else."""
        moment, _, thread_id = text.partition("~")
        parsed = datetime.fromisoformat(moment)
        if parsed.tzinfo is None or not thread_id:
            raise ValueError(f"not a list cursor: {text!r}")
        return cls(parsed, thread_id)


@dataclass(frozen=True)
class ThreadPage:
    rows: list[ThreadRow]
    has_more: bool
    next_cursor: Cursor | None = None
    first: bool = True


@dataclass(frozen=True, kw_only=True)
class ListFilters:
    """Narrow a thread list: `project` is a project id, NO_PROJECT, or None for all."""

    project: str | None = None
    provider: str | None = None
    title: str = ""

    @property
    def active(self) -> bool:
        return bool(self.project or self.provider or self.title)

    def as_args(self) -> dict[str, str]:
        """The filters as query-string arguments, leaving out the empty ones."""
        args = {"project": self.project, "provider": self.provider, "q": self.title}
        return {key: value for key, value in args.items() if value}


# Providers


def provider_choices(registry: ProviderRegistry) -> list[tuple[str, str]]:
    """(name, display name) of each configured provider."""
    return [(info.name, info.display_name) for info in registry.available()]


def choose_provider(
    requested: str, *, user_default: str | None, fallback: str | None, configured: Sequence[str]
) -> str:
    """The provider for a new thread: the requested one, else the user's default, else the server's,
    else the first configured one."""
    if requested:
        if requested not in configured:
            raise ThreadError("provider", "Choose one of the configured providers.")
        return requested
    for candidate in (user_default, fallback):
        if candidate and candidate in configured:
            return candidate
    return configured[0] if configured else fallback or "offline"


# Creating and changing threads


def create_thread(user: User, new: NewThread, *, configured: Sequence[str], fallback_provider: str | None) -> Thread:
    """Start a BA chat or an assistant chat for `user`."""
    title = _clean_title(new.title, required=False)
    model = new.model.strip()
    if len(model) > MODEL_MAX:
        raise ThreadError("model", f"Use at most {MODEL_MAX} characters.")
    provider = choose_provider(
        new.provider, user_default=user.default_provider, fallback=fallback_provider, configured=configured
    )
    thread = Thread(
        user_id=user.id,
        title=title,
        title_locked=bool(title),
        model_provider=provider,
        model_name=model or None,
        thread_type=new.thread_type,
    )
    if new.thread_type == "ba_assistant":
        thread.conversation_mode = _clean_mode(new.mode)
        _attach(thread, new.project)
    elif new.project is not None:
        raise ThreadError("project_id", "Assistant chats do not belong to a project.")
    db.session.add(thread)
    db.session.commit()
    return thread


def rename_thread(thread: Thread, title: str) -> None:
    """Give the thread a title of the user's own, which automatic titles no longer replace."""
    thread.title = _clean_title(title, required=True)
    thread.title_locked = True
    db.session.commit()


def move_thread(thread: Thread, project: Project) -> None:
    """Put a BA chat into `project` (from no project, or from another one)."""
    if thread.thread_type != "ba_assistant":
        raise ThreadError("project_id", "Only BA chats belong to projects.")
    _attach(thread, project)
    db.session.commit()


def delete_thread(thread: Thread) -> None:
    """Delete the thread; the database cascades its messages, artifacts and documents."""
    db.session.delete(thread)
    db.session.commit()


def _attach(thread: Thread, project: Project | None) -> None:
    if project is None:
        thread.project_id = None
        return
    if project.user_id != thread.user_id:
        raise ThreadError("project_id", "Choose one of your projects.")
    thread.project_id = project.id
    project.last_activity_at = utcnow()


def _clean_title(title: str, *, required: bool) -> str | None:
    title = " ".join(title.split())
    if required and not title:
        raise ThreadError("title", "Enter a title.")
    if len(title) > TITLE_MAX:
        raise ThreadError("title", f"Use at most {TITLE_MAX} characters.")
    return title or None


def _clean_mode(mode: str) -> str | None:
    if mode and mode not in CONVERSATION_MODES:
        raise ThreadError("mode", "Choose meeting, refinement, or no mode yet.")
    return mode or None


# Lists


def list_threads(user_id: str, *, thread_type: str, filters: ListFilters, after: Cursor | None = None) -> ThreadPage:
    """A page of the user's threads of one type, most recently active first, starting `after`."""
    statement = _filtered(_rows_query(user_id).where(Thread.thread_type == thread_type), filters)
    if after is not None:
        statement = statement.where(_before(after))
    statement = statement.order_by(Thread.last_activity_at.desc(), Thread.id.desc())
    # One row more than a page tells whether there is a next page, without counting them all.
    rows = _rows(statement.limit(PAGE_SIZE + 1))
    rows, more = rows[:PAGE_SIZE], len(rows) > PAGE_SIZE
    cursor = Cursor(rows[-1].thread.last_activity_at, rows[-1].thread.id) if more else None
    return ThreadPage(rows, more, cursor, first=after is None)


def project_threads(user_id: str, project_id: str, *, sort: str = "newest") -> ThreadPage:
    """The project's chats (up to PROJECT_LIST_LIMIT), sorted by newest, oldest or title."""
    statement = _rows_query(user_id).where(Thread.project_id == project_id)
    rows = _rows(statement.order_by(*_project_order(sort)).limit(PROJECT_LIST_LIMIT + 1))
    return ThreadPage(rows[:PROJECT_LIST_LIMIT], len(rows) > PROJECT_LIST_LIMIT)


def recent_threads(user_id: str, *, limit: int = 5) -> list[ThreadRow]:
    """The user's most recently active threads of any type."""
    statement = _rows_query(user_id).order_by(Thread.last_activity_at.desc(), Thread.id.desc())
    return _rows(statement.limit(limit))


def sidebar_chats(user_id: str, *, limit: int) -> list[sa.Row[tuple[str, str | None]]]:
    """(id, title) of the user's most recently active threads of any type."""
    statement = sa.select(Thread.id, Thread.title).where(Thread.user_id == user_id)
    return list(db.session.execute(statement.order_by(Thread.last_activity_at.desc(), Thread.id.desc()).limit(limit)))


def thread_row(thread: Thread) -> ThreadRow:
    """The list row for one thread, to re-render it after a change."""
    return _rows(_rows_query(thread.user_id).where(Thread.id == thread.id))[0]


def used_providers(user_id: str, *, thread_type: str) -> list[str]:
    """Providers the user's threads of this type use (the provider filter's options)."""

    # One index lookup per known provider: a DISTINCT would read every one of the user's threads.
    def used(name: str) -> sa.Select[Any]:
        in_use = sa.exists().where(
            Thread.user_id == user_id, Thread.thread_type == thread_type, Thread.model_provider == name
        )
        return sa.select(sa.literal(name)).where(in_use)

    found = set(db.session.scalars(sa.union_all(*(used(name) for name in PROVIDER_NAMES))))
    return [name for name in PROVIDER_NAMES if name in found]


def project_options(user_id: str) -> list[tuple[str, str]]:
    """(id, name) of each of the user's projects, by name."""
    statement = sa.select(Project.id, Project.name).where(Project.user_id == user_id)
    return [(id_, name) for id_, name in db.session.execute(statement.order_by(Project.name, Project.id))]


def recent_projects(user_id: str, *, limit: int = 3) -> list[Project]:
    statement = sa.select(Project).where(Project.user_id == user_id)
    statement = statement.order_by(Project.last_activity_at.desc(), Project.id).limit(limit)
    return list(db.session.scalars(statement))


def like_pattern(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, with its own % and _ taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _rows_query(user_id: str) -> sa.Select[Any]:
    """Threads with their project's name and their count of visible messages."""
    # Counted in the same query: the database counts only the rows the page shows.
    message_count = (
        sa.select(sa.func.count())
        .where(Message.thread_id == Thread.id, Message.deleted_at.is_(None))
        .correlate(Thread)
        .scalar_subquery()
    )
    return (
        sa.select(Thread, Project.name, message_count)
        .outerjoin(Project, Thread.project_id == Project.id)
        .where(Thread.user_id == user_id)
        # A long conversation's summary can be large, and no list shows it.
        .options(orm.defer(Thread.history_summary))
    )


def _filtered(statement: sa.Select[Any], filters: ListFilters) -> sa.Select[Any]:
    if filters.project == NO_PROJECT:
        statement = statement.where(Thread.project_id.is_(None))
    elif filters.project:
        statement = statement.where(Thread.project_id == filters.project)
    if filters.provider:
        statement = statement.where(Thread.model_provider == filters.provider)
    if filters.title.strip():
        statement = statement.where(Thread.title.ilike(like_pattern(filters.title.strip()), escape="\\"))
    return statement


def _before(cursor: Cursor) -> sa.ColumnElement[bool]:
    return sa.or_(
        Thread.last_activity_at < cursor.last_activity_at,
        sa.and_(Thread.last_activity_at == cursor.last_activity_at, Thread.id < cursor.thread_id),
    )


def _project_order(sort: str) -> tuple[Any, ...]:
    if sort == "oldest":
        return (Thread.created_at.asc(), Thread.id.asc())
    if sort == "title":
        # Untitled chats last, then case-insensitive by title.
        return (Thread.title.is_(None), sa.func.lower(Thread.title), Thread.created_at.desc())
    return (Thread.created_at.desc(), Thread.id.desc())


def _rows(statement: sa.Select[Any]) -> list[ThreadRow]:
    return [ThreadRow(thread, name, count) for thread, name, count in db.session.execute(statement)]
