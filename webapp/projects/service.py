"""Projects: create, list with their counts, edit and delete; independent of Flask's request globals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from ..extensions import db
from ..models import Document, Project, Thread

MAX_NAME_LENGTH = 120


class ProjectError(Exception):
    """A rule was broken; `field` names the form field it belongs to."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class ProjectSummary:
    project: Project
    document_count: int
    thread_count: int
    last_activity_at: datetime


def _document_counts(user_id: str) -> sa.Subquery:
    return (
        sa.select(Document.project_id, sa.func.count().label("documents"))
        .where(Document.user_id == user_id, Document.project_id.is_not(None))
        .group_by(Document.project_id)
        .subquery()
    )


def _thread_counts(user_id: str) -> sa.Subquery:
    return (
        sa.select(
            Thread.project_id,
            sa.func.count().label("threads"),
            sa.func.max(Thread.last_activity_at).label("last_thread_activity"),
        )
        .where(Thread.user_id == user_id, Thread.project_id.is_not(None))
        .group_by(Thread.project_id)
        .subquery()
    )


def list_projects(user_id: str) -> list[ProjectSummary]:
    """The user's projects with their counts, most recent activity (uploads or chats) first."""
    summaries = _summaries(user_id, Project.user_id == user_id)
    return sorted(summaries, key=lambda summary: summary.last_activity_at, reverse=True)


def summarize(project: Project) -> ProjectSummary:
    """One project's counts, for its own page."""
    [summary] = _summaries(project.user_id, Project.id == project.id)
    return summary


def _summaries(user_id: str, condition: sa.ColumnElement[bool]) -> list[ProjectSummary]:
    documents, threads = _document_counts(user_id), _thread_counts(user_id)
    rows = db.session.execute(
        sa.select(
            Project,
            sa.func.coalesce(documents.c.documents, 0),
            sa.func.coalesce(threads.c.threads, 0),
            threads.c.last_thread_activity,
        )
        .outerjoin(documents, documents.c.project_id == Project.id)
        .outerjoin(threads, threads.c.project_id == Project.id)
        .where(Project.user_id == user_id, condition)
    ).all()
    return [
        ProjectSummary(
            project, documents, threads, max(project.last_activity_at, last_thread or project.last_activity_at)
        )
        for project, documents, threads, last_thread in rows
    ]


def get_project(user_id: str, project_id: str) -> Project | None:
    return db.session.scalar(sa.select(Project).where(Project.id == project_id, Project.user_id == user_id))


def _clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ProjectError("name", "Give the project a name.")
    if len(name) > MAX_NAME_LENGTH:
        raise ProjectError("name", f"Keep the name under {MAX_NAME_LENGTH + 1} characters.")
    return name


def create_project(*, user_id: str, name: str, description: str = "", instructions: str = "") -> Project:
    """Create a project for the user."""
    project = Project(
        user_id=user_id, name=_clean_name(name), description=description.strip(), instructions=instructions.strip()
    )
    db.session.add(project)
    db.session.commit()
    return project


def update_project(project: Project, *, name: str, description: str, instructions: str) -> None:
    """Rename a project and change its description and instructions."""
    project.name = _clean_name(name)
    project.description = description.strip()
    project.instructions = instructions.strip()
    db.session.commit()


def delete_project(project: Project) -> None:
    """Delete a project with its documents; its chats stay, without a project."""
    db.session.delete(project)
    db.session.commit()
