"""Account forms."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional

from ..models import THEMES
from .service import MIN_PASSWORD_LENGTH


def _new_password(label: str = "Password") -> PasswordField:
    return PasswordField(label, validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=256)])


def _email() -> EmailField:
    return EmailField("Email", validators=[DataRequired(), Email(check_deliverability=False), Length(max=254)])


class RegisterForm(FlaskForm):
    email = _email()
    display_name = StringField("Display name", validators=[DataRequired(), Length(max=80)])
    password = _new_password()
    confirm = PasswordField(
        "Repeat password", validators=[DataRequired(), EqualTo("password", "The passwords differ.")]
    )


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=256)])
    remember = BooleanField("Keep me logged in")


class ProfileForm(FlaskForm):
    display_name = StringField("Display name", validators=[DataRequired(), Length(max=80)])
    theme = SelectField("Theme", choices=[SelectChoice(theme, theme.title()) for theme in THEMES])
    default_provider = SelectField("Default provider for new chats", choices=[])
    timezone = StringField(
        "Time zone",
        validators=[Optional(), Length(max=64)],
        render_kw={"list": "timezone-names", "autocomplete": "off"},
    )


class PasswordForm(FlaskForm):
    # Not asked of a user who has no password yet (single sign-on only); the view drops it then.
    current_password = PasswordField("Current password", validators=[DataRequired(), Length(max=256)])
    new_password = _new_password("New password")
    confirm = PasswordField(
        "Repeat new password", validators=[DataRequired(), EqualTo("new_password", "The passwords differ.")]
    )


class ForgotForm(FlaskForm):
    email = _email()


class ResetForm(FlaskForm):
    password = _new_password("New password")
    confirm = PasswordField(
        "Repeat new password", validators=[DataRequired(), EqualTo("password", "The passwords differ.")]
    )


class AcceptInviteForm(ResetForm):
    display_name = StringField("Display name", validators=[DataRequired(), Length(max=80)])
    password = _new_password("Choose a password")
    confirm = PasswordField(
        "Repeat password", validators=[DataRequired(), EqualTo("password", "The passwords differ.")]
    )
