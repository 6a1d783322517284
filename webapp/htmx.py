"""The one place that decides between a full page and an HTMX fragment."""

from __future__ import annotations

from typing import Any

from flask import Response, make_response, render_template, request


def targets(element_id: str | None = None) -> bool:
    """Whether the request asks for a fragment (for `element_id`, if given).

    The narrow HX-Target signal, not bare HX-Request: a boosted link or a history
    restore also sends HX-Request but needs the whole page.
    """
    if request.headers.get("HX-History-Restore-Request"):
        return False
    target = request.headers.get("HX-Target")
    if target is None:
        return False
    return element_id is None or target == element_id


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def render(page: str, fragment: str, /, *, target: str | None = None, status: int = 200, **context: Any) -> Response:
    """Render `fragment` when HTMX targets it, else the full `page`."""
    template = fragment if targets(target) else page
    response = make_response(render_template(template, **context), status)
    response.vary.add("HX-Target")
    return response


def redirect_client(location: str) -> Response:
    """Send HTMX (or the browser) to `location` as a full page load."""
    if is_htmx():
        response = make_response("", 204)
        response.headers["HX-Redirect"] = location
        return response
    response = make_response("", 303)
    response.headers["Location"] = location
    return response
