"""Security-log entries for the current request: who acted, and from which address."""

from __future__ import annotations

from flask import current_app, request
from flask_login import current_user

from .. import security_log
from ..models import User


def audit(event: str, *, user: User | None = None, email: str | None = None, detail: str = "") -> None:
    """Log `event` about `user` (the signed-in user when not given), done by whoever is signed in."""
    actor = current_user._get_current_object() if current_user.is_authenticated else None
    security_log.record(
        event,
        user=user or actor,
        email=email,
        actor=actor,
        ip=request.remote_addr,
        detail=detail,
        keep_days=current_app.config["SECURITY_LOG_DAYS"],
    )
