"""A loopback SMTP server that keeps every message it is sent.

with FakeSmtp() as smtp:
    app = make_app(url, MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port, MAIL_SECURITY="none", ...)
    ...
    message = smtp.wait_for(1)[0]   # an email.message.EmailMessage
"""

from __future__ import annotations

import socketserver
import threading
import time
from email import message_from_bytes, policy
from email.message import EmailMessage

from tests.fakes.loopback import Loopback


class FakeSmtp:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self._lock = threading.Lock()
        self._loopback: Loopback | None = None

    @property
    def port(self) -> int:
        assert self._loopback is not None, "use the fake as a context manager"
        return self._loopback.port

    def wait_for(self, count: int, timeout: float = 5.0) -> list[EmailMessage]:
        """The messages, once `count` have arrived (mail is sent off the request)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.messages) >= count:
                    return list(self.messages)
            time.sleep(0.02)
        raise AssertionError(f"expected {count} mail(s), got {len(self.messages)}")

    def clear(self) -> None:
        with self._lock:
            self.messages.clear()
            self.envelopes.clear()

    def _keep(self, sender: str, recipients: list[str], data: bytes) -> None:
        with self._lock:
            self.envelopes.append((sender, recipients))
            self.messages.append(message_from_bytes(data, policy=policy.default))  # type: ignore[arg-type]

    def __enter__(self) -> FakeSmtp:
        server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Session)
        server.daemon_threads = True
        server.fake = self  # type: ignore[attr-defined]
        self._loopback = Loopback(server)
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._loopback is not None:
            self._loopback.close()


class _Session(socketserver.StreamRequestHandler):
    """One SMTP conversation (RFC 5321's commands that smtplib sends, without extensions)."""

    def _reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        self._reply("220 fake-smtp ready")
        sender, recipients = "", []
        while line := self.rfile.readline(1024):
            command = line.decode(errors="replace").strip()
            verb = command[:4].upper()
            if verb in ("EHLO", "HELO"):
                self._reply("250 fake-smtp")
            elif verb == "MAIL":
                sender, recipients = command.partition(":")[2].strip(" <>"), []
                self._reply("250 OK")
            elif verb == "RCPT":
                recipients.append(command.partition(":")[2].strip(" <>"))
                self._reply("250 OK")
            elif verb == "DATA":
                self._reply("354 End data with <CR><LF>.<CR><LF>")
                self.server.fake._keep(sender, recipients, self._read_data())  # type: ignore[attr-defined]
                self._reply("250 OK: queued")
            elif verb == "QUIT":
                self._reply("221 Bye")
                return
            else:
                self._reply("250 OK")

    def _read_data(self) -> bytes:
        lines = []
        while (line := self.rfile.readline(65536)) not in (b".\r\n", b""):
            lines.append(line[1:] if line.startswith(b"..") else line)
        return b"".join(lines)
