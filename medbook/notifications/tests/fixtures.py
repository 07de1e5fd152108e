"""Fixtures for any test that sends email: a real SMTP server, and the outbox worker run in-process.

Use them from another app with `pytest_plugins = ["medbook.notifications.tests.fixtures"]` in the root
conftest.py.
"""

from collections.abc import Callable, Iterator

import pytest

from medbook.notifications.tests.smtp import SmtpServer
from medbook.notifications.worker import outbox_drain


@pytest.fixture
def smtp_server(settings) -> Iterator[SmtpServer]:
    """A running aiosmtpd server that Django's mail settings point at; it records what it accepted."""
    server = SmtpServer()
    server.start()
    for name, value in server.django_settings().items():
        setattr(settings, name, value)
    yield server
    server.stop()


@pytest.fixture
def deliver_outbox(db) -> Callable[[], int]:
    """Run the outbox worker in this process until nothing is due; it returns how many emails went out.

    With `smtp_server` the emails arrive there; without it they land in `django.core.mail.outbox`.
    """
    return outbox_drain
