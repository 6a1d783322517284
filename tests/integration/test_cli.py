"""`flask users create` for scripted installs."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask

from webapp.extensions import db
from webapp.models import User


def test_users_create(app: Flask) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "create", "--email", "Ops@Example.com", "--name", "Ops", "--password", "a long password"])
    assert result.exit_code == 0, result.output
    assert "Created admin ops@example.com." in result.output
    again = runner.invoke(args=["users", "create", "--email", "ops@example.com", "--name", "Ops", "--password", "a long password"])
    assert again.exit_code == 1 and "already exists" in again.output
    short = runner.invoke(args=["users", "create", "--email", "x@example.com", "--name", "X", "--password", "short"])
    assert short.exit_code == 1 and "at least 10 characters" in short.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1
