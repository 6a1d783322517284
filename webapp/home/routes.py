"""Home: where a user lands after logging in."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template
from flask_login import current_user, login_required

from ..threads import service as threads

bp = Blueprint("home", __name__)

RECENT_CHATS = 5


@bp.get("/")
@login_required
def index() -> str:
    """Show the welcome page: a new chat, recent projects and chats, or a first-run guide."""
    return render_template(
        "home/index.html",
        projects=threads.recent_projects(current_user.id),
        chats=threads.recent_threads(current_user.id, limit=RECENT_CHATS),
        has_model=current_app.extensions["llm"].has_model(),
    )
