"""The data model: typed SQLAlchemy 2.0 models for every table."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, WriteOnlyMapped, mapped_column, relationship, validates

from .extensions import db
from .timezones import today_in

THREAD_TYPES = ("ba_assistant", "assistant")
CONVERSATION_MODES = ("meeting", "refinement")
MESSAGE_ROLES = ("user", "assistant")
MESSAGE_STATUSES = ("streaming", "complete", "stopped", "error", "interrupted", "cut")
# Why a provider cut a reply short: its length limit, its content filter, or a reason of its own.
CUT_REASONS = ("length", "filter", "other")
ARTIFACT_TYPES = ("user_stories", "acceptance_criteria", "requirements_doc", "brd", "other")
TASK_PRIORITIES = ("low", "medium", "high")
ITEM_KINDS = ("story", "requirement")
ITEM_PRIORITIES = ("must", "should", "could", "wont")
ITEM_STATUSES = ("draft", "review", "approved")
USAGE_PURPOSES = ("chat", "title", "summary")
THEMES = ("system", "light", "dark")
ACCOUNT_LINK_PURPOSES = ("invite", "reset")
# A document is `processing` from its upload until its import job stores it or refuses it.
DOCUMENT_STATUSES = ("processing", "stored", "refused")
# waiting: in line behind the user's running imports; queued: handed to a worker; running; finished.
IMPORT_STATES = ("waiting", "queued", "running", "finished")


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return str(uuid.uuid4())


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite drops the offset)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _one_of(column: str, values: tuple[str, ...]) -> str:
    listed = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({listed})"


def _id_column() -> Mapped[str]:
    return mapped_column(sa.String(36), primary_key=True, default=new_id)


def _created_column() -> Mapped[datetime]:
    return mapped_column(UTCDateTime(), default=utcnow, nullable=False)


def _owner_column() -> Mapped[str]:
    return mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (sa.CheckConstraint(_one_of("theme", THEMES), name="theme"),)

    id: Mapped[str] = _id_column()
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    # Empty: no password (the account signs in through single sign-on, or its invitation is open).
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    display_name: Mapped[str] = mapped_column(sa.String(80))
    is_admin: Mapped[bool] = mapped_column(default=False)
    default_provider: Mapped[str | None] = mapped_column(sa.String(40))
    theme: Mapped[str] = mapped_column(sa.String(10), default="system", server_default="system")
    # An IANA name ("Europe/Berlin") from the settings page or the browser. None: not known yet;
    # UTC until the browser sends its own on the next page.
    timezone: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = _created_column()
    # Set by an admin; a disabled user cannot sign in and their sessions are ended.
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Overrides USER_MONTHLY_BUDGET_USD for this user when set.
    monthly_budget_usd: Mapped[Decimal | None] = mapped_column(sa.Numeric(12, 2))

    projects: WriteOnlyMapped[Project] = relationship(back_populates="user", passive_deletes=True)
    threads: WriteOnlyMapped[Thread] = relationship(back_populates="user", passive_deletes=True)
    tasks: WriteOnlyMapped[Task] = relationship(back_populates="user", passive_deletes=True)

    @validates("email")
    def _normalise_email(self, key: str, value: str) -> str:
        return value.strip().lower()

    def today(self, now: datetime | None = None) -> date:
        """The date where the user is."""
        return today_in(self.timezone, now)

    @property
    def is_active(self) -> bool:
        return self.disabled_at is None

    @property
    def has_password(self) -> bool:
        return bool(self.password_hash)

    def monthly_budget(self, default: Decimal) -> Decimal:
        """What the user may spend a month: their own budget, else the server's `default`."""
        return self.monthly_budget_usd if self.monthly_budget_usd is not None else default

    def __repr__(self) -> str:
        return f"<User {self.email}>"


class LoginSession(db.Model):
    """One signed-in browser. The session and remember cookies carry its token; deleting the row
    ends both at once, wherever they were copied to."""

    __tablename__ = "login_sessions"

    id: Mapped[str] = _id_column()
    user_id: Mapped[str] = _owner_column()
    # SHA-256 of the token: reading the table does not give anyone a session.
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    remember: Mapped[bool] = mapped_column(default=False)
    method: Mapped[str] = mapped_column(sa.String(40))
    ip: Mapped[str | None] = mapped_column(sa.String(45))
    user_agent: Mapped[str] = mapped_column(sa.String(200), default="")
    created_at: Mapped[datetime] = _created_column()
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user: Mapped[User] = relationship()


class Identity(db.Model):
    """A way in through single sign-on: the provider's subject for one of our users."""

    __tablename__ = "identities"
    __table_args__ = (sa.UniqueConstraint("provider", "subject"),)

    id: Mapped[str] = _id_column()
    user_id: Mapped[str] = _owner_column()
    provider: Mapped[str] = mapped_column(sa.String(40))
    subject: Mapped[str] = mapped_column(sa.String(255))
    # As the provider gave it when linked; shown to the user, never used to sign in.
    email: Mapped[str | None] = mapped_column(sa.String(254))
    created_at: Mapped[datetime] = _created_column()
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AccountLink(db.Model):
    """A one-time link an admin (or the forgot-password mail) gives: an invitation or a password reset."""

    __tablename__ = "account_links"
    __table_args__ = (sa.CheckConstraint(_one_of("purpose", ACCOUNT_LINK_PURPOSES), name="purpose"),)

    id: Mapped[str] = _id_column()
    user_id: Mapped[str] = _owner_column()
    purpose: Mapped[str] = mapped_column(sa.String(10))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_by_id: Mapped[str | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = _created_column()
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(foreign_keys=[user_id])


class SecurityEvent(db.Model):
    """Who did what to which account, when, and from which address."""

    __tablename__ = "security_events"
    __table_args__ = (sa.Index("ix_security_events_event_created", "event", "created_at"),)

    id: Mapped[str] = _id_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    event: Mapped[str] = mapped_column(sa.String(40))
    # The account concerned, and who acted (the same for one's own actions; none for a stranger).
    user_id: Mapped[str | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    actor_id: Mapped[str | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    # Kept as written, so an entry still reads after the account is gone or never existed.
    email: Mapped[str] = mapped_column(sa.String(254), default="")
    actor_email: Mapped[str] = mapped_column(sa.String(254), default="")
    ip: Mapped[str | None] = mapped_column(sa.String(45))
    detail: Mapped[str] = mapped_column(sa.String(500), default="")


class Project(db.Model):
    __tablename__ = "projects"
    __table_args__ = (sa.Index("ix_projects_user_activity", "user_id", "last_activity_at"),)

    id: Mapped[str] = _id_column()
    user_id: Mapped[str] = _owner_column()
    name: Mapped[str] = mapped_column(sa.String(120))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    instructions: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = _created_column()
    last_activity_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user: Mapped[User] = relationship(back_populates="projects")
    documents: WriteOnlyMapped[Document] = relationship(back_populates="project", passive_deletes=True)
    threads: WriteOnlyMapped[Thread] = relationship(back_populates="project", passive_deletes=True)

    def __repr__(self) -> str:
        return f"<Project {self.name!r}>"


@dataclass(frozen=True, slots=True)
class ModeChange:
    """A switch of a thread's mode under an existing conversation (`new` None: the mode was turned off)."""

    at: datetime
    old: str
    new: str | None


class Thread(db.Model):
    __tablename__ = "threads"
    __table_args__ = (
        sa.CheckConstraint(_one_of("thread_type", THREAD_TYPES), name="thread_type"),
        sa.CheckConstraint(
            f"conversation_mode IS NULL OR {_one_of('conversation_mode', CONVERSATION_MODES)}",
            name="conversation_mode",
        ),
        sa.Index("ix_threads_user_activity", "user_id", "last_activity_at"),
        # The provider filter of the chat lists: its options and its filtered pages.
        sa.Index("ix_threads_user_type_provider", "user_id", "thread_type", "model_provider", "last_activity_at"),
    )

    id: Mapped[str] = _id_column()
    # Always the owner, also for threads inside a project: ownership never goes through the project.
    user_id: Mapped[str] = _owner_column()
    project_id: Mapped[str | None] = mapped_column(sa.ForeignKey("projects.id", ondelete="SET NULL"), index=True)
    title: Mapped[str | None] = mapped_column(sa.String(200))
    title_locked: Mapped[bool] = mapped_column(default=False)
    model_provider: Mapped[str] = mapped_column(sa.String(40))
    model_name: Mapped[str | None] = mapped_column(sa.String(100))
    thread_type: Mapped[str] = mapped_column(sa.String(20), default="ba_assistant", server_default="ba_assistant")
    conversation_mode: Mapped[str | None] = mapped_column(sa.String(20))
    skill: Mapped[str | None] = mapped_column(sa.String(80))
    history_summary: Mapped[str | None] = mapped_column(sa.Text)
    # The summary covers the messages of one branch up to and including the one created at this
    # moment (a summary made on another branch is made again: see chat/summary.py).
    history_summary_through: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Each switch of mode under an existing conversation: {"at": ISO time, "from": mode, "to": mode};
    # read and written through mode_change_list() and record_mode_change().
    mode_changes: Mapped[list[dict[str, Any]] | None] = mapped_column(sa.JSON)
    # The message at the end of the branch the user picked (messages form a tree; see
    # chat/branches.py). Not a foreign key: the two tables would refer to each other, and a
    # leaf that is gone only means the newest branch is shown.
    current_leaf_id: Mapped[str | None] = mapped_column(sa.String(36))
    created_at: Mapped[datetime] = _created_column()
    last_activity_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    user: Mapped[User] = relationship(back_populates="threads")
    project: Mapped[Project | None] = relationship(back_populates="threads")
    messages: WriteOnlyMapped[Message] = relationship(
        back_populates="thread",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Message.created_at",
    )
    artifacts: WriteOnlyMapped[Artifact] = relationship(
        back_populates="thread", cascade="all, delete-orphan", passive_deletes=True
    )
    documents: WriteOnlyMapped[Document] = relationship(
        back_populates="thread", cascade="all, delete-orphan", passive_deletes=True
    )

    def record_mode_change(self, new: str | None, at: datetime) -> None:
        """Keep a switch from the current mode to `new`, for the conversation to show."""
        change = {"at": at.isoformat(), "from": self.conversation_mode, "to": new}
        self.mode_changes = [*(self.mode_changes or []), change]  # a new list, so the change is saved

    def mode_change_list(self) -> list[ModeChange]:
        """The mode changes, oldest first."""
        changes = [ModeChange(datetime.fromisoformat(c["at"]), c["from"], c["to"]) for c in self.mode_changes or []]
        return sorted(changes, key=lambda change: change.at)

    @validates("thread_type")
    def _check_thread_type(self, key: str, value: str) -> str:
        if value not in THREAD_TYPES:
            raise ValueError(f"thread_type must be one of {THREAD_TYPES}, not {value!r}")
        return value

    @validates("conversation_mode")
    def _check_mode(self, key: str, value: str | None) -> str | None:
        if value is not None and value not in CONVERSATION_MODES:
            raise ValueError(f"conversation_mode must be one of {CONVERSATION_MODES}, not {value!r}")
        return value

    def __repr__(self) -> str:
        return f"<Thread {self.id} {self.thread_type}>"


class Document(db.Model):
    __tablename__ = "documents"
    __table_args__ = (
        sa.CheckConstraint("(project_id IS NULL) <> (thread_id IS NULL)", name="exactly_one_owner"),
        sa.UniqueConstraint("project_id", "sha256"),
        sa.UniqueConstraint("thread_id", "sha256"),
    )

    id: Mapped[str] = _id_column()
    user_id: Mapped[str] = _owner_column()
    project_id: Mapped[str | None] = mapped_column(sa.ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    thread_id: Mapped[str | None] = mapped_column(sa.ForeignKey("threads.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(sa.String(255))
    content_type: Mapped[str] = mapped_column(sa.String(100))
    size_bytes: Mapped[int]
    sha256: Mapped[str] = mapped_column(sa.String(64))
    # Deferred: list pages must not load megabytes per row.
    original: Mapped[bytes] = mapped_column(sa.LargeBinary, deferred=True)
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", sa.JSON, default=dict)
    created_at: Mapped[datetime] = _created_column()
    # Only stored documents are searched and cited; see DOCUMENT_STATUSES.
    status: Mapped[str] = mapped_column(sa.String(20), default="stored", server_default="stored")

    project: Mapped[Project | None] = relationship(back_populates="documents")
    thread: Mapped[Thread | None] = relationship(back_populates="documents")
    chunks: WriteOnlyMapped[DocumentChunk] = relationship(
        back_populates="document",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="DocumentChunk.ordinal",
    )
    import_job: Mapped[ImportJob | None] = relationship(back_populates="document", passive_deletes=True)

    def __repr__(self) -> str:
        return f"<Document {self.filename!r}>"


class DocumentChunk(db.Model):
    """A passage of a document: the unit of search and citation.

    The key is an integer so that SQLite's FTS5 index can use it as its rowid.
    """

    __tablename__ = "document_chunks"
    __table_args__ = (sa.UniqueConstraint("document_id", "ordinal"),)

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    document_id: Mapped[str] = mapped_column(sa.ForeignKey("documents.id", ondelete="CASCADE"))
    ordinal: Mapped[int]
    text: Mapped[str] = mapped_column(sa.Text)
    page: Mapped[int | None]
    sheet: Mapped[str | None] = mapped_column(sa.String(100))

    document: Mapped[Document] = relationship(back_populates="chunks")


class ImportJob(db.Model):
    """Reading one uploaded file into its document, outside the web process.

    Deleting the document (or its project or thread) deletes the job, which is how a running
    import learns it was cancelled.
    """

    __tablename__ = "import_jobs"
    __table_args__ = (
        sa.CheckConstraint(_one_of("state", IMPORT_STATES), name="state"),
        sa.Index("ix_import_jobs_state_created", "state", "created_at"),
        sa.Index("ix_import_jobs_user_state", "user_id", "state"),
    )

    id: Mapped[str] = _id_column()
    document_id: Mapped[str] = mapped_column(sa.ForeignKey("documents.id", ondelete="CASCADE"), unique=True)
    user_id: Mapped[str] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(sa.String(20), default="waiting")
    # Each start counts; a job interrupted by a restart starts again while attempts remain.
    attempts: Mapped[int] = mapped_column(default=0)
    # The outcome for the user: what was stored, or why the file was refused.
    message: Mapped[str | None] = mapped_column(sa.Text)
    progress: Mapped[str | None] = mapped_column(sa.String(200))
    # While running: renewed by the process that watches the job; lapsed means that process died.
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    peak_memory_kb: Mapped[int | None]
    created_at: Mapped[datetime] = _created_column()
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    document: Mapped[Document] = relationship(back_populates="import_job")

    def __repr__(self) -> str:
        return f"<ImportJob {self.id} {self.state}>"


class Message(db.Model):
    __tablename__ = "messages"
    __table_args__ = (
        sa.CheckConstraint(_one_of("role", MESSAGE_ROLES), name="role"),
        sa.CheckConstraint(_one_of("status", MESSAGE_STATUSES), name="status"),
        sa.Index("ix_messages_thread_created", "thread_id", "created_at"),
    )

    id: Mapped[str] = _id_column()
    thread_id: Mapped[str] = mapped_column(sa.ForeignKey("threads.id", ondelete="CASCADE"))
    # The message this one answers or follows: a regenerated reply and an edited question are
    # siblings of the ones they replace, so each earlier version stays one switch away.
    parent_id: Mapped[str | None] = mapped_column(sa.ForeignKey("messages.id", ondelete="SET NULL"), index=True)
    role: Mapped[str] = mapped_column(sa.String(20))
    content: Mapped[str] = mapped_column(sa.Text, default="")
    status: Mapped[str] = mapped_column(sa.String(20), default="complete")
    # One of CUT_REASONS when the status is `cut`.
    cut_reason: Mapped[str | None] = mapped_column(sa.String(20))
    # What went wrong (`error`, `interrupted`) or why the provider cut the reply (`cut`), for the reader.
    error: Mapped[str | None] = mapped_column(sa.Text)
    tool_calls: Mapped[list[dict[str, Any]] | None] = mapped_column(sa.JSON)
    provider: Mapped[str | None] = mapped_column(sa.String(40))
    model: Mapped[str | None] = mapped_column(sa.String(100))
    input_tokens: Mapped[int] = mapped_column(default=0)
    output_tokens: Mapped[int] = mapped_column(default=0)
    # Number of stream deltas already folded into `content`; a reconnecting stream resumes after it.
    stream_seq: Mapped[int] = mapped_column(default=0)
    # Held by the process that produces the reply, renewed with its checkpoints: once it has
    # passed, any process treats a `streaming` reply as interrupted. After the end it is held
    # for as long as the runner still makes the thread's title.
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Set by Stop, from any process; the process that runs the reply sees it and ends it.
    stop_requested: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = _created_column()
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    thread: Mapped[Thread] = relationship(back_populates="messages")

    def __repr__(self) -> str:
        return f"<Message {self.role} {self.status}>"


def visible_messages(thread_id: str) -> sa.Select[tuple[Message]]:
    """The thread's messages that are not deleted (a deletion is undoable for a while)."""
    return sa.select(Message).where(Message.thread_id == thread_id, Message.deleted_at.is_(None))


class Artifact(db.Model):
    __tablename__ = "artifacts"
    __table_args__ = (sa.CheckConstraint(_one_of("artifact_type", ARTIFACT_TYPES), name="artifact_type"),)

    id: Mapped[str] = _id_column()
    thread_id: Mapped[str] = mapped_column(sa.ForeignKey("threads.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[str | None] = mapped_column(sa.ForeignKey("messages.id", ondelete="SET NULL"))
    # Earlier versions stay as rows; every version points at the first one.
    first_version_id: Mapped[str | None] = mapped_column(sa.ForeignKey("artifacts.id", ondelete="CASCADE"), index=True)
    artifact_type: Mapped[str] = mapped_column(sa.String(30))
    title: Mapped[str] = mapped_column(sa.String(200))
    content_markdown: Mapped[str] = mapped_column(sa.Text)
    # With items, `content_markdown` is drawn from them: this prose comes first.
    intro_markdown: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = _created_column()

    thread: Mapped[Thread] = relationship(back_populates="artifacts")
    items: Mapped[list[ArtifactItem]] = relationship(
        back_populates="artifact",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="ArtifactItem.position",
        lazy="selectin",
    )

    def __repr__(self) -> str:
        return f"<Artifact {self.title!r} v{self.version}>"


class ArtifactItem(db.Model):
    """A user story or requirement of one artifact version; its key (US-1, REQ-4) is stable across versions."""

    __tablename__ = "artifact_items"
    __table_args__ = (
        sa.CheckConstraint(_one_of("kind", ITEM_KINDS), name="kind"),
        sa.CheckConstraint(_one_of("status", ITEM_STATUSES), name="status"),
        sa.CheckConstraint(f"priority IS NULL OR {_one_of('priority', ITEM_PRIORITIES)}", name="priority"),
        sa.UniqueConstraint("artifact_id", "key"),
    )

    id: Mapped[str] = _id_column()
    artifact_id: Mapped[str] = mapped_column(sa.ForeignKey("artifacts.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    key: Mapped[str] = mapped_column(sa.String(20))
    kind: Mapped[str] = mapped_column(sa.String(20))
    title: Mapped[str] = mapped_column(sa.String(200))
    as_a: Mapped[str] = mapped_column(sa.Text, default="")
    i_want: Mapped[str] = mapped_column(sa.Text, default="")
    so_that: Mapped[str] = mapped_column(sa.Text, default="")
    description: Mapped[str] = mapped_column(sa.Text, default="")
    # Given/When/Then scenarios, one text each.
    acceptance_criteria: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    priority: Mapped[str | None] = mapped_column(sa.String(10))
    estimate: Mapped[int | None]
    status: Mapped[str] = mapped_column(sa.String(20), default="draft")
    # The key of the requirement a story implements, in the same artifact or the project.
    requirement_key: Mapped[str | None] = mapped_column(sa.String(20))
    # True for the items of an artifact's newest version: what coverage and the project views count.
    is_current: Mapped[bool] = mapped_column(default=True, index=True)

    artifact: Mapped[Artifact] = relationship(back_populates="items")
    sources: Mapped[list[ItemSource]] = relationship(
        back_populates="item",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="ItemSource.position",
        lazy="selectin",
    )

    def __repr__(self) -> str:
        return f"<ArtifactItem {self.key}>"


class ItemSource(db.Model):
    """A passage an item comes from. The citation is kept, so a deleted document leaves "source removed"."""

    __tablename__ = "item_sources"

    id: Mapped[str] = _id_column()
    item_id: Mapped[str] = mapped_column(sa.ForeignKey("artifact_items.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    chunk_id: Mapped[int | None] = mapped_column(sa.ForeignKey("document_chunks.id", ondelete="SET NULL"), index=True)
    document_id: Mapped[str | None] = mapped_column(sa.String(36))
    document_name: Mapped[str] = mapped_column(sa.String(255))
    ordinal: Mapped[int]
    page: Mapped[int | None]
    sheet: Mapped[str | None] = mapped_column(sa.String(100))
    excerpt: Mapped[str] = mapped_column(sa.Text, default="")

    item: Mapped[ArtifactItem] = relationship(back_populates="sources")

    @property
    def removed(self) -> bool:
        """The document this passage was in has been deleted."""
        return self.chunk_id is None


class Task(db.Model):
    __tablename__ = "tasks"
    __table_args__ = (
        sa.CheckConstraint(_one_of("priority", TASK_PRIORITIES), name="priority"),
        sa.Index("ix_tasks_user_completed_created", "user_id", "completed", "created_at"),
    )

    id: Mapped[str] = _id_column()
    user_id: Mapped[str] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    project_id: Mapped[str | None] = mapped_column(sa.ForeignKey("projects.id", ondelete="SET NULL"), index=True)
    thread_id: Mapped[str | None] = mapped_column(sa.ForeignKey("threads.id", ondelete="SET NULL"), index=True)
    title: Mapped[str] = mapped_column(sa.String(500))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    completed: Mapped[bool] = mapped_column(default=False)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    due_date: Mapped[date | None]
    priority: Mapped[str] = mapped_column(sa.String(10), default="medium")
    # Set when deleted; the row stays for a while so the deletion can be undone.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = _created_column()
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    user: Mapped[User] = relationship(back_populates="tasks")
    project: Mapped[Project | None] = relationship()
    thread: Mapped[Thread | None] = relationship()

    def is_overdue_on(self, today: date) -> bool:
        """Pending and due before `today` (the user's date)."""
        return not self.completed and self.due_date is not None and self.due_date < today

    def __repr__(self) -> str:
        return f"<Task {self.title!r}>"


class TokenUsage(db.Model):
    __tablename__ = "token_usage"
    __table_args__ = (
        sa.CheckConstraint(_one_of("purpose", USAGE_PURPOSES), name="purpose"),
        sa.Index("ix_token_usage_user_created", "user_id", "created_at"),
    )

    id: Mapped[str] = _id_column()
    user_id: Mapped[str] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    thread_id: Mapped[str | None] = mapped_column(sa.ForeignKey("threads.id", ondelete="SET NULL"), index=True)
    message_id: Mapped[str | None] = mapped_column(sa.ForeignKey("messages.id", ondelete="SET NULL"))
    provider: Mapped[str] = mapped_column(sa.String(40))
    model: Mapped[str] = mapped_column(sa.String(100))
    purpose: Mapped[str] = mapped_column(sa.String(10))
    input_tokens: Mapped[int] = mapped_column(default=0)
    output_tokens: Mapped[int] = mapped_column(default=0)
    cost: Mapped[Decimal] = mapped_column(sa.Numeric(12, 6), default=Decimal("0"))
    # The provider sent no count (a stopped or broken reply): tokens estimated from the text.
    estimated: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    created_at: Mapped[datetime] = _created_column()
