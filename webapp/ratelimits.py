"""Per-user limits on what costs the server most: posting messages and uploading files.

Counted per signed-in user, so that colleagues behind one office address do not share a limit;
in Redis with `REDIS_URL` (every process sees the same count), else in the process's memory.
"""

from __future__ import annotations

from flask import current_app
from flask_limiter.util import get_remote_address
from flask_login import current_user
from werkzeug.wrappers import Response

from .extensions import limiter


def user_key() -> str:
    """Whom a request counts against: its user, or its address before sign-in."""
    if current_user.is_authenticated:
        return f"user:{current_user.get_id()}"
    return f"address:{get_remote_address()}"


def _accepted(response: Response) -> bool:
    # A message refused for its own reasons (empty, too long, a reply still running) costs
    # nothing and must not eat into the user's allowance.
    return response.status_code < 400


def _chat_limit() -> str:
    return current_app.config["CHAT_RATE_LIMIT"]


def _upload_limit() -> str:
    return current_app.config["UPLOAD_RATE_LIMIT"]


def _chat_message() -> str:
    return (
        f"You are sending messages faster than this server allows ({_chat_limit()}). "
        "Wait a moment, then send again; your message is still in the box."
    )


def _upload_message() -> str:
    return f"You are uploading faster than this server allows ({_upload_limit()}). Wait a moment, then try again."


# Posting, regenerating and editing each start a reply, so they share one allowance.
chat_posts = limiter.shared_limit(
    _chat_limit, scope="chat-posts", key_func=user_key, error_message=_chat_message, deduct_when=_accepted
)
uploads = limiter.shared_limit(
    _upload_limit, scope="uploads", key_func=user_key, error_message=_upload_message, deduct_when=_accepted
)
