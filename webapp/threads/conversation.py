"""The thread page: the conversation, posting a message, and the reply's stream."""

from __future__ import annotations

from decimal import Decimal

from flask import Response, abort, current_app, flash, redirect, render_template, request, stream_with_context, url_for
from flask_login import current_user, login_required

from ..assistant.skills import all_skills
from ..chat import service as chat
from ..chat.branches import selected_branch
from ..chat.lease import held
from ..chat.sse import Checkpoint, StreamViews, relay
from ..chat.streams import StreamSlot
from ..chat.titles import title_due
from ..chat.usage import thread_totals
from ..extensions import db
from ..htmx import is_htmx
from ..models import Message, Thread
from ..ratelimits import chat_posts
from .access import get_owned_message_or_404, get_owned_or_404, get_thread_message_or_404
from .blueprint import bp
from .page import chat_documents, conversation_context, message_cost, message_marks, thread_page_context

PAGE_SIZE = 50

bp.add_app_template_global(message_cost)
bp.add_app_template_global(chat.CUT_LABELS, "cut_labels")


def chat_settings() -> chat.ChatSettings:
    config = current_app.config
    return chat.ChatSettings(
        registry=current_app.extensions["llm"],
        runner=current_app.extensions["chat.runner"],
        monthly_budget=Decimal(str(config["USER_MONTHLY_BUDGET_USD"])),
    )


@bp.get("/threads/<thread_id>")
@login_required
def show(thread_id: str) -> str:
    """Show a thread: the latest messages, the composer and the thread's details."""
    thread = get_owned_or_404(thread_id)
    settings = chat_settings()
    chat.purge_deleted(thread.id)
    chat.reconcile(thread)
    context = thread_page_context(
        thread, settings, before=request.args.get("before"), max_upload_mb=current_app.config["MAX_UPLOAD_MB"]
    )
    return render_template("threads/show.html", **context)


@bp.get("/threads/<thread_id>/documents-count")
@login_required
def documents_count(thread_id: str) -> str:
    """Show how many documents the chat's answers search (asked again after an upload)."""
    thread = get_owned_or_404(thread_id)
    return render_template("threads/_documents_count.html", thread=thread, document_count=len(chat_documents(thread)))


@bp.get("/threads/<thread_id>/earlier")
@login_required
def earlier(thread_id: str) -> str:
    """Show the messages before `before` (the "load earlier" button)."""
    thread = get_owned_or_404(thread_id)
    context = conversation_context(thread, before=request.args.get("before"), limit=PAGE_SIZE)
    return render_template("threads/_earlier.html", thread=thread, **context)


def _error_response(thread: Thread, error: chat.ChatError, draft: str) -> Response:
    if is_htmx():
        html = render_template("threads/_composer_error.html", message=error.message)
        response = Response(html, status=error.status)
        response.headers["HX-Retarget"] = "#composer-error"
        response.headers["HX-Reswap"] = "innerHTML"
        return response
    context = thread_page_context(thread, chat_settings(), max_upload_mb=current_app.config["MAX_UPLOAD_MB"])
    return Response(
        render_template("threads/show.html", composer_error=error.message, draft=draft, **context), status=error.status
    )


@bp.post("/threads/<thread_id>/messages")
@login_required
@chat_posts
def post_message(thread_id: str) -> Response:
    """Save the user's message and start the reply; answer with both bubbles at once."""
    thread = get_owned_or_404(thread_id)
    text = request.form.get("content", "")
    try:
        question, reply = chat.post_message(thread, text, chat_settings())
    except chat.ChatError as error:
        return _error_response(thread, error, text)
    if not is_htmx():
        return redirect(url_for("threads.show", thread_id=thread.id, _anchor=f"message-{reply.id}"), 303)
    return Response(render_template("threads/_exchange.html", thread=thread, messages=[question, reply]))


@bp.post("/threads/<thread_id>/messages/<message_id>/regenerate")
@login_required
@chat_posts
def regenerate(thread_id: str, message_id: str) -> Response:
    """Write a reply again as a new version beside it (also retries a failed or interrupted one)."""
    message = get_thread_message_or_404(thread_id, message_id)
    try:
        chat.regenerate(message, chat_settings())
    except chat.ChatError as error:
        return _error_response(message.thread, error, "")
    return _conversation_response(message.thread)


@bp.post("/threads/<thread_id>/messages/<message_id>/edit")
@login_required
@chat_posts
def edit_message(thread_id: str, message_id: str) -> Response:
    """Send a new version of one of the user's messages and answer it; the earlier one stays a version."""
    message = get_thread_message_or_404(thread_id, message_id)
    text = request.form.get("content", "")
    try:
        chat.edit(message, text, chat_settings())
    except chat.ChatError as error:
        return _error_response(message.thread, error, text)
    return _conversation_response(message.thread)


@bp.post("/threads/<thread_id>/messages/<message_id>/select")
@login_required
def select_version(thread_id: str, message_id: str) -> Response:
    """Show another version of a message, and the conversation that follows it."""
    message = get_thread_message_or_404(thread_id, message_id)
    try:
        chat.select_version(message)
    except chat.ChatError as error:
        abort(Response(error.message, status=error.status))
    return _conversation_response(message.thread, anchor=message.id)


def _conversation_response(thread: Thread, *, anchor: str | None = None) -> Response:
    if not is_htmx():
        return redirect(url_for("threads.show", thread_id=thread.id, _anchor=anchor and f"message-{anchor}"), 303)
    context = conversation_context(thread, limit=PAGE_SIZE)
    return Response(render_template("threads/_conversation.html", thread=thread, **context))


@bp.post("/messages/<message_id>/continue")
@login_required
def continue_reply(message_id: str) -> Response:
    """Ask the model to go on with a reply it cut at the length limit, in the same reply."""
    message = get_owned_message_or_404(message_id)
    try:
        chat.continue_reply(message, chat_settings())
    except chat.ChatError as error:
        return _error_response(message.thread, error, "")
    if not is_htmx():
        return redirect(url_for("threads.show", thread_id=message.thread_id, _anchor=f"message-{message.id}"), 303)
    return Response(_bubble(message))


@bp.post("/messages/<message_id>/stop")
@login_required
def stop(message_id: str) -> Response:
    """Ask the reply to stop; it keeps the text written so far."""
    message = get_owned_message_or_404(message_id)
    chat.request_stop(message, current_app.extensions["chat.broker"])
    if is_htmx():
        return Response(status=204)
    return redirect(url_for("threads.show", thread_id=message.thread_id), 303)


@bp.post("/messages/<message_id>/delete")
@login_required
def delete_message(message_id: str) -> Response:
    """Delete a message, with a short window to undo."""
    message = get_owned_message_or_404(message_id)
    try:
        chat.delete_message(message)
    except chat.ChatError as error:
        abort(Response(error.message, status=error.status))
    if is_htmx():
        return Response(render_template("threads/_deleted.html", message=message))
    flash("Message deleted.", "info")
    return redirect(url_for("threads.show", thread_id=message.thread_id), 303)


@bp.post("/messages/<message_id>/undo")
@login_required
def undo_delete(message_id: str) -> Response:
    """Bring back a message deleted moments ago."""
    message = get_owned_message_or_404(message_id)
    try:
        chat.undo_delete(message)
    except chat.ChatError as error:
        abort(Response(error.message, status=409))
    if is_htmx():
        return Response(_bubble(message))
    return redirect(url_for("threads.show", thread_id=message.thread_id, _anchor=f"message-{message.id}"), 303)


# How often, and how many times, a page asks for the title that a finished reply is making.
TITLE_POLL_SECONDS = 1
TITLE_POLLS = 10


def _bubble(message: Message, *, title_poll: bool = False, following: bool = False) -> str:
    """One message as the thread page shows it; `title_poll` asks for the new title in a moment.

    `following`: a streaming reply asks for itself again every FOLLOW_SECONDS instead of opening a stream.
    """
    thread = message.thread
    return render_template(
        "threads/_message.html",
        message=message,
        thread=thread,
        title_poll=title_poll,
        title_poll_delay=TITLE_POLL_SECONDS,
        following=following,
        follow_delay=FOLLOW_SECONDS,
        **message_marks(selected_branch(thread), [message]),
    )


# How often a reply whose stream was closed (past MAX_STREAMS_PER_USER) asks for itself.
FOLLOW_SECONDS = 1


def _ended_bubble(message: Message) -> str:
    """A reply that has ended, with the chat's totals (and the title poll, when it makes one)."""
    html = _bubble(message, title_poll=message.status == "complete" and title_due(message.thread))
    return html + render_template("threads/_totals.html", totals=thread_totals(message.thread_id), oob=True)


@bp.get("/messages/<message_id>")
@login_required
def show_message(message_id: str) -> str:
    """One message's bubble; a streaming reply's asks for itself again in a moment."""
    message = get_owned_message_or_404(message_id)
    if chat.is_orphaned(message):
        chat.mark_interrupted(message)
    if message.status == "streaming":
        return _bubble(message, following=True)
    return _ended_bubble(message)


def _stream_views(message_id: str) -> StreamViews:
    # Each view reads the reply afresh and gives the connection back at once: a stream lasts
    # minutes, and may outlive a database outage.
    def load() -> Message:
        db.session.expire_all()
        return db.session.get(Message, message_id)

    def final_bubble() -> str:
        try:
            return _ended_bubble(load())
        finally:
            db.session.close()

    def following_bubble() -> str:
        try:
            return _bubble(load(), following=True)
        finally:
            db.session.close()

    def checkpoint() -> Checkpoint:
        try:
            message = load()
            if chat.is_orphaned(message):
                chat.mark_interrupted(message)
            return Checkpoint(message.stream_seq, message.content, message.status == "streaming")
        finally:
            db.session.close()

    return StreamViews(
        final_bubble=final_bubble,
        following_bubble=following_bubble,
        activity=lambda text: render_template("threads/_activity.html", activity=text),
        replacement=lambda text: render_template("threads/_stream_text.html", text=text),
        checkpoint=checkpoint,
    )


def _resume_point() -> int:
    values = [request.args.get("after", ""), request.headers.get("Last-Event-ID", "")]
    return max((int(v) for v in values if v.isdigit()), default=0)


@bp.get("/messages/<message_id>/title")
@login_required
def title_update(message_id: str) -> str:
    """The thread's title for the page to show, asked for after a reply; again while it is being made."""
    message = get_owned_message_or_404(message_id)
    thread = message.thread
    polls = request.args.get("poll", "1")
    poll = int(polls) if polls.isdigit() else TITLE_POLLS
    # The reply's runner, in whichever process, holds its lease until the title is made.
    making = message.status != "streaming" and held(message.lease_until)
    return render_template(
        "threads/_title_update.html",
        thread=thread,
        message=message,
        totals=thread_totals(message.thread_id),
        next_poll=poll + 1 if making and poll < TITLE_POLLS else None,
        title_poll_delay=TITLE_POLL_SECONDS,
    )


@bp.get("/messages/<message_id>/stream")
@login_required
def stream(message_id: str) -> Response:
    """Stream a reply as Server-Sent Events, resuming after the last event the client has."""
    message = get_owned_message_or_404(message_id)
    after = _resume_point()
    views = _stream_views(message.id)
    slot = StreamSlot(current_app.extensions["chat.streams"], current_user.id)
    db.session.close()
    events = relay(current_app.extensions["chat.broker"], message_id, after, views, slot)
    response = Response(stream_with_context(events), mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Accel-Buffering"] = "no"
    return response


@bp.post("/threads/<thread_id>/settings")
@login_required
def update_settings(thread_id: str) -> Response:
    """Switch the chat's provider, model, mode or skill; the history carries over."""
    thread = get_owned_or_404(thread_id)
    form = request.form
    try:
        chat.change_settings(
            thread,
            provider=form.get("provider", thread.model_provider),
            model=form.get("model"),
            mode=form.get("mode") or None,
            skill=form.get("skill") or None,
            registry=current_app.extensions["llm"],
            skills=tuple(s.slug for s in all_skills()),
        )
    except chat.ChatError as error:
        flash(error.message, "error")
    else:
        flash("Chat settings saved.", "success")
    return redirect(url_for("threads.show", thread_id=thread.id), 303)
