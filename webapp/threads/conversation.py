"""The conversation page (a minimal stand-in until the real conversation view lands)."""

from __future__ import annotations

from flask import render_template
from flask_login import login_required

from .access import get_owned_or_404
from .blueprint import bp


@bp.get("/threads/<thread_id>")
@login_required
def show(thread_id: str) -> str:
    """Show a chat."""
    thread = get_owned_or_404(thread_id)
    return render_template("threads/show.html", thread=thread)
