"""Cookies marked Secure whenever the request came over https (directly or through TRUSTED_PROXIES)."""

from __future__ import annotations

from flask import Flask, Response, current_app, request
from flask.sessions import SecureCookieSessionInterface
from flask_login import LoginManager


class SessionInterface(SecureCookieSessionInterface):
    """Marks the session cookie Secure whenever the request came over https."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure


class SecureLoginManager(LoginManager):
    """Marks the remember cookie Secure whenever the request came over https, like the session cookie."""

    def _set_cookie(self, response: Response) -> None:
        super()._set_cookie(response)
        if not request.is_secure:
            return
        name = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
        headers = response.headers.getlist("Set-Cookie")
        response.headers.remove("Set-Cookie")
        for header in headers:
            if header.startswith(f"{name}=") and "; Secure" not in header:
                header += "; Secure"
            response.headers.add("Set-Cookie", header)
