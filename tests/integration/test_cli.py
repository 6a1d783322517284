"""The command line: `flask users create` for scripted installs, and `flask db` beside the web server's app."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa
from flask import Flask

from webapp.extensions import db
from webapp.models import User


def test_users_create(app: Flask) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["users", "create", "--email", "Ops@Example.com", "--name", "Ops", "--password", "a long password"]
    )
    assert result.exit_code == 0, result.output
    assert "Created admin ops@example.com." in result.output
    again = runner.invoke(
        args=["users", "create", "--email", "ops@example.com", "--name", "Ops", "--password", "a long password"]
    )
    assert again.exit_code == 1 and "already exists" in again.output
    short = runner.invoke(args=["users", "create", "--email", "x@example.com", "--name", "X", "--password", "short"])
    assert short.exit_code == 1 and "at least 10 characters" in short.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1


def test_the_web_server_app_leaves_the_migration_tooling_out(tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}", "SECRET_KEY": "x" * 32}
    probe = (
        "import sys, webapp.wsgi; print(sorted({m.split('.')[0] for m in sys.modules} & {'alembic', 'flask_migrate'}))"
    )
    served = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=120)
    assert served.returncode == 0, served.stderr
    assert served.stdout.strip() == "[]"
    commands = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "webapp", "db", "--help"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert commands.returncode == 0 and "upgrade" in commands.stdout, commands.stderr


def test_the_web_server_keeps_what_it_loads_at_start_out_of_full_collections(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}",
        "SECRET_KEY": "x" * 32,
        "ANTHROPIC_API_KEY": "test-key",
    }
    probe = (
        "import gc, sys, threading, webapp.wsgi\n"
        "[t.join() for t in threading.enumerate() if t.name == 'gc-freeze']\n"
        "print('anthropic' in sys.modules, gc.get_freeze_count() > 100_000, len(gc.get_objects()) < 20_000)"
    )
    served = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=120)
    assert served.returncode == 0, served.stderr
    assert served.stdout.split()[-3:] == ["True", "True", "True"]
