"""Each provider's models, listed through its real SDK against its fake, and kept for a while."""

from __future__ import annotations

import pytest

from tests.fakes import FakeServer, error_reply
from tests.unit.llm.conftest import CASE, Build, Case, only
from webapp.llm.catalog import KEEP_FOR, RETRY_AFTER, ModelCatalog
from webapp.llm.registry import UnknownProvider, build_registry
from webapp.llm.specs import MAX_LISTED_MODELS, SPECS

pytestmark = pytest.mark.timeout(20)

# How each provider's SDK presents the key when it lists models.
KEY_HEADERS = {
    "anthropic": ("authorization", "Bearer test-key"),
    "gemini": ("x-goog-api-key", "test-key"),
    "openai": ("authorization", "Bearer test-key"),
    "deepseek": ("authorization", "Bearer test-key"),
    "openai_compatible": ("authorization", "Bearer test-key"),
}


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def catalog_for(case: Case, fake: FakeServer, build: Build, **options: object) -> ModelCatalog:
    config = {f"{case.prefix}_API_KEY": "test-key", f"{case.prefix}_BASE_URL": fake.url + case.url_suffix}
    return ModelCatalog(build(config), **options)  # type: ignore[arg-type]


def test_each_provider_lists_its_models_with_the_default_first(case: Case, fake: FakeServer, build: Build) -> None:
    fake.models = ("gpt-7-large", "gpt-7-mini")
    listing = catalog_for(case, fake, build).models(case.name)

    default = SPECS[case.name].default_model
    assert listing.default == default and not listing.failed
    assert listing.names == (default, "gpt-7-large", "gpt-7-mini")
    header, value = KEY_HEADERS[case.name]
    assert [r.method for r in fake.model_requests] == ["GET"]
    assert fake.model_requests[0].headers[header] == value
    assert fake.requests == []


def test_gemini_lists_only_models_that_can_chat(build: Build) -> None:
    from tests.fakes import FakeGemini

    with FakeGemini(models=("gemini-9-pro", "embedding-007", "gemini-9-flash")) as fake:
        registry = build({"GEMINI_API_KEY": "k", "GEMINI_BASE_URL": fake.url})
        assert ModelCatalog(registry).models("gemini").names == ("gemini-3.8-flash", "gemini-9-pro", "gemini-9-flash")


def test_openai_leaves_out_models_that_cannot_chat(build: Build) -> None:
    from tests.fakes import FakeOpenAI

    served = ("gpt-7", "text-embedding-3-large", "whisper-1", "gpt-7-realtime", "o5-mini", "tts-1", "dall-e-3")
    with FakeOpenAI(models=served) as fake:
        registry = build({"OPENAI_API_KEY": "k", "OPENAI_BASE_URL": fake.url + "/v1"})
        assert ModelCatalog(registry).models("openai").names == ("gpt-6.1-sol", "gpt-7", "o5-mini")


def test_a_list_is_kept_for_a_while_then_asked_for_again(case: Case, fake: FakeServer, build: Build) -> None:
    clock = Clock()
    catalog = catalog_for(case, fake, build, clock=clock)
    catalog.models(case.name)
    clock.now += KEEP_FOR - 1
    fake.models = ("gpt-8-new",)
    assert "gpt-8-new" not in catalog.models(case.name).names
    assert len(fake.model_requests) == 1

    clock.now += 2
    assert catalog.models(case.name).names[1:] == ("gpt-8-new",)
    assert len(fake.model_requests) == 2


def test_a_failed_listing_offers_the_default_and_is_retried_later(case: Case, fake: FakeServer, build: Build) -> None:
    clock = Clock()
    fake.models_failure = error_reply(503)
    catalog = catalog_for(case, fake, build, clock=clock)

    listing = catalog.models(case.name)
    assert listing.failed and listing.names == (SPECS[case.name].default_model,)
    catalog.models(case.name)
    assert len(fake.model_requests) == 1
    fake.models_failure = None
    clock.now += RETRY_AFTER + 1
    assert not catalog.models(case.name).failed and len(fake.model_requests) == 2


@only("anthropic")
def test_a_slow_provider_is_given_up_on_within_the_timeout(case: Case, fake: FakeServer, build: Build) -> None:
    fake.models_delay = 3.0
    listing = catalog_for(case, fake, build, timeout=0.3).models(case.name)
    assert listing.failed


@pytest.mark.parametrize("case", [CASE["anthropic"], CASE["openai"]], indirect=True, ids=["anthropic", "openai"])
def test_odd_names_are_dropped_and_a_huge_list_is_cut(case: Case, fake: FakeServer, build: Build) -> None:
    fake.models = ("gpt-ok", "gpt-" + "x" * 97, "gpt-bad\x00name", "", "gpt-ok", *(f"gpt-{n}" for n in range(1200)))
    names = catalog_for(case, fake, build).models(case.name).names

    assert names[:3] == (SPECS[case.name].default_model, "gpt-ok", "gpt-0")
    assert MAX_LISTED_MODELS - 10 < len(names) <= MAX_LISTED_MODELS + 1 and "gpt-1199" not in names
    assert len(set(names)) == len(names)


def test_offline_lists_itself_and_unknown_providers_are_refused() -> None:
    catalog = ModelCatalog(build_registry({}))
    assert catalog.models("offline").names == ("offline",)
    with pytest.raises(UnknownProvider):
        catalog.models("anthropic")
