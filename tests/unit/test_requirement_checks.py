"""The requirement checks: examples each check must flag, and near misses it must leave alone."""

from __future__ import annotations

from typing import Any

import pytest

from webapp.artifacts import checks
from webapp.artifacts.checks import Elsewhere, ambiguous_terms, check_item, check_items, is_scenario
from webapp.models import ArtifactItem, ItemSource

GOOD_CRITERION = "Given a basket with one item\nWhen I pay by card\nThen the order is placed"


def item(key: str = "US-1", kind: str = "story", *, cited: bool = True, **fields: Any) -> ArtifactItem:
    values = {
        "title": "Pay by card",
        "as_a": "shopper",
        "i_want": "to pay by card",
        "so_that": "I can check out",
        "description": "",
        "acceptance_criteria": [GOOD_CRITERION],
        **fields,
    }
    found = ArtifactItem(key=key, kind=kind, **values)
    found.sources = [ItemSource(chunk_id=7, document_name="notes.txt", ordinal=2, position=0)] if cited else []
    return found


def checks_of(found: ArtifactItem) -> list[str]:
    return [finding.check for finding in check_item(found)]


def test_a_well_formed_story_has_no_findings() -> None:
    assert check_item(item()) == []


@pytest.mark.parametrize(
    "text, terms",
    [
        ("The page loads fast", ["fast"]),
        ("A user-friendly and quick form", ["user-friendly", "quick"]),
        ("Export PDF, Word, etc.", ["etc."]),
        ("Notify the manager as appropriate", ["as appropriate"]),
        ("Email and/or SMS", ["and/or"]),
        ("Retry if   possible, where appropriate", ["if   possible", "where appropriate"]),
        ("Fast, FAST and fast again", ["Fast"]),
    ],
)
def test_ambiguous_words_are_flagged(text: str, terms: list[str]) -> None:
    assert ambiguous_terms(text) == terms


@pytest.mark.parametrize(
    "text",
    [
        "Serve breakfast orders within 2 seconds",  # "fast" inside a word
        "A steadfast audit trail of 7 years",
        "Send the invoice by email or by post",
        "Etcetera Ltd is the supplier",  # a name, not "etc."
        "The fast-track lane for VIP customers",  # a compound, not a vague adjective
        "Response within 200 ms for 95 % of requests",
    ],
)
def test_precise_wording_is_not_flagged(text: str) -> None:
    assert ambiguous_terms(text) == []


def test_ambiguous_findings_name_the_word_and_field_once() -> None:
    found = check_item(item(title="Fast checkout", i_want="a fast, user-friendly checkout etc."))
    messages = [f.message for f in found if f.check == "ambiguous"]
    assert len(messages) == 3
    assert messages[0].startswith("Ambiguous: “fast” (title)") and "“user-friendly” (I want)" in messages[1]
    assert "“etc.” (I want)" in messages[2]


def test_a_story_without_so_that_is_flagged_a_requirement_is_not() -> None:
    assert checks_of(item(so_that="  ")) == ["so_that"]
    assert (
        checks_of(
            item(kind="requirement", so_that="", description="The shop shall accept cards.", acceptance_criteria=[])
        )
        == []
    )


@pytest.mark.parametrize(
    "criterion",
    [
        "The user can pay by card",
        "When I pay then I get a receipt",  # no Given
        "Given a basket, then the order is placed",  # no When
        "Given a basket when I pay",  # no Then
        "Then the order is placed, given a basket, when I pay",  # out of order
        "Given a basket\nWhen I pay\nThen",  # Then with nothing after it
    ],
)
def test_criteria_that_are_not_given_when_then_are_flagged(criterion: str) -> None:
    assert not is_scenario(criterion)
    found = check_item(item(acceptance_criteria=[GOOD_CRITERION, criterion]))
    assert [f.message for f in found] == [
        f"Acceptance criterion 2 is not Given/When/Then: “{' '.join(criterion.split())}”."
    ]


@pytest.mark.parametrize(
    "criterion",
    [
        GOOD_CRITERION,
        "Given a basket, when I pay by card, then the order is placed",
        "GIVEN a basket WHEN I pay THEN the order is placed",
        "  given an expired card\n  and a basket\n  when I pay\n  then I am told why",
    ],
)
def test_given_when_then_criteria_pass(criterion: str) -> None:
    assert is_scenario(criterion)
    assert check_item(item(acceptance_criteria=[criterion])) == []


def test_a_story_without_criteria_is_flagged() -> None:
    assert checks_of(item(acceptance_criteria=[])) == ["no_criteria"]


def test_items_without_a_source_or_whose_sources_were_removed_are_flagged() -> None:
    assert checks_of(item(cited=False)) == ["no_source"]
    removed = item()
    removed.sources = [ItemSource(chunk_id=None, document_name="old.pdf", ordinal=1, position=0)]
    assert checks_of(removed) == ["source_removed"]
    mixed = item()
    mixed.sources = [*removed.sources, ItemSource(chunk_id=3, document_name="new.pdf", ordinal=1, position=1)]
    assert checks_of(mixed) == []


def test_duplicates_within_the_artifact_and_the_project_are_flagged() -> None:
    first = item("US-1", title="Pay by card", i_want="to pay by card")
    again = item("US-2", title="Pay by card.", i_want="to pay with my card")
    different = item("US-3", title="Refund a card payment", i_want="to refund a payment to the card")
    elsewhere = Elsewhere("Payment stories", item("US-9", title="Pay by Card", i_want="pay by card"))
    requirement = Elsewhere("Reqs", item("REQ-1", kind="requirement", title="Pay by card", description="pay by card"))
    found = check_items([first, again, different], [elsewhere, requirement])
    assert [f.message for f in found["US-1"]] == [
        "Looks like a duplicate of US-2: merge them or tell them apart.",
        "Looks like a duplicate of US-9 in “Payment stories”: merge them or tell them apart.",
    ]
    assert [f.check for f in found["US-2"]] == ["duplicate", "duplicate"]
    assert "US-3" not in found  # shares words, but is another need
    assert checks.similarity(first, different) < checks.DUPLICATE_SIMILARITY
