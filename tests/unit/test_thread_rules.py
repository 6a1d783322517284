"""Thread rules that need no database: providers, cursors, search syntax and highlights, export pieces."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from webapp.fulltext import fts5_query, highlight, query_terms
from webapp.threads import export, service


@pytest.mark.parametrize(
    ("requested", "user_default", "fallback", "expected"),
    [
        ("gemini", "offline", "offline", "gemini"),
        ("", "gemini", "offline", "gemini"),
        ("", "anthropic", "gemini", "gemini"),
        ("", None, "anthropic", "offline"),
    ],
)
def test_choose_provider(requested: str, user_default: str | None, fallback: str, expected: str) -> None:
    chosen = service.choose_provider(
        requested, user_default=user_default, fallback=fallback, configured=["offline", "gemini"]
    )
    assert chosen == expected


def test_choose_provider_refuses_an_unconfigured_one() -> None:
    with pytest.raises(service.ThreadError) as raised:
        service.choose_provider("anthropic", user_default=None, fallback="offline", configured=["offline"])
    assert raised.value.field == "provider"


def test_cursor_round_trip_and_rejects_junk() -> None:
    cursor = service.Cursor(datetime(2025, 3, 1, 9, 0, 0, 123456, tzinfo=UTC), "abc")
    assert service.Cursor.parse(cursor.encode()) == cursor
    for junk in ("", "yesterday", "2025-03-01T09:00:00", "2025-03-01T09:00:00+00:00~"):
        with pytest.raises(ValueError):
            service.Cursor.parse(junk)


def test_like_pattern_takes_wildcards_literally() -> None:
    assert service.like_pattern("100%_a\\b") == "%100\\%\\_a\\\\b%"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("risk register", '"risk" "register"'),
        ('"unterminated AND NEAR(x', '"unterminated" "near" "x"'),
        ("content:risk* ^owner -x", '"content" "risk" "owner" "x"'),
        ("()*:^", ""),
        ("café naïve", '"café" "naïve"'),
    ],
)
def test_fts5_query_quotes_every_word(text: str, expected: str) -> None:
    assert fts5_query(query_terms(text)) == expected


def test_highlight_escapes_everything_but_the_markers() -> None:
    assert highlight("a <b>&\ue000risk\ue001 c") == "a &lt;b&gt;&amp;<mark>risk</mark> c"
    assert highlight("\ue001stray\ue000open") == "stray<mark>open</mark>"
    assert highlight("\ue000\ue000double\ue001\ue001") == "<mark>double</mark>"


def test_export_timestamps_and_filenames() -> None:
    moment = datetime(2025, 3, 1, 10, 30, tzinfo=UTC)
    assert export.iso_utc(moment) == "2025-03-01T10:30:00Z"
    assert export.iso_utc(None) is None
    thread = type("T", (), {"title": "Ünïcode — Q3 plan!", "created_at": moment})()
    assert export.filename(thread, "md") == "unicode-q3-plan-2025-03-01.md"
    thread.title = "日本語"
    assert export.filename(thread, "json") == "chat-2025-03-01.json"


def test_provider_choices_list_the_configured_providers_offline_last() -> None:
    from webapp.llm.registry import build_registry

    registry = build_registry({"GEMINI_API_KEY": "set"})
    try:
        assert service.provider_choices(registry) == [("gemini", "Gemini"), ("offline", "Offline")]
    finally:
        registry.close()
