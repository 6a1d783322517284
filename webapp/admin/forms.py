"""Admin console forms."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, StringField
from wtforms.validators import DataRequired, Email, Length


class InviteForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Email(check_deliverability=False), Length(max=254)])
    display_name = StringField("Name", validators=[DataRequired(), Length(max=80)])
    is_admin = BooleanField("Make them an admin")


class BudgetForm(FlaskForm):
    budget = StringField(
        "Monthly budget (USD)", validators=[Length(max=20)], render_kw={"inputmode": "decimal", "autocomplete": "off"}
    )
