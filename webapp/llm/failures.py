"""Turn what goes wrong on the wire into ProviderError kinds.

Shared by the adapters so that an HTTP status or a dropped connection means
the same thing whichever SDK reported it.
"""

from __future__ import annotations

import logging

import httpx2

from webapp.llm.base import ErrorKind, ProviderError

log = logging.getLogger(__name__)


def kind_for_status(status: int) -> ErrorKind:
    """Classify an HTTP error status."""
    if status == 429:
        return "rate_limit"
    if status in (401, 403):
        return "auth"
    # 408 and 409 are the server asking to be tried again, as the SDKs do.
    if status >= 500 or status in (408, 409):
        return "unavailable"
    return "bad_request"


def transport_failure(provider: str, exc: BaseException, *, started: bool) -> ProviderError | None:
    """Map a raw httpx2 failure, or return None when `exc` is not one.

    Once the stream has delivered something, a broken connection means the
    reply was cut short; before that, the provider simply could not be reached.
    """
    cause = _transport_cause(exc)
    if cause is None:
        return None
    if isinstance(cause, httpx2.TimeoutException) or not started:
        return ProviderError(kind="unavailable", provider=provider, detail=_describe(cause))
    return ProviderError(kind="incomplete", provider=provider, detail=_describe(cause))


def unexpected_failure(provider: str, exc: Exception) -> ProviderError:
    """Wrap anything the SDK raised that no mapping covers, keeping the traceback in the log."""
    log.exception("unexpected failure streaming from %s", provider)
    return ProviderError(kind="unavailable", provider=provider, detail=_describe(exc))


def incomplete(provider: str) -> ProviderError:
    return ProviderError(kind="incomplete", provider=provider, detail="stream ended without its end marker")


def _transport_cause(exc: BaseException) -> BaseException | None:
    # SDKs sometimes wrap the httpx2 error (`raise ... from err`); look through.
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, (httpx2.HTTPError, httpx2.StreamError)):
            return current
        seen.add(id(current))
        current = current.__cause__
    return None


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
