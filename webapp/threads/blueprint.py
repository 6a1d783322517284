"""The threads blueprint, shared by the list views and the conversation views."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("threads", __name__)
