"""Personal settings: profile, password, signed-in devices and single sign-on links."""

from __future__ import annotations

from decimal import Decimal

from flask import abort, current_app, flash, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from .. import timezones
from ..chat.usage import month_usage
from ..htmx import redirect_client, render
from . import identities, login_sessions, service
from .audit import audit
from .blueprint import bp
from .forms import PasswordForm, ProfileForm
from .session import current_token, renew, sign_out_everywhere
from .sso import configured as sso_providers


def _provider_choices() -> list[SelectChoice]:
    registry = current_app.extensions["llm"]
    return [SelectChoice("", "Server default")] + [
        SelectChoice(info.name, info.display_name) for info in registry.available()
    ]


def _profile_form(*, posted: bool = False) -> ProfileForm:
    profile = (
        ProfileForm() if posted else ProfileForm(obj=current_user, default_provider=current_user.default_provider or "")
    )
    profile.default_provider.choices = _provider_choices()
    return profile


def _password_form() -> PasswordForm:
    form = PasswordForm()
    if not current_user.has_password:
        del form.current_password
    return form


@bp.route("/settings", methods=["GET"])
@login_required
def settings() -> Response:
    """Show the user's settings."""
    return _render_settings(profile=_profile_form(), password=_password_form())


def _render_settings(*, profile: ProfileForm, password: PasswordForm, status: int = 200) -> Response:
    registry = current_app.extensions["llm"]
    budget = current_user.monthly_budget(Decimal(str(current_app.config["USER_MONTHLY_BUDGET_USD"])))
    providers = sso_providers()
    return render(
        "auth/settings.html",
        "auth/_settings_forms.html",
        target="settings-forms",
        status=status,
        profile=profile,
        password=password,
        providers=registry.describe(),
        usage=month_usage(current_user, budget),
        timezone_names=sorted(timezones.all_names()),
        local_login=current_app.config["LOCAL_LOGIN"],
        sso_providers=providers,
        identities=identities.of_user(current_user),
        devices=login_sessions.of_user(current_user),
        current_token=current_token(),
        is_current=login_sessions.is_current,
    )


@bp.post("/settings/profile")
@login_required
def update_profile() -> Response:
    """Save display name, theme and default provider."""
    profile = _profile_form(posted=True)
    if profile.validate_on_submit():
        try:
            service.update_profile(
                current_user,
                display_name=profile.display_name.data,
                theme=profile.theme.data,
                default_provider=profile.default_provider.data,
                timezone=profile.timezone.data,
            )
        except service.AccountError as error:
            getattr(profile, error.field).errors.append(error.message)
        else:
            flash("Settings saved.", "success")
            # A whole page, so the new theme and the flash show (a swapped fragment has neither).
            return redirect_client(url_for("auth.settings"))
    return _render_settings(profile=profile, password=_password_form(), status=422)


@bp.post("/settings/timezone")
@login_required
def detect_timezone() -> Response:
    """The browser's time zone, sent once for a user who has not set one."""
    taken = service.detected_timezone(current_user, request.form.get("timezone", ""))
    return Response(status=204 if taken else 409)


@bp.post("/settings/password")
@login_required
def change_password() -> Response:
    """Change (or first set) the password; every other session of the account ends."""
    if not current_app.config["LOCAL_LOGIN"]:
        abort(404)
    password = _password_form()
    if password.validate_on_submit():
        current = password.current_password.data if "current_password" in password else ""
        user = current_user._get_current_object()
        try:
            service.change_password(user, current=current, new=password.new_password.data)
        except service.AccountError as error:
            getattr(password, error.field).errors.append(error.message)
        else:
            renew(user)
            audit("password.changed")
            flash("Password changed. You are signed out on your other devices.", "success")
            return redirect_client(url_for("auth.settings"))
    return _render_settings(profile=_profile_form(), password=password, status=422)


@bp.post("/settings/sessions/end-all")
@login_required
def end_all_sessions() -> Response:
    """Sign out of every device, this one included."""
    user = current_user._get_current_object()
    audit("sessions.ended", detail="by the user")
    sign_out_everywhere(user)
    flash("You are signed out on every device.", "info")
    return redirect_client(url_for("auth.login"))


@bp.post("/settings/sessions/<session_id>/end")
@login_required
def end_session(session_id: str) -> Response:
    """Sign out one other device."""
    if not login_sessions.end_by_id(current_user, session_id):
        abort(404)
    audit("sessions.ended", detail="one other device")
    flash("That device is signed out.", "info")
    return redirect_client(url_for("auth.settings"))


@bp.post("/settings/sign-in/<identity_id>/unlink")
@login_required
def unlink_identity(identity_id: str) -> Response:
    """Remove a single sign-on account from the ways in, never the last one."""
    try:
        identity = identities.unlink(
            current_user, identity_id, password_counts=current_app.config["LOCAL_LOGIN"], providers=set(sso_providers())
        )
    except service.AccountError as error:
        flash(error.message, "error")
        return redirect_client(url_for("auth.settings"))
    if identity is None:
        abort(404)
    label = sso_providers()[identity.provider].label if identity.provider in sso_providers() else identity.provider
    audit("sso.unlinked", detail=f"{label} {identity.email or identity.subject}")
    flash(f"{label} account unlinked.", "success")
    return redirect_client(url_for("auth.settings"))
