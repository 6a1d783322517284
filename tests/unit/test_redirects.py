"""A `next` parameter only ever leads to a path on this site."""

import pytest

from webapp.redirects import local_path


@pytest.mark.parametrize("target", ["/projects/1?tab=chats", "/tasks#task-1", "/"])
def test_paths_on_this_site_are_kept(target: str) -> None:
    assert local_path(target, "/home") == target


@pytest.mark.parametrize(
    "target",
    [None, "", "https://evil.example/", "//evil.example", "/\\evil.example", "javascript:alert(1)", "projects"],
)
def test_anything_else_falls_back(target: str | None) -> None:
    assert local_path(target, "/home") == "/home"
