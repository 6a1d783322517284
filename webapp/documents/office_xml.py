"""The XML inside Office files, parsed by lxml with nothing fetched and no entity expanded, and freed as it is read."""

from __future__ import annotations

from typing import IO, Any

_SAFE = {"resolve_entities": False, "no_network": True, "load_dtd": False, "huge_tree": False}


def iterparse(source: IO[bytes], events: tuple[str, ...], tags: tuple[str, ...] | None = None) -> Any:
    """Events for the elements of `source` (only those named in `tags`, if given), as lxml's iterparse."""
    from lxml import etree  # only in the import process

    return etree.iterparse(source, events=events, tag=tags, **_SAFE)


def parse(source: IO[bytes]) -> Any:
    """The root element of a small part, read whole."""
    from lxml import etree

    return etree.parse(source, etree.XMLParser(**_SAFE)).getroot()


def free(element: Any) -> None:
    """Drop an element once read, with the siblings read before it: memory stays flat however long the part."""
    element.clear()
    parent = element.getparent()
    if parent is not None:
        while element.getprevious() is not None:
            del parent[0]
