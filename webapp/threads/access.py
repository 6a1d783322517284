"""Ownership checks for thread URLs: another user's id is a 404, never a 403."""

from __future__ import annotations

from flask import abort
from flask_login import current_user

from ..extensions import db
from ..models import Message, Project, Thread


def get_owned_or_404(thread_id: str) -> Thread:
    """Return the current user's thread, or abort with 404."""
    thread = db.session.get(Thread, thread_id)
    if thread is None or thread.user_id != current_user.id:
        abort(404)
    return thread


def get_owned_project_or_404(project_id: str) -> Project:
    """Return the current user's project, or abort with 404."""
    project = db.session.get(Project, project_id)
    if project is None or project.user_id != current_user.id:
        abort(404)
    return project


def get_owned_message_or_404(message_id: str) -> Message:
    """Return a message in one of the current user's threads, or abort with 404."""
    message = db.session.get(Message, message_id)
    if message is None or message.thread.user_id != current_user.id:
        abort(404)
    return message
