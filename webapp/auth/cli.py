"""`flask users …`: account management for scripted installs."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from .. import security_log
from ..extensions import db
from . import service

users_cli = AppGroup("users", help="Manage user accounts.")


@users_cli.command("create")
@click.option("--email", prompt=True, help="Log-in email address.")
@click.option("--name", "display_name", prompt="Display name", help="Name shown in the app.")
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    envvar="BA_USER_PASSWORD",
    help="At least 10 characters (or set BA_USER_PASSWORD).",
)
@click.option("--admin/--no-admin", default=None, help="Default: admin only for the first user.")
def create_user_command(email: str, display_name: str, password: str, admin: bool | None) -> None:
    """Create a user account."""
    try:
        user = service.create_user(email=email, display_name=display_name, password=password, is_admin=admin)
    except service.AccountError as error:
        raise click.ClickException(error.message) from error
    role = "admin" if user.is_admin else "user"
    click.echo(f"Created {role} {user.email}.")


@users_cli.command("promote")
@click.argument("email")
def promote_user_command(email: str) -> None:
    """Make the user with EMAIL an admin."""
    user = service.find_by_email(email)
    if user is None:
        raise click.ClickException(f"No user has the email {email.strip().lower()}.")
    if user.is_admin:
        click.echo(f"{user.email} is already an admin.")
        return
    user.is_admin = True
    db.session.commit()
    security_log.record("admin.promoted", user=user, detail="from the command line")
    click.echo(f"{user.email} is now an admin.")
