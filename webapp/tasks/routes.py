"""The Tasks pages: the list, inline add and edit, complete, delete and undo.

Each row action answers an HTMX request targeting the row (`task-<id>`) with the new row,
and a plain form post with a 303 back to the list it came from.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response

from ..htmx import render, targets
from ..models import Task
from ..redirects import local_path
from . import service
from .service import ProjectNotFound, TaskDeleted, TaskNotFound, TaskQuery, TaskValidationError, UndoExpired

bp = Blueprint("tasks", __name__, url_prefix="/tasks")


@bp.before_request
@login_required
def _require_login() -> None:
    """Every task page belongs to a logged-in user."""


def _back() -> str:
    """The list the form was sent from (a same-site path only), else the Tasks page."""
    return local_path(request.form.get("next") or request.args.get("next"), url_for("tasks.index"))


def _row_id(task_id: str) -> str:
    return f"task-{task_id}"


def _scope() -> str | None:
    """The project whose list the request came from (its counts are the ones shown)."""
    return request.form.get("scope") or None


def _fragment(template: str, *, status: int = 200, **context: Any) -> Response:
    context.setdefault("scope", _scope())
    response = current_app.make_response((render_template(template, next_url=_back(), **context), status))
    response.vary.add("HX-Target")
    return response


def _after_change(task: Task, message: str) -> Response:
    """The new row (and counts) for HTMX, or back to the list for a plain form."""
    if targets(_row_id(task.id)):
        return _fragment("tasks/_row_changed.html", task=task, counts=service.counts(current_user.id, _scope()))
    flash(message, "success")
    return redirect(_back(), 303)


@bp.errorhandler(TaskDeleted)
def _deleted(error: TaskDeleted) -> Response:
    if targets(_row_id(error.task_id)):
        return _fragment("tasks/_gone_row.html", task_id=error.task_id, message=error.message, status=409)
    flash(error.message, "error")
    return redirect(_back(), 303)


@bp.errorhandler(UndoExpired)
def _too_late(error: UndoExpired) -> Response:
    if targets(_row_id(error.task_id)):
        return _fragment("tasks/_gone_row.html", task_id=error.task_id, message=str(error), status=409)
    flash(str(error), "error")
    return redirect(_back(), 303)


@bp.errorhandler(TaskNotFound)
@bp.errorhandler(ProjectNotFound)
def _not_found(error: Exception) -> Any:
    return current_app.handle_http_exception(NotFound())


def _render_index(*, add_values: Any = None, add_errors: dict[str, str] | None = None, status: int = 200) -> Response:
    query = TaskQuery.from_args(request.args)
    board = service.task_board(current_user.id, query, page=request.args.get("page", 1, type=int))
    return render(
        "tasks/index.html",
        "tasks/_task_rows.html",
        target="task-more",
        status=status,
        board=board,
        task_page=board.tasks,
        query=query,
        scope=query.project_id,
        next_url=url_for("tasks.index", **query.args()),
        add_values=add_values or {},
        add_errors=add_errors or {},
    )


@bp.get("")
def index() -> Response:
    """List the user's tasks, filtered and sorted as the URL says, newest first by default."""
    return _render_index()


@bp.post("")
def create() -> Response:
    """Add a task from the inline form."""
    form = request.form
    try:
        task = service.create_task(
            current_user.id,
            title=form.get("title", ""),
            description=form.get("description", ""),
            due_date=form.get("due_date"),
            priority=form.get("priority") or "medium",
            project_id=form.get("project_id") or None,
        )
    except TaskValidationError as error:
        if targets("task-add"):
            return _fragment(
                "tasks/_add_form.html", values=form, errors=error.errors, project_id=form.get("project_id"), status=422
            )
        return _render_index(add_values=form, add_errors=error.errors, status=422)
    if targets("task-add"):
        return _fragment(
            "tasks/_task_added.html",
            task=task,
            project_id=task.project_id,
            counts=service.counts(current_user.id, form.get("project_id") or None),
        )
    flash("Task added.", "success")
    return redirect(_back(), 303)


@bp.get("/<task_id>")
def show(task_id: str) -> Response:
    """Show one task (its row, when HTMX asks for it back after an edit is cancelled)."""
    task = service.get_task(current_user.id, task_id)
    return render(
        "tasks/show.html",
        "tasks/_task_row.html",
        target=_row_id(task_id),
        task=task,
        next_url=_back(),
        scope=request.args.get("scope"),
    )


@bp.get("/<task_id>/edit")
def edit(task_id: str) -> Response:
    """Show the form that edits a task, in its row or as a page."""
    task = service.get_task(current_user.id, task_id)
    return _render_edit(task, values=None, errors={})


def _render_edit(task: Task, *, values: Any, errors: dict[str, str], status: int = 200) -> Response:
    return render(
        "tasks/edit.html",
        "tasks/_edit_row.html",
        target=_row_id(task.id),
        status=status,
        task=task,
        values=values,
        errors=errors,
        projects=service.project_choices(current_user.id),
        next_url=_back(),
        scope=request.values.get("scope"),
    )


@bp.post("/<task_id>")
def update(task_id: str) -> Response:
    """Save a task's title, description, due date, priority and project."""
    form = request.form
    try:
        task = service.update_task(
            current_user.id,
            task_id,
            title=form.get("title", ""),
            description=form.get("description", ""),
            due_date=form.get("due_date"),
            priority=form.get("priority", ""),
            project_id=form.get("project_id") or None,
        )
    except TaskValidationError as error:
        return _render_edit(service.get_task(current_user.id, task_id), values=form, errors=error.errors, status=422)
    return _after_change(task, "Task saved.")


@bp.post("/<task_id>/complete")
def complete(task_id: str) -> Response:
    """Mark a task done."""
    return _after_change(service.complete_task(current_user.id, task_id), "Task completed.")


@bp.post("/<task_id>/reopen")
def reopen(task_id: str) -> Response:
    """Mark a done task pending again."""
    return _after_change(service.reopen_task(current_user.id, task_id), "Task reopened.")


@bp.get("/<task_id>/delete")
def confirm_delete(task_id: str) -> str:
    """Ask before deleting a task (the page for browsers without JavaScript)."""
    task = service.get_task(current_user.id, task_id)
    return render_template("tasks/delete.html", task=task, next_url=_back())


@bp.post("/<task_id>/delete")
def delete(task_id: str) -> Response:
    """Delete a task; for a minute it can be brought back."""
    task = service.delete_task(current_user.id, task_id)
    if targets(_row_id(task_id)):
        return _fragment("tasks/_deleted_row.html", task=task, counts=service.counts(current_user.id, _scope()))
    flash("Task deleted.", "success")
    return redirect(_back(), 303)


@bp.post("/<task_id>/restore")
def restore(task_id: str) -> Response:
    """Bring back a task deleted a moment ago."""
    return _after_change(service.restore_task(current_user.id, task_id), "Task restored.")
