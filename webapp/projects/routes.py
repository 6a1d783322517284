"""Project pages: the list, a project with its documents, chats and artifacts, edit and delete."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from ..artifacts import traceability
from ..artifacts.routes import backlog_download
from ..artifacts.service import project_artifacts
from ..auth.audit import audit
from ..documents import service as documents
from ..htmx import redirect_client, render, targets
from ..models import Project
from ..tasks import service as tasks
from ..threads import service as threads
from . import service
from .forms import ProjectForm

bp = Blueprint("projects", __name__, url_prefix="/projects")

TABS = ("documents", "chats", "tasks", "artifacts", "coverage")


@bp.before_request
@login_required
def _require_login() -> None:
    """Every project page is private."""


def get_owned_or_404(project_id: str) -> Project:
    project = service.get_project(current_user.id, project_id)
    if project is None:
        abort(404)
    return project


@bp.get("")
def index() -> Response:
    """List the user's projects, most recent activity first."""
    summaries = service.list_projects(current_user.id)
    return render("projects/index.html", "projects/_list.html", target="project-list", summaries=summaries)


@bp.get("/new")
def new() -> str:
    """Show the form for a new project."""
    return render_template("projects/new.html", form=ProjectForm())


@bp.post("")
def create() -> Response | tuple[str, int]:
    """Create a project and open it."""
    form = ProjectForm()
    if form.validate_on_submit():
        try:
            project = service.create_project(
                user_id=current_user.id,
                name=form.name.data,
                description=form.description.data or "",
                instructions=form.instructions.data or "",
            )
        except service.ProjectError as error:
            getattr(form, error.field).errors.append(error.message)
        else:
            flash(f"Project “{project.name}” created. Upload its documents below.", "success")
            return redirect(url_for("projects.show", project_id=project.id), 303)
    return render_template("projects/new.html", form=form), 422


@bp.get("/<project_id>")
def show(project_id: str) -> Response:
    """Show a project: its header and one tab (documents, chats or artifacts)."""
    project = get_owned_or_404(project_id)
    if targets("project-head"):
        return render("projects/show.html", "projects/_head.html", target="project-head", **_head_context(project))
    tab = request.args.get("tab", "documents")
    if tab not in TABS:
        abort(404)
    return render("projects/show.html", "projects/_tab.html", target="project-tab", **_page_context(project, tab))


def _head_context(project: Project) -> dict[str, object]:
    return {"project": project, "summary": service.summarize(project)}


def _page_context(project: Project, tab: str) -> dict[str, object]:
    context: dict[str, object] = {**_head_context(project), "tab": tab}
    if tab == "documents":
        context["documents"] = documents.list_documents(user_id=current_user.id, project_id=project.id)
        context["max_upload_mb"] = current_app.config["MAX_UPLOAD_MB"]
    elif tab == "chats":
        context["chat_sort"] = "newest"
        context["project_chats"] = threads.project_threads(current_user.id, project.id)
    elif tab == "tasks":
        context["task_page"] = tasks.list_tasks(current_user.id, tasks.TaskQuery(project_id=project.id))
        context["task_counts"] = tasks.counts(current_user.id, project.id)
        context["deleted"] = tasks.recently_deleted(current_user.id, project.id)
    elif tab == "coverage":
        page = request.args.get("page", 1, type=int)
        context["coverage"] = traceability.coverage(current_user.id, project.id, page=page)
    else:
        context["artifacts"] = project_artifacts(current_user.id, project.id)
    return context


def _project_backlog(project_id: str, kind: str) -> Response | tuple[str, int]:
    project = get_owned_or_404(project_id)
    items = traceability.project_items(current_user.id, project.id)
    return backlog_download(
        items,
        kind,
        name=project.name,
        scope=f"The project “{project.name}”",
        back_url=url_for("projects.show", project_id=project.id, tab="artifacts"),
        back_label=project.name,
    )


@bp.get("/<project_id>/export.jira.csv")
def export_jira(project_id: str) -> Response | tuple[str, int]:
    """Download the user stories of every artifact in the project as a CSV file for Jira's importer."""
    return _project_backlog(project_id, "jira")


@bp.get("/<project_id>/export.azure-devops.csv")
def export_azure(project_id: str) -> Response | tuple[str, int]:
    """Download the project's user stories as a CSV file for Azure DevOps' work item import."""
    return _project_backlog(project_id, "azure")


@bp.get("/<project_id>/traceability.xlsx")
def export_matrix(project_id: str) -> Response | tuple[str, int]:
    """Download the project's traceability matrix: requirement, story, criteria, source passage."""
    return _project_backlog(project_id, "matrix")


@bp.get("/<project_id>/edit")
def edit(project_id: str) -> Response:
    """Show the form to rename a project and change its description and instructions."""
    project = get_owned_or_404(project_id)
    form = ProjectForm(obj=project)
    return render("projects/edit.html", "projects/_edit_form.html", target="project-head", project=project, form=form)


@bp.post("/<project_id>/edit")
def update(project_id: str) -> Response:
    """Save a project's name, description and instructions."""
    project = get_owned_or_404(project_id)
    form = ProjectForm()
    if form.validate_on_submit():
        try:
            service.update_project(
                project,
                name=form.name.data,
                description=form.description.data or "",
                instructions=form.instructions.data or "",
            )
        except service.ProjectError as error:
            getattr(form, error.field).errors.append(error.message)
        else:
            if targets("project-head"):
                return render(
                    "projects/show.html", "projects/_head.html", target="project-head", **_head_context(project)
                )
            flash("Project saved.", "success")
            return redirect(url_for("projects.show", project_id=project.id), 303)
    return render(
        "projects/edit.html", "projects/_edit_form.html", target="project-head", status=422, project=project, form=form
    )


@bp.get("/<project_id>/delete")
def confirm_delete(project_id: str) -> str:
    """Ask before deleting a project, saying what happens to its documents and chats."""
    project = get_owned_or_404(project_id)
    return render_template("projects/delete.html", project=project, summary=service.summarize(project))


@bp.post("/<project_id>/delete")
def delete(project_id: str) -> Response:
    """Delete a project and its documents; its chats stay as chats without a project."""
    project = get_owned_or_404(project_id)
    name = project.name
    service.delete_project(project)
    audit("project.deleted", detail=name)
    if targets("project-list"):
        summaries = service.list_projects(current_user.id)
        return render("projects/index.html", "projects/_list.html", target="project-list", summaries=summaries)
    flash(f"Project “{name}” deleted.", "success")
    return redirect_client(url_for("projects.index"))
