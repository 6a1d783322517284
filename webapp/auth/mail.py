"""Sending mail over SMTP (the standard library's smtplib), off the request."""

from __future__ import annotations

import logging
import smtplib
import ssl
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 15
SECURITY_MODES = ("starttls", "ssl", "none")


@dataclass(frozen=True, slots=True)
class MailSettings:
    server: str
    port: int
    security: str
    sender: str
    username: str | None = None
    password: str | None = None


def settings_from(config: Mapping[str, Any]) -> MailSettings | None:
    """The SMTP settings, or None where mail is not set up (no MAIL_SERVER, or no PUBLIC_URL to link to)."""
    if not config.get("MAIL_SERVER") or not config.get("PUBLIC_URL"):
        return None
    security = config["MAIL_SECURITY"] if config["MAIL_SECURITY"] in SECURITY_MODES else "starttls"
    return MailSettings(
        server=config["MAIL_SERVER"],
        port=config["MAIL_PORT"],
        security=security,
        sender=config["MAIL_FROM"],
        username=config.get("MAIL_USERNAME"),
        password=config.get("MAIL_PASSWORD"),
    )


def compose(settings: MailSettings, *, to: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain=settings.sender.rpartition("@")[2].strip("> ") or None)
    message.set_content(body)
    return message


def send(settings: MailSettings, message: EmailMessage) -> None:
    """Deliver `message` now; raises on failure."""
    context = ssl.create_default_context()
    if settings.security == "ssl":
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(settings.server, settings.port, timeout=TIMEOUT_SECONDS, context=context)
    else:
        smtp = smtplib.SMTP(settings.server, settings.port, timeout=TIMEOUT_SECONDS)
    with smtp:
        if settings.security == "starttls":
            smtp.starttls(context=context)
        if settings.username:
            smtp.login(settings.username, settings.password or "")
        smtp.send_message(message)


def send_later(settings: MailSettings, message: EmailMessage) -> threading.Thread:
    """Deliver `message` on a thread of its own, so the answer does not wait for the mail server
    (and takes as long whether or not a mail was sent)."""

    def deliver() -> None:
        try:
            send(settings, message)
        except (OSError, smtplib.SMTPException):
            log.warning("mail to %s could not be sent", message["To"], exc_info=True)

    thread = threading.Thread(target=deliver, name="mail", daemon=True)
    thread.start()
    return thread
