"""The fault suite: replies streaming from the fake providers while things go wrong.

Every test here is marked `faults` (CI runs them with the rest). A test that stops or kills
a server starts its own (PostgreSQL, Redis, the app) on free ports and never touches the
shared ones.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from ..provider_fixtures import app_config, fake  # noqa: F401 (fixtures)
from .servers import OwnPostgres, OwnRedis

HERE = Path(__file__).resolve().parent
# One provider per wire protocol (DeepSeek and local servers speak OpenAI's).
WIRE_PROTOCOLS = ("anthropic", "gemini", "openai")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.faults)


@pytest.fixture(params=WIRE_PROTOCOLS)
def provider(request: pytest.FixtureRequest) -> str:
    return request.param


def _missing(what: str, setting: str) -> None:
    """Skip without the server's programs, or fail when the setting says they must be there (CI)."""
    if os.environ.get(setting) == "1":
        pytest.fail(f"{setting}=1 but {what} is not installed", pytrace=False)
    pytest.skip(f"{what} is not installed (set {setting}=1 to make this a failure)")


@pytest.fixture(scope="session")
def own_postgres() -> Iterator[OwnPostgres]:
    """A PostgreSQL cluster of the fault suite's own, which its tests may stop and start."""
    try:
        server = OwnPostgres()
    except FileNotFoundError as error:
        _missing(str(error), "REQUIRE_POSTGRES")
    yield server
    server.close()


@pytest.fixture(scope="session")
def own_redis() -> Iterator[OwnRedis]:
    """A Redis of the fault suite's own, which its tests may kill and start."""
    if shutil.which("redis-server") is None:
        _missing("redis-server", "REQUIRE_REDIS")
    server = OwnRedis()
    yield server
    server.close()
