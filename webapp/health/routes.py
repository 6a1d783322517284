"""`/healthz` and `/readyz`: cheap, unauthenticated, and saying nothing but yes or no."""

from __future__ import annotations

from flask import Blueprint, Flask, Response, current_app

from ..extensions import db
from . import checks

bp = Blueprint("health", __name__)


def _answer(ok: bool, word: str) -> Response:
    response = Response(f"{word if ok else 'not ' + word}\n", status=200 if ok else 503, mimetype="text/plain")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/healthz")
def alive() -> Response:
    """Say that the process is up and answering."""
    return _answer(True, "alive")


@bp.get("/readyz")
def ready() -> Response:
    """Say whether this process can serve users: its database answers, and Redis when configured."""
    redis = current_app.extensions.get("health.redis")
    ok = checks.database_answers(db.engine) and (redis is None or checks.redis_answers(redis))
    return _answer(ok, "ready")


def init_health(app: Flask) -> None:
    url = app.config["REDIS_URL"]
    app.extensions["health.redis"] = checks.redis_client(url) if url else None
    app.register_blueprint(bp)
