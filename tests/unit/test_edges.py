"""Text made storable at the edges: NUL removed, lone surrogates replaced, everything else kept."""

from __future__ import annotations

from webapp.edges import CleanParameters, clean_text, clean_value


def test_nul_is_removed_and_lone_surrogates_are_replaced() -> None:
    assert clean_text("a\x00b\ud800c\udfff") == "ab\ufffdc\ufffd"
    text = "plain, émoji 🎉, tabs\tand\nlines\r\x01"
    assert clean_text(text) is text


def test_json_like_values_are_cleaned_all_the_way_down() -> None:
    value = {"ti\x00tle": ["a\x00", {"b": "\ud800"}], "n": 3, "none": None, "flag": True}
    assert clean_value(value) == {"title": ["a", {"b": "\ufffd"}], "n": 3, "none": None, "flag": True}


def test_request_parameters_are_cleaned_keeping_repeated_names() -> None:
    params = CleanParameters([("q", "a\x00b"), ("tag", "x"), ("tag", "y\x00")])
    assert params["q"] == "ab" and params.getlist("tag") == ["x", "y"]
