"""Chat lists, starting chats, renaming, moving, deleting, search and export."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, make_response, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from ..auth.audit import audit
from ..chat.branches import selected_path
from ..htmx import redirect_client, render, targets
from ..llm.registry import UnknownProvider
from ..models import Thread, utcnow
from ..redirects import local_path
from . import export, service
from .access import get_owned_or_404, get_owned_project_or_404
from .blueprint import bp
from .forms import MoveForm, NewChatForm, RenameForm, choices
from .search import search_chats

LIST_ENDPOINTS = {"ba_assistant": "threads.chats", "assistant": "threads.assistant"}
SIDEBAR_CHATS = 10


@bp.app_template_global()
def recent_chats() -> list[Any]:
    """The signed-in user's latest chats, for the sidebar."""
    return service.sidebar_chats(current_user.id, limit=SIDEBAR_CHATS) if current_user.is_authenticated else []


# Lists


@bp.get("/chats")
@login_required
def chats() -> Response:
    """List the user's BA chats across projects, most recently active first."""
    filters = _list_filters()
    if filters.project and filters.project != service.NO_PROJECT:
        get_owned_project_or_404(filters.project)
    projects = service.project_options(current_user.id)
    return _render_list(
        "threads/chats.html", "ba_assistant", filters, projects=projects, form=_new_chat_form(projects=projects)
    )


@bp.get("/assistant")
@login_required
def assistant() -> Response:
    """List the user's assistant chats, most recently active first."""
    return _render_list("threads/assistant.html", "assistant", _list_filters(project=False))


@bp.get("/projects/<project_id>/chats")
@login_required
def project_chats(project_id: str) -> Response:
    """List a project's chats, newest, oldest or by title."""
    project = get_owned_project_or_404(project_id)
    sort = request.args.get("sort", "newest")
    sort = sort if sort in service.PROJECT_SORTS else "newest"
    return render(
        "threads/project_chats.html",
        "threads/_project_chats.html",
        target="project-chats",
        project=project,
        chat_sort=sort,
        project_chats=service.project_threads(current_user.id, project.id, sort=sort),
    )


def _render_list(page: str, thread_type: str, filters: service.ListFilters, **context: Any) -> Response:
    after = _cursor()
    result = service.list_threads(current_user.id, thread_type=thread_type, filters=filters, after=after)
    # "Load more" asks for just the next rows; typing in the filters asks for the whole list.
    more = targets("chat-more")
    return render(
        page,
        "threads/_thread_rows.html" if more else "threads/_thread_list.html",
        target="chat-more" if more else "chat-list",
        result=result,
        filters=filters,
        list_endpoint=LIST_ENDPOINTS[thread_type],
        back_url=request.full_path.rstrip("?"),
        used_providers=service.used_providers(current_user.id, thread_type=thread_type),
        **context,
    )


def _list_filters(*, project: bool = True) -> service.ListFilters:
    args = request.args
    return service.ListFilters(
        project=(args.get("project") or None) if project else None,
        provider=args.get("provider") or None,
        title=args.get("q", "")[: service.TITLE_MAX],
    )


def _cursor() -> service.Cursor | None:
    text = request.args.get("after")
    if not text:
        return None
    try:
        return service.Cursor.parse(text)
    except ValueError:
        abort(400)


# Starting chats


@bp.get("/chats/new")
@login_required
def new_chat() -> str:
    """Show the form for a BA chat with a title, provider, model and mode."""
    project_id = request.args.get("project_id", "")
    if project_id:
        get_owned_project_or_404(project_id)
    return render_template("threads/new.html", form=_new_chat_form(project_id))


@bp.post("/chats")
@login_required
def create_chat() -> Response:
    """Start a BA chat (from Home, Chats or a project page) and open it."""
    form = _new_chat_form()
    project = get_owned_project_or_404(form.project_id.data) if form.project_id.data else None
    if form.validate_on_submit():
        new = service.NewThread(
            project=project,
            title=form.title.data or "",
            provider=form.provider.data or "",
            model=form.model.data or "",
            mode=form.mode.data or "",
        )
        thread = _create(form, new)
        if thread is not None:
            return redirect_client(url_for("threads.show", thread_id=thread.id))
    return render("threads/new.html", "threads/_new_chat_form.html", target="new-chat", status=422, form=form)


@bp.post("/assistant")
@login_required
def create_assistant_chat() -> Response:
    """Start an assistant chat in one click and open it."""
    thread = service.create_thread(current_user, service.NewThread(thread_type="assistant"), **_provider_settings())
    return redirect_client(url_for("threads.show", thread_id=thread.id))


@bp.get("/models")
@login_required
def model_options() -> str:
    """Suggest the models a provider offers, for the Model field (which also takes any other name)."""
    try:
        listing = current_app.extensions["llm.models"].models(request.args.get("provider", ""))
    except UnknownProvider:
        abort(404)
    return render_template("threads/_model_options.html", listing=listing)


def _create(form: NewChatForm, new: service.NewThread) -> Thread | None:
    try:
        return service.create_thread(current_user, new, **_provider_settings())
    except service.ThreadError as error:
        getattr(form, error.field).errors.append(error.message)
        return None


def _new_chat_form(project_id: str = "", *, projects: list[tuple[str, str]] | None = None) -> NewChatForm:
    providers = _provider_choices()
    default = service.choose_provider("", configured=[name for name, _ in providers], **_defaults())
    form = NewChatForm(project_id=project_id, provider=default)
    form.provider.choices = choices(providers)
    if projects is None:
        projects = service.project_options(current_user.id)
    form.project_id.choices = choices([("", "No project"), *projects])
    return form


def _provider_choices() -> list[tuple[str, str]]:
    return service.provider_choices(current_app.extensions["llm"])


def _defaults() -> dict[str, Any]:
    return {"user_default": current_user.default_provider, "fallback": current_app.config["DEFAULT_PROVIDER"]}


def _provider_settings() -> dict[str, Any]:
    configured = [name for name, _ in _provider_choices()]
    return {"configured": configured, "fallback_provider": current_app.config["DEFAULT_PROVIDER"]}


# Changing a chat from a list row: inline with HTMX, or on a page of its own


@bp.get("/threads/<thread_id>/row")
@login_required
def row(thread_id: str) -> Response:
    """Show a chat's list row again (cancelling an inline edit); elsewhere, open the chat."""
    thread = get_owned_or_404(thread_id)
    if not targets(_row_id(thread)):
        return redirect_client(url_for("threads.show", thread_id=thread.id))
    return _row_response(thread, request.args.get("next"))


@bp.get("/threads/<thread_id>/rename")
@login_required
def rename_form(thread_id: str) -> Response:
    """Show the rename form, in the chat's list row or as a page."""
    thread = get_owned_or_404(thread_id)
    form = RenameForm(title=thread.title or "", next=_safe_next(request.args.get("next"), thread))
    return render("threads/rename.html", "threads/_row_rename.html", target=_row_id(thread), thread=thread, form=form)


@bp.post("/threads/<thread_id>/rename")
@login_required
def rename(thread_id: str) -> Response:
    """Rename a chat; automatic titles no longer replace the user's."""
    thread = get_owned_or_404(thread_id)
    form = RenameForm()
    if form.validate_on_submit():
        try:
            service.rename_thread(thread, form.title.data)
        except service.ThreadError as error:
            form.title.errors.append(error.message)
        else:
            return _after_change(thread, form.next.data, "Chat renamed.")
    return render(
        "threads/rename.html",
        "threads/_row_rename.html",
        target=_row_id(thread),
        status=422,
        thread=thread,
        form=form,
    )


@bp.get("/threads/<thread_id>/move")
@login_required
def move_form(thread_id: str) -> Response:
    """Show the choice of project for a BA chat, in its list row or as a page."""
    thread = _owned_ba_chat(thread_id)
    form = MoveForm(project_id=thread.project_id or "", next=_safe_next(request.args.get("next"), thread))
    return _render_move(thread, form)


@bp.post("/threads/<thread_id>/move")
@login_required
def move(thread_id: str) -> Response:
    """Add a BA chat to a project, or move it to another one."""
    thread = _owned_ba_chat(thread_id)
    form = MoveForm()
    if form.validate_on_submit():
        project = get_owned_project_or_404(form.project_id.data)
        service.move_thread(thread, project)
        return _after_change(thread, form.next.data, f"Chat moved to {project.name}.")
    return _render_move(thread, form, status=422)


@bp.get("/threads/<thread_id>/delete")
@login_required
def confirm_delete(thread_id: str) -> str:
    """Ask before deleting a chat (the path without JavaScript)."""
    thread = get_owned_or_404(thread_id)
    return render_template("threads/delete.html", thread=thread, next=_safe_next(request.args.get("next"), thread))


@bp.post("/threads/<thread_id>/delete")
@login_required
def delete(thread_id: str) -> Response:
    """Delete a chat with its messages."""
    thread = get_owned_or_404(thread_id)
    in_row = targets(_row_id(thread))
    back = _safe_next(request.form.get("next"), thread)
    title = thread.title or "Untitled chat"
    service.delete_thread(thread)
    audit("thread.deleted", detail=title)
    if in_row:
        # The row asked with hx-swap="delete": it removes itself.
        return make_response("", 200)
    flash("Chat deleted.", "success")
    return redirect_client(back)


def _owned_ba_chat(thread_id: str) -> Thread:
    thread = get_owned_or_404(thread_id)
    if thread.thread_type != "ba_assistant":
        abort(404)
    return thread


def _render_move(thread: Thread, form: MoveForm, *, status: int = 200) -> Response:
    form.project_id.choices = choices(service.project_options(current_user.id))
    return render(
        "threads/move.html",
        "threads/_row_move.html",
        target=_row_id(thread),
        status=status,
        thread=thread,
        form=form,
    )


def _after_change(thread: Thread, next_url: str | None, message: str) -> Response:
    if targets(_row_id(thread)):
        return _row_response(thread, next_url)
    flash(message, "success")
    return redirect_client(_safe_next(next_url, thread))


def _row_response(thread: Thread, back_url: str | None) -> Response:
    html = render_template(
        "threads/_thread_row.html",
        row=service.thread_row(thread),
        back_url=back_url,
    )
    response = make_response(html)
    response.vary.add("HX-Target")
    return response


def _row_id(thread: Thread) -> str:
    return f"thread-{thread.id}"


def _safe_next(target: str | None, thread: Thread) -> str:
    """`target` if it is a path on this site, else the list the thread belongs to."""
    return local_path(target, url_for(LIST_ENDPOINTS[thread.thread_type]))


# Search and export


@bp.get("/chats/search")
@login_required
def search() -> Response:
    """Search the user's chats by title and by message text."""
    results = search_chats(current_user.id, request.args.get("q", ""))
    return render("threads/search.html", "threads/_search_results.html", target="search-results", results=results)


@bp.get("/threads/<thread_id>/export.md")
@login_required
def export_markdown(thread_id: str) -> Response:
    """Download a chat as Markdown."""
    thread = get_owned_or_404(thread_id)
    text = export.as_markdown(thread, selected_path(thread), project_name=_project_name(thread), now=utcnow())
    return _download(text, export.filename(thread, "md"), "text/markdown")


@bp.get("/threads/<thread_id>/export.json")
@login_required
def export_json(thread_id: str) -> Response:
    """Download a chat as JSON."""
    thread = get_owned_or_404(thread_id)
    text = export.as_json(thread, selected_path(thread), project_name=_project_name(thread), now=utcnow())
    return _download(text, export.filename(thread, "json"), "application/json")


def _project_name(thread: Thread) -> str | None:
    return thread.project.name if thread.project else None


def _download(text: str, filename: str, mimetype: str) -> Response:
    response = make_response(text)
    response.content_type = f"{mimetype}; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
