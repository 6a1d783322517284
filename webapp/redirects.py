"""Where a `next` parameter may send the user: paths on this site only."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit


def local_path(target: str | None, default: str) -> str:
    """`target` when it is a path on this site, else `default`.

    Anything else (`https://…`, `//host`, `/\\host`, which some browsers read as `//host`)
    would make the redirect an open one.
    """
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
        and not urlsplit(target).netloc
    ):
        return target
    return default


def path_of(url: str) -> str:
    """The path and query of `url`, without its scheme and host (htmx sends its page as a full URL)."""
    parts = urlsplit(url)
    return urlunsplit(("", "", parts.path, parts.query, ""))
