"""PostgreSQL goes away mid-reply and comes back: every reply is saved whole, with the status its reader saw."""

from __future__ import annotations

import pytest

from .scenarios import postgres_outage
from .servers import OwnPostgres


@pytest.mark.timeout(90)
def test_replies_survive_postgresql_stopped_for_eight_seconds(own_postgres: OwnPostgres) -> None:
    outcome = postgres_outage(own_postgres, outage=8.0)
    assert outcome.replies == 5
    assert outcome.damaged == []
