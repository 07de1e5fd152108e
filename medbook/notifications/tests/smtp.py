"""A real SMTP server for tests and benchmarks: aiosmtpd on a free local port, keeping what it accepted."""

import asyncio
from collections import Counter
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller

from medbook.core.tests.ports import free_port  # aiosmtpd's Controller cannot take port 0


class RecordingHandler:
    """Accept each message after `delay` seconds and keep it; `hold_after` N holds message N+1 unanswered.

    A message counts as accepted only once the server is about to answer 250, as a real server would: if
    the client disappears while the message is held or delayed, aiosmtpd cancels this handler and the
    message is not kept.
    """

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.hold_after: int | None = None
        self.refused_recipients: set[str] = set()
        self.accepted: list[EmailMessage] = []
        self.receiving = 0

    async def handle_RCPT(self, server, session, envelope, address: str, rcpt_options: list) -> str:
        if address in self.refused_recipients:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        self.receiving += 1
        try:
            await asyncio.sleep(self.delay)
            while self.hold_after is not None and len(self.accepted) >= self.hold_after:
                await asyncio.sleep(0.01)
            self.accepted.append(message_from_bytes(envelope.content, policy=policy.default))
        finally:
            self.receiving -= 1
        return "250 Message accepted for delivery"


class SmtpServer:
    """Start, stop and restart an aiosmtpd server on one fixed port."""

    def __init__(self, delay: float = 0.0) -> None:
        self.handler = RecordingHandler(delay)
        self.port = free_port()
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def messages(self) -> list[EmailMessage]:
        return list(self.handler.accepted)

    def message_ids(self) -> Counter:
        """How many times each Message-ID arrived."""
        return Counter(message["Message-ID"] for message in self.messages)

    def django_settings(self) -> dict:
        """The mail settings that point Django's SMTP backend here."""
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": self.port,
            "EMAIL_HOST_USER": "",
            "EMAIL_HOST_PASSWORD": "",
            "EMAIL_USE_TLS": False,
            "EMAIL_USE_SSL": False,
            "EMAIL_TIMEOUT": 10,
        }
