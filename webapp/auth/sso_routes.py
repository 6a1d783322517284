"""Single sign-on: leaving for the provider, and coming back to sign in or to link an account."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from ..redirects import local_path
from . import identities, sso
from .audit import audit
from .blueprint import bp, safe_next
from .session import sign_in


def _provider_or_404(name: str) -> sso.SsoProvider:
    provider = sso.configured().get(name)
    if provider is None:
        abort(404)
    return provider


def _failed(provider: sso.SsoProvider, error: sso.SsoFailure | identities.SsoRefused, *, back: str) -> Response:
    audit("sso.failed", detail=f"{provider.label}: {error.reason}")
    flash(error.message, "error")
    return redirect(back, 303)


@bp.get("/login/sso/<provider_name>")
def sso_start(provider_name: str) -> Response:
    """Leave for the provider's sign-in page."""
    provider = _provider_or_404(provider_name)
    next_url = safe_next(url_for("home.index"))
    if current_user.is_authenticated:
        return redirect(next_url, 303)
    try:
        return sso.start(provider, next_url=next_url)
    except sso.SsoFailure as error:
        return _failed(provider, error, back=url_for("auth.login", next=request.args.get("next")))


@bp.post("/settings/sign-in/<provider_name>/link")
@login_required
def sso_link(provider_name: str) -> Response:
    """Leave for the provider to add it as a way in to this account."""
    provider = _provider_or_404(provider_name)
    try:
        return sso.start(provider, next_url=url_for("auth.settings"), link_user_id=current_user.id)
    except sso.SsoFailure as error:
        return _failed(provider, error, back=url_for("auth.settings"))


@bp.get("/login/sso/<provider_name>/callback")
def sso_callback(provider_name: str) -> Response:
    """Come back from the provider: sign in, or link the account that signed in there."""
    provider = _provider_or_404(provider_name)
    linking = current_user.is_authenticated
    back = url_for("auth.settings") if linking else url_for("auth.login")
    try:
        flow = sso.take_flow(provider)
        claims = sso.finish(provider)
        if flow.get("link"):
            return _link(provider, claims, flow)
        return _sign_in(provider, claims, flow)
    except (sso.SsoFailure, identities.SsoRefused) as error:
        return _failed(provider, error, back=back)


def _sign_in(provider: sso.SsoProvider, claims: identities.SsoClaims, flow: dict) -> Response:
    if current_user.is_authenticated:
        raise identities.SsoRefused("already signed in", "You are already signed in.")
    user, created = identities.sign_in_user(
        claims,
        registration_open=current_app.config["ALLOW_REGISTRATION"],
        allowed_domains=current_app.config["ALLOWED_EMAIL_DOMAINS"],
    )
    sign_in(user, method=provider.name)
    if created:
        audit("account.created", user=user, detail=f"through {provider.label}")
    audit("login.succeeded", user=user, detail=provider.label)
    return redirect(local_path(flow.get("next"), url_for("home.index")), 303)


def _link(provider: sso.SsoProvider, claims: identities.SsoClaims, flow: dict) -> Response:
    if not current_user.is_authenticated or current_user.id != flow["link"]:
        raise identities.SsoRefused("linking user changed", "Sign in again, then link the account from Settings.")
    identity = identities.link(current_user, claims)
    audit("sso.linked", detail=f"{provider.label} {identity.email or identity.subject}")
    flash(f"{provider.label} account linked: you can sign in with it now.", "success")
    return redirect(url_for("auth.settings"), 303)
