"""N-3: the set-password email of an invited user goes through the outbox and arrives by SMTP."""

import re
from urllib.parse import urlsplit

import pytest
from django.db import transaction

from medbook.accounts.models import Membership, User
from medbook.accounts.services import user_invite
from medbook.core.errors import DomainError
from medbook.notifications.models import OutboxMessage


def test_n3_invitation_is_sent_by_the_worker_with_a_working_set_password_link(
    cast, smtp_server, deliver_outbox, client
):
    user_invite(
        actor=cast.actor(cast.alice),
        email="Nora@A.test",
        full_name="Nora New",
        role=Membership.Role.STAFF,
        language="hu",
    )
    assert smtp_server.messages == []  # written to the outbox, not sent inside the request
    nora = User.objects.get(email="nora@a.test")
    queued = OutboxMessage.objects.get()
    assert (queued.kind, queued.reference, queued.language) == ("set_password", f"user:{nora.pk}", "hu")

    assert deliver_outbox() == 1

    [received] = smtp_server.messages
    assert received["To"] == "nora@a.test"
    assert received["Subject"] == "Meghívást kapott: Institution A"  # in the recipient's language (hu)
    assert received["Content-Language"] == "hu"
    text = received.get_body(("plain",)).get_content()
    url = re.search(r"https?://\S+/accounts/password/\S+/", text).group()
    assert url in received.get_body(("html",)).get_content()

    form = client.get(urlsplit(url).path, follow=True)
    assert form.status_code == 200 and "new_password1" in form.content.decode()
    response = client.post(
        form.redirect_chain[-1][0], {"new_password1": "Fresh-pass-2026", "new_password2": "Fresh-pass-2026"}
    )
    assert response.status_code == 302
    nora.refresh_from_db()
    assert nora.check_password("Fresh-pass-2026")


def test_n3_invitation_rolled_back_with_its_request_sends_nothing(cast, smtp_server, deliver_outbox):
    with pytest.raises(DomainError), transaction.atomic():
        user_invite(
            actor=cast.actor(cast.alice), email="nora@a.test", full_name="Nora", role=Membership.Role.STAFF
        )
        raise DomainError("a later step of the same request failed")

    assert not User.objects.filter(email="nora@a.test").exists()
    assert not OutboxMessage.objects.exists()
    assert deliver_outbox() == 0 and smtp_server.messages == []
