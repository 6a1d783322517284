"""The accounts blueprint; its views live in routes, links, settings_routes and sso_routes."""

from flask import Blueprint, current_app, request

from ..redirects import local_path
from .devices import device_name

bp = Blueprint("auth", __name__)
bp.add_app_template_filter(device_name)


def safe_next(default: str) -> str:
    """The `next` of the request when it is a path on this site, else `default`."""
    return local_path(request.values.get("next"), default)


def login_limit() -> str:
    return current_app.config["RATELIMIT_LOGIN"]
