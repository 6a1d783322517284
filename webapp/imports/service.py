"""Import jobs in the database: waiting in line, fair dispatch, leases, and outcomes.

Every function takes the session to use: the web process passes Flask-SQLAlchemy's, the reading
process its own. Each change is its own short transaction, so that a long import never holds a
database lock that other requests wait on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from ..models import Document, DocumentChunk, ImportJob, User, utcnow

ACTIVE_STATES = ("queued", "running")
# Passages are written and removed this many at a time, each batch its own transaction: about a
# tenth of a second of indexing on SQLite, whose one writer is all another write waits for, and a
# third on PostgreSQL. Smaller batches would hold SQLite's lock no less in all, and each would
# leave its full-text index one more segment to merge.
BATCH = 1000


# Dispatch looks at this many of the oldest waiting jobs at a time.
DISPATCH_WINDOW = 500


@dataclass(frozen=True)
class Ticket:
    """One attempt at a job: only the holder of the current attempt may write its outcome."""

    job_id: str
    document_id: str
    attempt: int


def new_job(document: Document) -> ImportJob:
    """A job for a newly uploaded document, waiting in line; the caller adds and commits it."""
    return ImportJob(document=document, user_id=document.user_id, state="waiting", progress="Waiting to be read")


def dispatch(session: Session, *, jobs_per_user: int) -> list[str]:
    """Hand over waiting jobs, oldest first, while each user has fewer than `jobs_per_user` active.

    Returns the ids of the jobs now queued; the caller gives them to the workers.
    """
    active = dict(
        session.execute(
            sa.select(ImportJob.user_id, sa.func.count())
            .where(ImportJob.state.in_(ACTIVE_STATES))
            .group_by(ImportJob.user_id)
        ).all()
    )
    waiting = session.execute(
        sa.select(ImportJob.id, ImportJob.user_id)
        .where(ImportJob.state == "waiting")
        .order_by(ImportJob.created_at, ImportJob.id)
        .limit(DISPATCH_WINDOW)
    ).all()
    session.rollback()
    queued = []
    for job_id, user_id in waiting:
        if active.get(user_id, 0) < jobs_per_user and _promote(session, job_id, user_id, jobs_per_user):
            active[user_id] = active.get(user_id, 0) + 1
            queued.append(job_id)
    return queued


def _promote(session: Session, job_id: str, user_id: str, jobs_per_user: int) -> bool:
    # The count and the change are one statement; on PostgreSQL the user's row is locked first,
    # so two processes dispatching at once cannot both take the user's last free place.
    session.execute(sa.select(User.id).where(User.id == user_id).with_for_update())
    other = aliased(ImportJob)
    active = (
        sa.select(sa.func.count())
        .select_from(other)
        .where(other.user_id == user_id, other.state.in_(ACTIVE_STATES))
        .scalar_subquery()
    )
    result = session.execute(
        sa.update(ImportJob)
        .where(ImportJob.id == job_id, ImportJob.state == "waiting", active < jobs_per_user)
        .values(state="queued", progress="Waiting for a free reader")
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return result.rowcount == 1


def claim(session: Session, job_id: str, *, lease_s: float) -> Ticket | None:
    """Start a queued job's next attempt; None if it was cancelled or another worker has it."""
    now = utcnow()
    result = session.execute(
        sa.update(ImportJob)
        .where(ImportJob.id == job_id, ImportJob.state == "queued")
        .values(
            state="running",
            attempts=ImportJob.attempts + 1,
            started_at=now,
            lease_until=now + timedelta(seconds=lease_s),
            progress="Reading the file",
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        session.rollback()
        return None
    row = session.execute(sa.select(ImportJob.document_id, ImportJob.attempts).where(ImportJob.id == job_id)).one()
    session.commit()
    return Ticket(job_id, row.document_id, row.attempts)


def _current(ticket: Ticket) -> sa.ColumnElement[bool]:
    return sa.and_(ImportJob.id == ticket.job_id, ImportJob.state == "running", ImportJob.attempts == ticket.attempt)


def renew(session: Session, ticket: Ticket, *, lease_s: float) -> bool:
    """Extend the attempt's lease; False once the job was cancelled (deleted) or taken back."""
    result = session.execute(
        sa.update(ImportJob)
        .where(_current(ticket))
        .values(lease_until=utcnow() + timedelta(seconds=lease_s))
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return result.rowcount == 1


def is_current(session: Session, ticket: Ticket) -> bool:
    """Whether the attempt still owns its job (a read, cheap enough to ask often)."""
    found = session.scalar(sa.select(ImportJob.id).where(_current(ticket)))
    session.rollback()
    return found is not None


def check_in(session: Session, ticket: Ticket, progress: str) -> bool:
    """Record progress inside the caller's transaction; False if the attempt no longer owns the job."""
    result = session.execute(
        sa.update(ImportJob)
        .where(_current(ticket))
        .values(progress=progress[:200])
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def delete_passages(session: Session, document_id: str) -> None:
    """Remove a document's passages a batch at a time, each batch its own transaction."""
    while True:
        ids = session.scalars(
            sa.select(DocumentChunk.id).where(DocumentChunk.document_id == document_id).limit(BATCH)
        ).all()
        if not ids:
            session.rollback()
            return
        session.execute(sa.delete(DocumentChunk).where(DocumentChunk.id.in_(ids)))
        session.commit()


def refuse(session: Session, ticket: Ticket, message: str, *, peak_memory_kb: int | None = None) -> None:
    """End the attempt with the file refused: its passages go, the document stays with the reason."""
    if not is_current(session, ticket):
        return
    delete_passages(session, ticket.document_id)
    finished = _finish(session, ticket, message, peak_memory_kb)
    if finished:
        session.execute(sa.update(Document).where(Document.id == ticket.document_id).values(status="refused"))
    session.commit()


def _finish(session: Session, ticket: Ticket, message: str, peak_memory_kb: int | None) -> bool:
    result = session.execute(
        sa.update(ImportJob)
        .where(_current(ticket))
        .values(
            state="finished",
            message=message,
            progress=None,
            lease_until=None,
            finished_at=utcnow(),
            peak_memory_kb=peak_memory_kb,
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def finish_stored(session: Session, ticket: Ticket, message: str, *, peak_memory_kb: int | None) -> bool:
    """Mark the attempt finished with its document stored, in the caller's transaction."""
    return _finish(session, ticket, message, peak_memory_kb)


def take_back_lapsed(session: Session, *, max_attempts: int, now: datetime | None = None) -> list[Ticket]:
    """Jobs whose process died with its server: back in line while attempts remain.

    Returns the attempts that have none left, for the caller to refuse.
    """
    now = now or utcnow()
    lapsed = session.execute(
        sa.select(ImportJob.id, ImportJob.document_id, ImportJob.attempts).where(
            ImportJob.state == "running", ImportJob.lease_until < now
        )
    ).all()
    session.rollback()
    exhausted = []
    for job_id, document_id, attempts in lapsed:
        if attempts >= max_attempts:
            exhausted.append(Ticket(job_id, document_id, attempts))
            continue
        session.execute(
            sa.update(ImportJob)
            .where(ImportJob.id == job_id, ImportJob.state == "running", ImportJob.lease_until < now)
            .values(state="waiting", lease_until=None, progress="Interrupted by a restart; waiting to be read again")
            .execution_options(synchronize_session=False)
        )
        session.commit()
    return exhausted


def put_back(session: Session, job_ids: Sequence[str]) -> None:
    """Queued jobs that no worker will ever see (their queue was lost) go back in line."""
    if job_ids:
        session.execute(
            sa.update(ImportJob)
            .where(ImportJob.id.in_(job_ids), ImportJob.state == "queued")
            .values(state="waiting")
            .execution_options(synchronize_session=False)
        )
    session.commit()


def queued_jobs(session: Session, *, older_than: datetime | None = None) -> list[tuple[str, int]]:
    """The queued jobs (with the attempts made so far), optionally only those queued before a moment."""
    statement = sa.select(ImportJob.id, ImportJob.attempts).where(ImportJob.state == "queued")
    if older_than is not None:
        statement = statement.where(ImportJob.created_at < older_than)
    rows = session.execute(statement).all()
    session.rollback()
    return [(row.id, row.attempts) for row in rows]


def attempts_of(session: Session, job_id: str) -> int:
    attempts = session.scalar(sa.select(ImportJob.attempts).where(ImportJob.id == job_id))
    session.rollback()
    return attempts or 0
