"""Lower findings of the security review: the client's address behind a trusted proxy, and live links that
neither the operator nor the database keep once the e-mail is sent."""

import pytest
from django.db import transaction
from django.test import RequestFactory

from medbook.accounts.actor import client_ip
from medbook.accounts.services import send_set_password_email
from medbook.notifications.models import OutboxMessage
from medbook.notifications.services import REDACTED, redact_links

pytestmark = pytest.mark.django_db


def test_without_a_trusted_proxy_the_forwarded_header_is_ignored(settings):
    settings.TRUSTED_PROXIES = []
    request = RequestFactory().get("/", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert client_ip(request) == "203.0.113.9"  # a client cannot choose the address audited for it


def test_behind_a_trusted_proxy_the_client_is_the_last_untrusted_hop(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.2"]
    forged_then_real = "6.6.6.6, 198.51.100.7"
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forged_then_real)
    assert client_ip(request) == "198.51.100.7"
    bad = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="not-an-address")
    assert client_ip(bad) == "10.0.0.2"


def test_a_sent_message_keeps_no_live_link(cast, deliver_outbox, smtp_server):
    with transaction.atomic():
        send_set_password_email(user=cast.bob, organization_name="Institution A")
    assert deliver_outbox() == 1
    received = smtp_server.messages[-1].as_string()
    assert "/accounts/password/" in received and REDACTED not in received  # the person got the working link
    row = OutboxMessage.objects.get()
    assert REDACTED in row.text_body and "/accounts/password/" in row.text_body
    assert REDACTED in redact_links(received)
