"""Home: where a user lands after logging in."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import login_required

bp = Blueprint("home", __name__)


@bp.get("/")
@login_required
def index() -> str:
    """Show the welcome page."""
    return render_template("home/index.html")
