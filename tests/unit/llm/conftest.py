"""Fixtures for the provider tests: a fake server per provider and a provider pointed at it."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.fakes import FakeAnthropic, FakeGemini, FakeOpenAI, FakeServer
from webapp.llm.base import Event, Message, Provider, ProviderError, ToolSpec
from webapp.llm.registry import ProviderRegistry, build_registry

_HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Warnings are errors here even when this folder runs without the project's pytest settings.
    for item in items:
        if _HERE in Path(item.path).parents:
            item.add_marker(pytest.mark.filterwarnings("error"))


@dataclass(frozen=True)
class Case:
    name: str
    fake_class: type[FakeServer]
    # What the SDK appends its own path to.
    url_suffix: str = ""

    @property
    def prefix(self) -> str:
        return self.name.upper()


CASES = (
    Case("anthropic", FakeAnthropic),
    Case("gemini", FakeGemini),
    Case("openai", FakeOpenAI, "/v1"),
    Case("deepseek", FakeOpenAI),
    Case("openai_compatible", FakeOpenAI, "/v1"),
)

CASE = {case.name: case for case in CASES}


def only(name: str) -> pytest.MarkDecorator:
    """Run a test for one provider's case only."""
    return pytest.mark.parametrize("case", [CASE[name]], indirect=True, ids=[name])


SEARCH = ToolSpec(
    name="search_documents",
    description="Search the user's documents.",
    parameters={"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]},
)

MakeProvider = Callable[..., Provider]
Build = Callable[[Mapping[str, Any]], ProviderRegistry]


@pytest.fixture
def build() -> Iterator[Build]:
    """Build registries that are closed after the test, so no pooled socket outlives it."""
    registries: list[ProviderRegistry] = []

    def make(config: Mapping[str, Any]) -> ProviderRegistry:
        registries.append(build_registry(config))
        return registries[-1]

    yield make
    for registry in registries:
        registry.close()


@pytest.fixture(params=CASES, ids=lambda case: case.name)
def case(request: pytest.FixtureRequest) -> Case:
    return request.param


@pytest.fixture
def fake(case: Case) -> Iterator[FakeServer]:
    with case.fake_class() as server:
        yield server


@pytest.fixture
def make_provider(case: Case, fake: FakeServer, build: Build) -> MakeProvider:
    """Build the case's provider against the fake; keyword arguments override settings."""

    def make(**overrides: Any) -> Provider:
        config: dict[str, Any] = {
            f"{case.prefix}_API_KEY": "test-key",
            f"{case.prefix}_BASE_URL": fake.url + case.url_suffix,
            "LLM_MAX_RETRIES": 0,
            **overrides,
        }
        return build(config).get(case.name)

    return make


@pytest.fixture
def provider(make_provider: MakeProvider) -> Provider:
    return make_provider()


def ask(
    provider: Provider, *history: Message, tools: tuple[ToolSpec, ...] = (), system: str = "Be brief."
) -> list[Event]:
    return list(provider.stream(system=system, history=history, tools=tools, model=None, max_tokens=256))


def ask_until_error(provider: Provider, *history: Message) -> tuple[list[Event], ProviderError]:
    """Collect the events a failing reply yields before its error."""
    events: list[Event] = []
    with pytest.raises(ProviderError) as failure:
        for event in provider.stream(system="", history=history, tools=(), model=None, max_tokens=256):
            events.append(event)
    return events, failure.value
