"""Two processes sharing PostgreSQL and Redis: one killed mid-reply, and a graceful reload."""

from __future__ import annotations

from pathlib import Path

import pytest

from .scenarios import graceful_reload, process_killed
from .servers import OwnPostgres, OwnRedis


@pytest.mark.timeout(90)
def test_the_other_process_shows_a_killed_reply_as_interrupted_with_its_text_within_20_s(
    own_postgres: OwnPostgres, own_redis: OwnRedis, tmp_path: Path
) -> None:
    outcome = process_killed(own_postgres, own_redis, tmp_path, within=20.0)
    assert outcome.damaged == [] and outcome.errors_500 == 0, outcome.notes


@pytest.mark.timeout(90)
def test_a_graceful_reload_loses_no_running_reply(own_postgres: OwnPostgres, tmp_path: Path) -> None:
    outcome = graceful_reload(own_postgres, tmp_path)
    assert outcome.replies == 4
    assert outcome.damaged == [] and outcome.errors_500 == 0, outcome.notes
