"""Document pages: upload, read, download, delete, and search with cited passages."""

from __future__ import annotations

import io

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user, login_required
from markupsafe import Markup
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from ..artifacts.traceability import citing_items
from ..htmx import is_htmx, redirect_client, render, targets
from ..models import Document, DocumentChunk
from ..ratelimits import uploads
from ..redirects import local_path
from . import service, tables
from .kinds import CONTENT_TYPES, KIND_LABELS, KINDS_BY_CONTENT_TYPE, TABULAR_KINDS
from .search import highlighted_passage, search_chunks

bp = Blueprint("documents", __name__)

# A page with more passages than this would stall the browser; the rest stays downloadable.
MAX_PASSAGES_SHOWN = 2000
# Told to the page after an upload or a delete, so counts elsewhere on it can refresh themselves.
DOCUMENTS_CHANGED = "documents-changed"


@bp.before_request
@login_required
def _require_login() -> None:
    """Every document page is private."""


def get_owned_or_404(document_id: str) -> Document:
    document = service.get_document(current_user.id, document_id)
    if document is None:
        abort(404)
    return document


@bp.app_template_filter("document_kind")
def document_kind(document: Document) -> str:
    return KIND_LABELS.get(KINDS_BY_CONTENT_TYPE.get(document.content_type, ""), "File")


@bp.app_template_filter("document_extent")
def document_extent(document: Document) -> str:
    """Say how long a document is: pages, or rows and sheets."""
    meta = document.meta or {}
    if "pages" in meta:
        return _plural(meta["pages"], "page")
    sheets = meta.get("sheets")
    if sheets:
        rows = _plural(sum(sheet.get("rows", 0) for sheet in sheets), "row")
        return f"{rows} in {_plural(len(sheets), 'sheet')}" if len(sheets) > 1 else rows
    return _plural(meta.get("chunks", 0), "passage")


def _plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def _incoming_files() -> list[service.IncomingFile]:
    uploads = request.files.getlist("files")
    return [service.IncomingFile(upload.filename or "", upload.stream) for upload in uploads if upload.filename]


@bp.post("/projects/<project_id>/documents")
@uploads
def upload_to_project(project_id: str) -> Response:
    """Store the uploaded files in a project and say what became of each."""
    if service.get_project(current_user.id, project_id) is None:
        abort(404)
    outcomes = service.upload_documents(user_id=current_user.id, files=_incoming_files(), project_id=project_id)
    back = _safe_next(url_for("projects.show", project_id=project_id))
    documents = service.list_documents(user_id=current_user.id, project_id=project_id)
    return _upload_response(outcomes, back, documents=documents)


@bp.post("/threads/<thread_id>/documents")
@uploads
def upload_to_thread(thread_id: str) -> Response:
    """Store the uploaded files in an assistant thread and say what became of each."""
    if service.get_assistant_thread(current_user.id, thread_id) is None:
        abort(404)
    outcomes = service.upload_documents(user_id=current_user.id, files=_incoming_files(), thread_id=thread_id)
    documents = service.list_documents(user_id=current_user.id, thread_id=thread_id)
    return _upload_response(outcomes, _safe_next(url_for("home.index")), documents=documents)


def _upload_response(outcomes: list[service.UploadOutcome], back: str, *, documents: list[Document]) -> Response:
    if targets("upload-results"):
        html = render_template(
            "documents/_upload_results.html", outcomes=outcomes, documents=documents, refresh_list=True
        )
        response = make_response(html, 200 if outcomes else 422)
        response.vary.add("HX-Target")
        response.headers["HX-Trigger"] = DOCUMENTS_CHANGED
        return response
    if not outcomes:
        flash("Choose at least one file to upload.", "error")
    for outcome in outcomes:
        category = {"received": "success", "stored": "success", "duplicate": "info", "error": "error"}[outcome.status]
        flash(f"{outcome.filename}: {outcome.message}", category)
    return redirect(back, 303)


def _safe_next(default: str) -> str:
    return local_path(request.form.get("next"), default)


@bp.errorhandler(RequestEntityTooLarge)
def too_large(error: RequestEntityTooLarge) -> tuple[str, int]:
    """Explain a refused upload in the page, with nothing stored."""
    limits = {
        "max_file_mb": current_app.config["MAX_UPLOAD_MB"],
        "max_request_mb": (current_app.config["MAX_CONTENT_LENGTH"] or 0) // (1024 * 1024),
    }
    template = "documents/_too_large.html" if is_htmx() else "documents/too_large.html"
    return render_template(template, **limits), 413


@bp.get("/threads/<thread_id>/documents")
def thread_documents(thread_id: str) -> Response:
    """List the documents of an assistant thread, as they are being read."""
    if service.get_assistant_thread(current_user.id, thread_id) is None:
        abort(404)
    documents = service.list_documents(user_id=current_user.id, thread_id=thread_id)
    return _list_response(documents)


@bp.get("/projects/<project_id>/documents")
def project_documents(project_id: str) -> Response:
    """List a project's documents as they are being read (the list refreshes itself with this)."""
    if service.get_project(current_user.id, project_id) is None:
        abort(404)
    if not targets("document-list"):
        return redirect(url_for("projects.show", project_id=project_id), 303)
    return _list_response(service.list_documents(user_id=current_user.id, project_id=project_id))


def _list_response(documents: list[Document]) -> Response:
    # The list names the documents it saw being read; once one of them is not, the page is told.
    waited_for = set(filter(None, request.args.get("processing", "").split(",")))
    response = make_response(render_template("documents/_list.html", documents=documents))
    still = {document.id for document in documents if document.status == "processing"}
    if waited_for - still:
        response.headers["HX-Trigger"] = DOCUMENTS_CHANGED
    return response


@bp.get("/documents/<document_id>/outcome")
def outcome(document_id: str) -> Response:
    """Say where an uploaded file is now, as its row among an upload's results (which asks again while it is read)."""
    document = get_owned_or_404(document_id)
    if not targets(f"outcome-{document.id}"):
        return redirect(url_for("documents.show", document_id=document.id), 303)
    result = service.outcome_of(document)
    response = make_response(render_template("documents/_outcome.html", outcome=result))
    if result.status != "received":
        response.headers["HX-Trigger"] = DOCUMENTS_CHANGED
    return response


@bp.get("/documents/<document_id>")
def show(document_id: str) -> str:
    """Show a document's extracted text, passage by passage, with the searched words marked in the opened one."""
    document = get_owned_or_404(document_id)
    kind = KINDS_BY_CONTENT_TYPE.get(document.content_type, "txt")
    context: dict[str, object] = {
        "document": document,
        "kind": kind,
        "max_passages": MAX_PASSAGES_SHOWN,
        "marked": {},
        "citations": citing_items(current_user.id, document.id),
    }
    if document.status != "stored":
        context["chunks"] = []
    elif kind in TABULAR_KINDS:
        context["sheets"] = service.sheet_views(document)
    else:
        context["chunks"] = chunks = service.get_chunks(document)
        context["marked"] = _marked_passage(chunks, request.args.get("q", ""), request.args.get("hit", 0, type=int))
    return render_template("documents/show.html", **context)


def _marked_passage(chunks: list[DocumentChunk], query: str, ordinal: int) -> dict[int, Markup]:
    """The opened passage's text with the searched words marked, keyed by its ordinal."""
    chunk = next((chunk for chunk in chunks if chunk.ordinal == ordinal), None) if query else None
    marked = highlighted_passage(chunk, query) if chunk is not None else None
    return {ordinal: marked} if marked is not None else {}


@bp.get("/documents/<document_id>/download")
def download(document_id: str) -> Response:
    """Send the file exactly as it was uploaded."""
    document = get_owned_or_404(document_id)
    response = send_file(
        io.BytesIO(document.original),
        mimetype=document.content_type,
        as_attachment=True,
        download_name=document.filename,
        etag=document.sha256,
        max_age=0,
    )
    # The original bytes keep their own encoding; say which, rather than Werkzeug's default UTF-8.
    encoding = (document.meta or {}).get("encoding")
    if document.content_type.startswith("text/"):
        response.headers["Content-Type"] = f"{document.content_type}; charset={encoding or 'utf-8'}"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/documents/<document_id>/table.<file_format>")
def download_table(document_id: str, file_format: str) -> Response:
    """Send a spreadsheet or CSV document's parsed table as CSV (one sheet) or XLSX (all sheets)."""
    document = get_owned_or_404(document_id)
    views = (
        service.sheet_views(document) if document.content_type in (CONTENT_TYPES["xlsx"], CONTENT_TYPES["csv"]) else []
    )
    if not views or file_format not in ("csv", "xlsx"):
        abort(404)
    stem = document.filename.rsplit(".", 1)[0] or "table"
    if file_format == "xlsx":
        data, mimetype = tables.to_xlsx(views), CONTENT_TYPES["xlsx"]
    else:
        index = request.args.get("sheet", 0, type=int)
        if not 0 <= index < len(views):
            abort(404)
        data, mimetype = tables.to_csv(views[index]), "text/csv"
        stem = f"{stem} - {views[index].name}" if len(views) > 1 and views[index].name else stem
    return send_file(
        io.BytesIO(data), mimetype=mimetype, as_attachment=True, download_name=f"{stem} (parsed).{file_format}"
    )


@bp.get("/documents/<document_id>/delete")
def confirm_delete(document_id: str) -> str:
    """Ask before deleting a document."""
    document = get_owned_or_404(document_id)
    return render_template("documents/delete.html", document=document)


@bp.post("/documents/<document_id>/delete")
def delete(document_id: str) -> Response:
    """Delete a document with its passages."""
    document = get_owned_or_404(document_id)
    name, project_id, thread_id = document.filename, document.project_id, document.thread_id
    service.delete_document(document)
    if targets("document-list"):
        documents = service.list_documents(user_id=current_user.id, project_id=project_id, thread_id=thread_id)
        response = make_response(render_template("documents/_list.html", documents=documents))
        response.headers["HX-Trigger"] = DOCUMENTS_CHANGED
        return response
    flash(f"“{name}” deleted.", "success")
    back = url_for("projects.show", project_id=project_id) if project_id else url_for("home.index")
    return redirect_client(back)


@bp.get("/search")
def search() -> Response:
    """Search the user's documents, in all projects or in one, and link each hit to its passage."""
    query = request.args.get("q", "").strip()
    project_id = request.args.get("project") or None
    project = service.get_project(current_user.id, project_id) if project_id else None
    if project_id and project is None:
        abort(404)
    hits = search_chunks(user_id=current_user.id, query=query, project_id=project_id, limit=30) if query else []
    return render(
        "documents/search.html",
        "documents/_search_results.html",
        target="search-results",
        query=query,
        project=project,
        hits=hits,
    )
