"""Titles made from the user's own words, when no model makes them."""

from __future__ import annotations

from webapp.chat.titles import TITLE_MAX, derive_title


def test_a_short_message_is_its_own_title() -> None:
    assert derive_title("  Kick-off **agenda**  ") == "Kick-off agenda"
    assert derive_title("   ") == "New chat"


def test_a_first_sentence_that_fits_is_the_title() -> None:
    text = "We need two-manager approval for invoices over 10,000 EUR. What should we ask finance?"
    assert derive_title(text) == "We need two-manager approval for invoices over 10,000 EUR"
    question = "What does the approver see when an invoice is over the limit? And who signs off on leave?"
    assert derive_title(question) == "What does the approver see when an invoice is over the limit?"


def test_a_long_sentence_is_cut_between_words_without_trailing_punctuation() -> None:
    text = "Approval flow for invoices, vendors, purchase orders, credit notes, refunds and the audit trail"
    title = derive_title(text)
    assert title == "Approval flow for invoices, vendors, purchase orders…"
    assert len(title) <= TITLE_MAX + 1
