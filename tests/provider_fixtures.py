"""Fixtures for tests that talk to a provider's fake: the fake server, and the app pointed at it.

A module (or conftest) imports them and defines `provider`, parametrized with the providers
it runs with (names of chat_helpers.PROVIDERS).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from .chat_helpers import PROVIDERS
from .fakes import FakeServer


@pytest.fixture
def fake(provider: str) -> Iterator[FakeServer]:
    with PROVIDERS[provider][0]() as server:
        yield server


@pytest.fixture
def app_config(provider: str, fake: FakeServer) -> dict[str, Any]:
    return {**PROVIDERS[provider][1](fake.url), "LLM_MAX_RETRIES": 0}
