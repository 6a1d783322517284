"""Register, log in, log out, and personal settings."""

from __future__ import annotations

from decimal import Decimal

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from .. import timezones
from ..chat.usage import month_usage
from ..extensions import limiter
from ..redirects import local_path
from ..htmx import redirect_client, render
from . import service
from .forms import LoginForm, PasswordForm, ProfileForm, RegisterForm

bp = Blueprint("auth", __name__)


def _safe_next(default: str) -> str:
    return local_path(request.args.get("next"), default)


def _login_limit() -> str:
    return current_app.config["RATELIMIT_LOGIN"]


@bp.route("/register", methods=["GET", "POST"])
def register() -> str | Response:
    """Create an account and log in to it."""
    if not current_app.config["ALLOW_REGISTRATION"]:
        return render_template("auth/registration_closed.html"), 403
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user = service.create_user(
                email=form.email.data, display_name=form.display_name.data, password=form.password.data
            )
        except service.AccountError as error:
            getattr(form, error.field).errors.append(error.message)
        else:
            login_user(user)
            flash(f"Welcome, {user.display_name}.", "success")
            return redirect(url_for("home.index"), 303)
    return render_template("auth/register.html", form=form), 422 if form.errors else 200


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], deduct_when=lambda response: response.status_code != 303,
               error_message="Too many failed log-in attempts from your address. Wait a few minutes and try again.")
def login() -> str | Response:
    """Log in with email and password."""
    if current_user.is_authenticated:
        return redirect(_safe_next(url_for("home.index")), 303)
    form = LoginForm()
    if form.validate_on_submit():
        user = service.authenticate(form.email.data, form.password.data)
        if user is not None:
            login_user(user, remember=form.remember.data)
            return redirect(_safe_next(url_for("home.index")), 303)
        form.form_errors.append("Wrong email or password.")
    return render_template("auth/login.html", form=form), 422 if form.errors else 200


@bp.post("/logout")
def logout() -> Response:
    """Log out and go to the log-in page."""
    logout_user()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"), 303)


def _provider_choices() -> list[SelectChoice]:
    registry = current_app.extensions["llm"]
    return [SelectChoice("", "Server default")] + [
        SelectChoice(info.name, info.display_name) for info in registry.available()]


@bp.route("/settings", methods=["GET"])
@login_required
def settings() -> str:
    """Show the user's settings."""
    profile = ProfileForm(obj=current_user, default_provider=current_user.default_provider or "")
    profile.default_provider.choices = _provider_choices()
    return _render_settings(profile=profile, password=PasswordForm())


def _render_settings(*, profile: ProfileForm, password: PasswordForm, status: int = 200) -> Response:
    registry = current_app.extensions["llm"]
    budget = Decimal(str(current_app.config["USER_MONTHLY_BUDGET_USD"]))
    return render(
        "auth/settings.html", "auth/_settings_forms.html", target="settings-forms", status=status,
        profile=profile, password=password, providers=registry.describe(),
        usage=month_usage(current_user, budget), timezone_names=sorted(timezones.all_names()),
    )


@bp.post("/settings/profile")
@login_required
def update_profile() -> Response:
    """Save display name, theme and default provider."""
    profile = ProfileForm()
    profile.default_provider.choices = _provider_choices()
    if profile.validate_on_submit():
        try:
            service.update_profile(
                current_user, display_name=profile.display_name.data, theme=profile.theme.data,
                default_provider=profile.default_provider.data, timezone=profile.timezone.data,
            )
        except service.AccountError as error:
            getattr(profile, error.field).errors.append(error.message)
        else:
            flash("Settings saved.", "success")
            # A whole page, so the new theme and the flash show (a swapped fragment has neither).
            return redirect_client(url_for("auth.settings"))
    return _render_settings(profile=profile, password=PasswordForm(), status=422)


@bp.post("/settings/timezone")
@login_required
def detect_timezone() -> Response:
    """The browser's time zone, sent once for a user who has not set one."""
    taken = service.detected_timezone(current_user, request.form.get("timezone", ""))
    return Response(status=204 if taken else 409)


@bp.post("/settings/password")
@login_required
def change_password() -> Response:
    """Change the password after checking the current one."""
    password = PasswordForm()
    if password.validate_on_submit():
        try:
            service.change_password(
                current_user, current=password.current_password.data, new=password.new_password.data
            )
        except service.AccountError as error:
            getattr(password, error.field).errors.append(error.message)
        else:
            flash("Password changed.", "success")
            return redirect_client(url_for("auth.settings"))
    profile = ProfileForm(obj=current_user, default_provider=current_user.default_provider or "")
    profile.default_provider.choices = _provider_choices()
    return _render_settings(profile=profile, password=password, status=422)
