"""`flask users …`: account management for scripted installs."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from . import service

users_cli = AppGroup("users", help="Manage user accounts.")


@users_cli.command("create")
@click.option("--email", prompt=True, help="Log-in email address.")
@click.option("--name", "display_name", prompt="Display name", help="Name shown in the app.")
@click.option(
    "--password", prompt=True, hide_input=True, confirmation_prompt=True,
    envvar="BA_USER_PASSWORD", help="At least 10 characters (or set BA_USER_PASSWORD).",
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
