"""Text from outside, made storable on the way in: forms, query strings, URLs, model output, documents.

PostgreSQL cannot store NUL in a text column, and a lone surrogate (what a JSON `\\ud800`
escape decodes to) has no UTF-8 form for either database. Both can arrive in anything a
user types, a model writes or a document holds; they are removed (NUL) or replaced with
U+FFFD (surrogates) where the text enters, so the rest of the text is kept as it was.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from flask import Flask, Request
from werkzeug.datastructures import FileStorage, ImmutableMultiDict

from .turns import UploadSpool

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _replacement(match: re.Match[str]) -> str:
    return "" if match.group() == "\x00" else "\ufffd"


def clean_text(text: str) -> str:
    """`text` without NUL, with each lone surrogate replaced by U+FFFD."""
    if _UNSTORABLE.search(text) is None:
        return text
    return _UNSTORABLE.sub(_replacement, text)


def clean_value(value: Any) -> Any:
    """Every string in a JSON-like value (tool arguments, document metadata), cleaned."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_value(key): clean_value(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean_value(item) for item in value]
    return value


def _pairs(mapping: Any) -> Iterable[tuple[Any, Any]]:
    if mapping is None:
        return ()
    if isinstance(mapping, ImmutableMultiDict):
        return mapping.items(multi=True)
    if isinstance(mapping, Mapping):
        return mapping.items()
    return mapping


class CleanParameters(ImmutableMultiDict):  # type: ignore[type-arg]
    """Query string and form fields, each name and text value cleaned (files are left as they are)."""

    def __init__(self, mapping: Any = None) -> None:
        super().__init__(
            [
                (clean_text(key), value if isinstance(value, FileStorage) else clean_text(value))
                for key, value in _pairs(mapping)
            ]
        )


class EdgeRequest(Request):
    parameter_storage_class = CleanParameters

    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> Any:
        # Uploaded files spool to disk off the loop the other requests share (see turns.py).
        return UploadSpool()


def _clean_view_args(endpoint: str | None, values: dict[str, Any] | None) -> None:
    # Ids in the path (`/threads/<id>`) reach database lookups as they are.
    for name, value in (values or {}).items():
        if isinstance(value, str):
            values[name] = clean_text(value)  # type: ignore[index]


def init_edges(app: Flask) -> None:
    app.request_class = EdgeRequest
    app.url_value_preprocessor(_clean_view_args)
