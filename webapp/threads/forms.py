"""Forms for starting, renaming and moving chats.

Choices are filled in by the views; the service checks the chosen values, so the
selects do not validate their own choices (a one-click form sends none of them).
"""

from __future__ import annotations

from collections.abc import Iterable

from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from .service import MODEL_MAX, TITLE_MAX

MODE_CHOICES = [
    SelectChoice("", "Choose later"),
    SelectChoice("meeting", "Meeting: prepare or run a stakeholder meeting"),
    SelectChoice("refinement", "Refinement: turn material into stories and criteria"),
]


def choices(pairs: Iterable[tuple[str, str]]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


class NewChatForm(FlaskForm):
    project_id = SelectField("Project", choices=[], validate_choice=False)
    title = StringField("Title", validators=[Optional(), Length(max=TITLE_MAX)])
    provider = SelectField("Provider", choices=[], validate_choice=False)
    model = StringField("Model", validators=[Optional(), Length(max=MODEL_MAX)])
    mode = SelectField("Mode", choices=MODE_CHOICES, validate_choice=False)


class RenameForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired("Enter a title."), Length(max=TITLE_MAX)])
    next = HiddenField()


class MoveForm(FlaskForm):
    project_id = SelectField(
        "Project", choices=[], validate_choice=False, validators=[DataRequired("Choose a project.")]
    )
    next = HiddenField()
