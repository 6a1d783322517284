"""A streaming reply's lease: held by the process that produces it, renewed with its checkpoints.

Whether a reply is still being written is a fact in the database, the same for every process
and host: a `streaming` reply whose lease has passed has lost its runner (a crash, a kill, a
database outage longer than the lease), and any process may show it as interrupted.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from ..models import utcnow

LEASE_SECONDS = 15.0
# Renewed a few times per lease, so that one slow or failed renewal does not let it lapse.
RENEW_SECONDS = 5.0


def lease_from(now: datetime) -> datetime:
    """The end of a lease taken or renewed at `now`."""
    return now + timedelta(seconds=LEASE_SECONDS)


def held(lease_until: datetime | None, now: datetime | None = None) -> bool:
    """Whether a runner holds the lease at `now` (a reply from before leases holds none)."""
    return lease_until is not None and lease_until > (now or utcnow())
