"""Project forms."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from .service import MAX_NAME_LENGTH


class ProjectForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=MAX_NAME_LENGTH)])
    description = TextAreaField("Description", validators=[Length(max=5000)], render_kw={"rows": 3})
    instructions = TextAreaField(
        "Instructions for the assistant", validators=[Length(max=20000)], render_kw={"rows": 5}
    )
