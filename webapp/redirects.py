"""Where a `next` parameter may send the user: paths on this site only."""

from __future__ import annotations

from urllib.parse import urlsplit


def local_path(target: str | None, default: str) -> str:
    """`target` when it is a path on this site, else `default`.

    Anything else (`https://…`, `//host`, `/\\host`, which some browsers read as `//host`)
    would make the redirect an open one.
    """
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target \
            and not urlsplit(target).netloc:
        return target
    return default
