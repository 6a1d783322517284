"""Artifact pages: the list, one version with its history and changes, exports, delete."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from flask import Blueprint, abort, flash, make_response, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from ..htmx import redirect_client, render
from ..models import Artifact, ArtifactItem
from . import export, matrix, service, traceability, trackers
from .backlog import Backlog, NothingToExport, backlog, slug
from .items import KIND_LABELS, PRIORITY_LABELS, STATUS_LABELS

bp = Blueprint("artifacts", __name__, url_prefix="/artifacts")


@bp.before_request
@login_required
def _require_login() -> None:
    """Every artifact page belongs to a logged-in user."""


@bp.app_template_filter("artifact_type")
def artifact_type_label(artifact_type: str) -> str:
    """The readable name of an artifact type, e.g. "User stories"."""
    return service.TYPE_LABELS.get(artifact_type, artifact_type)


@bp.app_template_filter("item_kind")
def item_kind_label(kind: str) -> str:
    """ "User story" or "Requirement"."""
    return KIND_LABELS.get(kind, kind)


@bp.app_template_filter("item_priority")
def item_priority_label(priority: str) -> str:
    """The MoSCoW name of a priority, e.g. "Must have"."""
    return PRIORITY_LABELS.get(priority, priority)


@bp.app_template_filter("item_status")
def item_status_label(status: str) -> str:
    """The readable name of an item's status, e.g. "In review"."""
    return STATUS_LABELS.get(status, status)


@bp.context_processor
def _item_choices() -> dict[str, object]:
    """The choices of the item forms, for every artifact page."""
    return {"priority_labels": PRIORITY_LABELS, "status_labels": STATUS_LABELS}


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
    return render(
        "artifacts/index.html",
        "artifacts/_library.html",
        target="artifact-library",
        library=found,
        type_labels=service.TYPE_LABELS,
    )


@bp.get("/<artifact_id>")
def show(artifact_id: str) -> str:
    """Show one version of an artifact, with its version history and exports."""
    page = service.artifact_page(get_owned_or_404(artifact_id))
    return render_template(
        "artifacts/show.html",
        page=page,
        artifact=page.artifact,
        findings=traceability.findings(page.artifact),
        values={},
        errors={},
        error_names=[],
    )


@bp.get("/<artifact_id>/changes")
def changes(artifact_id: str) -> str:
    """Show what changed in a version since the version before it."""
    found = service.changes(get_owned_or_404(artifact_id))
    return render_template("artifacts/changes.html", changes=found, page=found.page, artifact=found.page.artifact)


def _download(artifact_id: str, extension: str, build: Callable[[Artifact], bytes]) -> Response:
    artifact = get_owned_or_404(artifact_id)
    return send_export(build(artifact), export.filename(artifact, extension), export.MIMETYPES[extension])


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


def send_export(data: bytes, filename: str, mimetype: str) -> Response:
    """An export as a download that no shared cache keeps."""
    response = make_response(data)
    response.content_type = mimetype
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def nothing_to_export(reason: str, back_url: str, back_label: str) -> tuple[str, int]:
    """Say why there is no file, instead of sending an empty one."""
    return render_template(
        "artifacts/nothing_to_export.html", reason=reason, back_url=back_url, back_label=back_label
    ), 409


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Each export: the file name's ending, its type, what the backlog needs to have, and the writer.
BACKLOG_EXPORTS: dict[str, tuple[str, str, str, Callable[[Backlog, str], bytes]]] = {
    "jira": ("jira.csv", "text/csv; charset=utf-8", "stories", lambda found, name: trackers.jira_csv(found)),
    "azure": ("azure-devops.csv", "text/csv; charset=utf-8", "stories", lambda found, name: trackers.azure_csv(found)),
    "matrix": ("traceability.xlsx", XLSX, "items", matrix.matrix_xlsx),
}


def backlog_download(
    items: Sequence[ArtifactItem], kind: str, *, name: str, scope: str, back_url: str, back_label: str
) -> Response | tuple[str, int]:
    """One of the backlog exports (Jira, Azure DevOps, matrix) of `items`, or why there is none."""
    suffix, mimetype, need, build = BACKLOG_EXPORTS[kind]
    try:
        found = backlog(items, need=need, scope=scope)
    except NothingToExport as reason:
        return nothing_to_export(str(reason), back_url, back_label)
    return send_export(build(found, name), f"{slug(name)}-{suffix}", mimetype)


def _artifact_backlog(artifact_id: str, kind: str) -> Response | tuple[str, int]:
    artifact = get_owned_or_404(artifact_id)
    return backlog_download(
        artifact.items,
        kind,
        name=artifact.title,
        scope=f"“{artifact.title}”",
        back_url=url_for("artifacts.show", artifact_id=artifact.id),
        back_label=artifact.title,
    )


@bp.get("/<artifact_id>/export.jira.csv")
def export_jira(artifact_id: str) -> Response | tuple[str, int]:
    """Download a version's user stories as a CSV file for Jira's importer."""
    return _artifact_backlog(artifact_id, "jira")


@bp.get("/<artifact_id>/export.azure-devops.csv")
def export_azure(artifact_id: str) -> Response | tuple[str, int]:
    """Download a version's user stories as a CSV file for Azure DevOps' work item import."""
    return _artifact_backlog(artifact_id, "azure")


@bp.get("/<artifact_id>/traceability.xlsx")
def export_matrix(artifact_id: str) -> Response | tuple[str, int]:
    """Download a version's traceability matrix as a workbook."""
    return _artifact_backlog(artifact_id, "matrix")


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
