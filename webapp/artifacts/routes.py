"""Artifact pages: the list, one version with its history and changes, exports, delete."""

from __future__ import annotations

from typing import Callable

from flask import Blueprint, abort, flash, make_response, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from ..htmx import redirect_client, render
from ..models import Artifact
from . import export, service

bp = Blueprint("artifacts", __name__, url_prefix="/artifacts")


@bp.before_request
@login_required
def _require_login() -> None:
    """Every artifact page belongs to a logged-in user."""


@bp.app_template_filter("artifact_type")
def artifact_type_label(artifact_type: str) -> str:
    """The readable name of an artifact type, e.g. "User stories"."""
    return service.TYPE_LABELS.get(artifact_type, artifact_type)


def get_owned_or_404(artifact_id: str) -> Artifact:
    """Return a version of one of the current user's artifacts, or abort with 404."""
    artifact = service.get_artifact(current_user.id, artifact_id)
    if artifact is None:
        abort(404)
    return artifact


@bp.get("")
def index() -> Response:
    """List the user's artifacts (newest version of each), most recently saved first."""
    filters = service.ArtifactFilters.parse(request.args.get("type"), request.args.get("project"))
    found = service.library(current_user.id, filters, page=request.args.get("page", 1, type=int))
    return render("artifacts/index.html", "artifacts/_library.html", target="artifact-library",
                  library=found, type_labels=service.TYPE_LABELS)


@bp.get("/<artifact_id>")
def show(artifact_id: str) -> str:
    """Show one version of an artifact, with its version history and exports."""
    page = service.artifact_page(get_owned_or_404(artifact_id))
    return render_template("artifacts/show.html", page=page, artifact=page.artifact)


@bp.get("/<artifact_id>/changes")
def changes(artifact_id: str) -> str:
    """Show what changed in a version since the version before it."""
    found = service.changes(get_owned_or_404(artifact_id))
    return render_template("artifacts/changes.html", changes=found, page=found.page, artifact=found.page.artifact)


def _download(artifact_id: str, extension: str, build: Callable[[Artifact], bytes]) -> Response:
    artifact = get_owned_or_404(artifact_id)
    response = make_response(build(artifact))
    response.content_type = export.MIMETYPES[extension]
    response.headers["Content-Disposition"] = f'attachment; filename="{export.filename(artifact, extension)}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/<artifact_id>/export.md")
def export_markdown(artifact_id: str) -> Response:
    """Download a version as its Markdown."""
    return _download(artifact_id, "md", export.as_markdown)


@bp.get("/<artifact_id>/export.docx")
def export_docx(artifact_id: str) -> Response:
    """Download a version as a Word document."""
    return _download(artifact_id, "docx", export.as_docx)


@bp.get("/<artifact_id>/export.pdf")
def export_pdf(artifact_id: str) -> Response:
    """Download a version as a PDF."""
    return _download(artifact_id, "pdf", export.as_pdf)


@bp.get("/<artifact_id>/delete")
def confirm_delete(artifact_id: str) -> str:
    """Ask before deleting an artifact and all its versions (the page without JavaScript)."""
    page = service.artifact_page(get_owned_or_404(artifact_id))
    return render_template("artifacts/delete.html", page=page, artifact=page.artifact)


@bp.post("/<artifact_id>/delete")
def delete(artifact_id: str) -> Response:
    """Delete an artifact with all its versions."""
    artifact = get_owned_or_404(artifact_id)
    title = artifact.title
    service.delete_artifact(artifact)
    flash(f"Artifact “{title}” deleted with all its versions.", "success")
    return redirect_client(url_for("artifacts.index"))
