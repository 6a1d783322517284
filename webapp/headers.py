"""Security headers on every response."""

from __future__ import annotations

from collections.abc import Iterable

from flask import Flask, Response, current_app, request

# Scripts and styles come from our own files only: no inline <script>, no style="" attributes,
# no eval. Pages are never framed, and forms post only back to us, or on to a single sign-on
# provider (browsers hold a form's redirects to the same rule).
_POLICY = (
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
)


def content_security_policy(form_targets: Iterable[str] = ()) -> str:
    """The policy, with `form_targets` (origins) allowed to receive a form's redirect."""
    targets = " ".join(sorted(set(form_targets)))
    return "; ".join(f"{part} {targets}" if part == "form-action 'self'" and targets else part for part in _POLICY)


# Features the app never uses, refused to the page and to anything it could load.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "camera",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
    )
)
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": PERMISSIONS_POLICY,
    "Cross-Origin-Opener-Policy": "same-origin",
}
HSTS = "max-age=31536000; includeSubDomains"


def _add_security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", current_app.extensions["security.csp"])
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    # Only over https: sent over http it would be ignored, and it must not lock out a plain-http install.
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def init_security_headers(app: Flask, *, form_targets: Iterable[str] = ()) -> None:
    app.extensions["security.csp"] = content_security_policy(form_targets)
    app.after_request(_add_security_headers)
