"""`flask imports …`: run import workers apart from the web processes."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from .queues import RedisQueue

imports_cli = AppGroup("imports", help="Run the workers that read uploaded files.")


@imports_cli.command("worker")
@click.option("--burst", is_flag=True, help="Stop once the queue is empty.")
def worker_command(burst: bool) -> None:
    """Read uploaded files from the Redis queue, one at a time, each in its own capped process."""
    queue = current_app.extensions["imports"]
    if not isinstance(queue, RedisQueue):
        raise click.ClickException(
            "REDIS_URL is not set: without it, imports run in the web server's own pool and need no worker."
        )
    click.echo(
        f"Reading imports from Redis (memory cap {queue.settings.memory_label}, "
        f"time limit {queue.settings.timeout_s:g} s)."
    )
    queue.work(burst=burst)
