"""One-time links: accepting an invitation, resetting a password, and asking for a reset by mail."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from ..extensions import limiter
from . import links, mail, service
from .audit import audit
from .blueprint import bp, login_limit
from .forms import AcceptInviteForm, ForgotForm, ResetForm
from .session import sign_in, sign_out_everywhere
from .sso import configured as sso_providers


def _link_page(template: str, status: int = 200, **context: object) -> tuple[str, int, dict[str, str]]:
    # The token is in the URL: keep it out of the Referer of anything the page links to.
    return render_template(template, **context), status, {"Referrer-Policy": "no-referrer"}


@bp.errorhandler(links.LinkError)
def link_error(error: links.LinkError) -> tuple[str, int, dict[str, str]]:
    """Say why a link cannot be used (unknown, used, expired)."""
    return _link_page("auth/link_error.html", error.status, message=error.message)


@bp.route("/invite/<token>", methods=["GET", "POST"])
def accept_invite(token: str) -> Response | tuple[str, int, dict[str, str]]:
    """Join through an invitation: choose a name and a password, or sign in with single sign-on."""
    link = links.open_link(token, "invite")
    form = AcceptInviteForm(display_name=link.user.display_name)
    if current_app.config["LOCAL_LOGIN"] and form.validate_on_submit():
        user = links.use(link, password=form.password.data, display_name=form.display_name.data)
        sign_out_everywhere(user)
        sign_in(user)
        audit("invite.accepted", user=user)
        flash(f"Welcome, {user.display_name}.", "success")
        return redirect(url_for("home.index"), 303)
    return _link_page(
        "auth/accept_invite.html",
        422 if form.errors else 200,
        form=form,
        invited=link.user,
        sso_providers=sso_providers().values(),
    )


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> Response | tuple[str, int, dict[str, str]]:
    """Choose a new password through a reset link; every other session of the account ends."""
    if not current_app.config["LOCAL_LOGIN"]:
        abort(404)
    link = links.open_link(token, "reset")
    form = ResetForm()
    if form.validate_on_submit():
        user = links.use(link, password=form.password.data)
        sign_out_everywhere(user)
        sign_in(user)
        audit("password.reset", user=user)
        flash("Your password is changed, and you are signed out everywhere else.", "success")
        return redirect(url_for("home.index"), 303)
    return _link_page("auth/reset_password.html", 422 if form.errors else 200, form=form, account=link.user)


@bp.route("/forgot", methods=["GET", "POST"])
@limiter.limit(login_limit, methods=["POST"])
def forgot_password() -> str | Response | tuple[str, int]:
    """Ask for a password reset link by mail; the answer is the same whether or not the email has an account."""
    settings = mail.settings_from(current_app.config)
    if settings is None or not current_app.config["LOCAL_LOGIN"]:
        abort(404)
    if current_user.is_authenticated:
        return redirect(url_for("auth.settings"), 303)
    form = ForgotForm()
    if form.validate_on_submit():
        _mail_reset_link(settings, form.email.data)
        flash(
            "If an account here uses that email, a link to choose a new password is on its way. It works for an hour.",
            "info",
        )
        return redirect(url_for("auth.login"), 303)
    return render_template("auth/forgot_password.html", form=form), 422 if form.errors else 200


def _mail_reset_link(settings: mail.MailSettings, email: str) -> None:
    user = service.find_by_email(email)
    if user is None or not user.is_active:
        return
    token = links.issue(user, "reset", by=None, valid_for=links.MAILED_RESET_VALID_FOR)
    address = current_app.config["PUBLIC_URL"].rstrip("/") + url_for("auth.reset_password", token=token)
    body = render_template("auth/mail/reset_password.txt", user=user, address=address)
    mail.send_later(
        settings, mail.compose(settings, to=user.email, subject="Choose a new BA Assistant password", body=body)
    )
    audit("password.reset_sent", user=user, detail="by mail")
