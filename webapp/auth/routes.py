"""Register, log in and out."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from ..extensions import limiter
from . import service
from .audit import audit
from .blueprint import bp, login_limit, safe_next
from .forms import LoginForm, RegisterForm
from .session import sign_in, sign_out
from .sso import configured as sso_providers

# Re-exported: the app registers the blueprint from here.
__all__ = ["bp"]


def _local_login() -> bool:
    return bool(current_app.config["LOCAL_LOGIN"])


@bp.route("/register", methods=["GET", "POST"])
def register() -> str | Response:
    """Create an account, then send the user to log in to it."""
    if not current_app.config["ALLOW_REGISTRATION"] or not _local_login():
        return render_template("auth/registration_closed.html"), 403
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user = service.register(
                email=form.email.data,
                display_name=form.display_name.data,
                password=form.password.data,
                allowed_domains=current_app.config["ALLOWED_EMAIL_DOMAINS"],
            )
        except service.AccountError as error:
            getattr(form, error.field).errors.append(error.message)
        else:
            if user is not None:
                audit("account.created", user=user, detail="registered")
            # The same answer whether or not the email was taken, so the form tells nobody who is here.
            flash("Your account is ready. Log in to start.", "success")
            return redirect(url_for("auth.login", email=form.email.data.strip().lower()), 303)
    return render_template("auth/register.html", form=form), 422 if form.errors else 200


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    login_limit,
    methods=["POST"],
    deduct_when=lambda response: response.status_code != 303,
    error_message="Too many failed log-in attempts from your address. Wait a few minutes and try again.",
)
def login() -> str | Response:
    """Log in with email and password, or choose a single sign-on provider."""
    if current_user.is_authenticated:
        return redirect(safe_next(url_for("home.index")), 303)
    if request.method == "POST" and not _local_login():
        abort(404)
    form = LoginForm(email=request.args.get("email", "")[:254])
    if form.validate_on_submit():
        user = service.authenticate(form.email.data, form.password.data)
        if user is not None and user.is_active:
            sign_in(user, remember=form.remember.data)
            audit("login.succeeded", user=user, detail="password")
            return redirect(safe_next(url_for("home.index")), 303)
        audit(
            "login.failed",
            user=user,
            email=form.email.data.strip().lower(),
            detail="account disabled" if user else "wrong email or password",
        )
        form.form_errors.append(
            "This account is disabled. Ask your administrator." if user else "Wrong email or password."
        )
    return render_template(
        "auth/login.html", form=form, sso_providers=sso_providers().values(), local_login=_local_login()
    ), 422 if form.errors else 200


@bp.post("/logout")
def logout() -> Response:
    """Log out and go to the log-in page."""
    if current_user.is_authenticated:
        audit("logout")
    sign_out()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"), 303)
