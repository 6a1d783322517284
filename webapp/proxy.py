"""Serving behind reverse proxies: the client's own address, scheme and host; HSTS over https."""

from __future__ import annotations

from flask import Flask, Response, request
from werkzeug.middleware.proxy_fix import ProxyFix

HSTS = "max-age=31536000"


def _strict_transport_security(response: Response) -> Response:
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def init_proxy(app: Flask) -> None:
    """Trust the X-Forwarded-* headers of TRUSTED_PROXIES proxies in front of the app, and no others.

    Without it, every request seems to come from the proxy: one address for the log-in rate limit
    and the security log, and http for a site served over https.
    """
    proxies = app.config["TRUSTED_PROXIES"]
    if proxies > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)  # type: ignore[method-assign]
    app.after_request(_strict_transport_security)
