"""Ownership checks for thread URLs: another user's id is a 404, never a 403."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort
from flask_login import current_user
from sqlalchemy.orm import contains_eager

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
    # One query for the message and its thread: the stream route runs this on the way to
    # the first token.
    message = db.session.scalar(
        sa.select(Message)
        .join(Message.thread)
        .options(contains_eager(Message.thread))
        .where(Message.id == message_id, Thread.user_id == current_user.id)
    )
    if message is None:
        abort(404)
    return message


def get_thread_message_or_404(thread_id: str, message_id: str) -> Message:
    """Return a message of the current user's thread `thread_id`, or abort with 404: an id from
    another thread (or another user's) never acts on anything."""
    message = get_owned_message_or_404(message_id)
    if message.thread_id != thread_id:
        abort(404)
    return message
