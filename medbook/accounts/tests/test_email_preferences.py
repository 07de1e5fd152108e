"""N-4: on "E-mail notifications" a member who receives booking e-mails chooses them at once or as an hourly
or daily digest, for the organisation acted for only, and nobody else's choice."""

import re

import pytest
from django.urls import reverse

from medbook.accounts.models import Membership
from medbook.audit.models import AuditEntry
from medbook.core.tenancy import SESSION_ORG_KEY
from medbook.institutions.tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db
URL = reverse("accounts:email-preferences")
Digest = Membership.Digest


def digest_of(user, organization) -> str:
    return Membership.objects.get(user=user, organization=organization).email_digest


def test_n4_admin_sees_the_choice_and_the_link_in_the_header(cast, login):
    client = login(cast.alice)
    page = client.get(URL)

    assert page.status_code == 200
    html = page.content.decode()
    assert "E-mail notifications" in html and "Institution A" in html
    assert re.search(r'<input[^>]*value="immediate"[^>]*checked', html)  # the default, shown chosen
    assert f'href="{URL}"' in client.get(reverse("scheduling:calendar")).content.decode()


def test_n4_admin_chooses_an_hourly_digest_audited(cast, login):
    client = login(cast.alice)
    response = client.post(URL, {"email_digest": Digest.HOURLY})

    assert response.status_code == 302 and response["Location"] == URL
    assert digest_of(cast.alice, cast.institution_a) == Digest.HOURLY
    entry = AuditEntry.objects.get(action="member.email_digest_set", user=cast.alice)
    assert entry.details["previous"] == Digest.IMMEDIATE and entry.details["choice"] == Digest.HOURLY
    assert entry.institution_id == cast.institution_a.pk
    assert "Your choice of e-mails is saved." in client.get(URL).content.decode()


def test_n4_choice_holds_for_the_organisation_acted_for_only(cast, login):
    MembershipFactory(user=cast.alice, organization=cast.institution_b, role=Membership.Role.ADMIN)
    client = login(cast.alice)
    session = client.session
    session[SESSION_ORG_KEY] = cast.institution_b.pk
    session.save()

    client.post(URL, {"email_digest": Digest.DAILY})

    assert digest_of(cast.alice, cast.institution_b) == Digest.DAILY
    assert digest_of(cast.alice, cast.institution_a) == Digest.IMMEDIATE
    assert digest_of(cast.charlie, cast.institution_b) == Digest.IMMEDIATE  # B's own admin keeps his


def test_n4_another_user_cannot_change_an_admins_choice(cast, partners, login):
    # The page names no membership: whatever is posted, it changes the poster's own choice, or nothing.
    own = Membership.objects.get(user=cast.alice, organization=cast.institution_a)
    charlie = login(cast.charlie)
    charlie.post(URL, {"email_digest": Digest.DAILY, "membership": own.pk, "user": cast.alice.pk})
    assert digest_of(cast.alice, cast.institution_a) == Digest.IMMEDIATE
    assert digest_of(cast.charlie, cast.institution_b) == Digest.DAILY

    bob = login(cast.bob)  # reception gets no booking e-mails: no page
    assert bob.post(URL, {"email_digest": Digest.HOURLY}).status_code == 403
    assert f'href="{URL}"' not in bob.get(reverse("scheduling:calendar")).content.decode()
    assert digest_of(cast.alice, cast.institution_a) == Digest.IMMEDIATE


def test_n4_partner_user_who_books_chooses_too(cast, partners, login):
    client = login(partners.peter)
    assert client.post(URL, {"email_digest": Digest.DAILY}).status_code == 302
    assert digest_of(partners.peter, partners.partner_p) == Digest.DAILY
    assert login(partners.petra).get(URL).status_code == 403  # may not book: gets no booking e-mails


def test_n4_unknown_choice_is_refused_and_nothing_changes(cast, login):
    response = login(cast.alice).post(URL, {"email_digest": "weekly"})

    assert response.status_code == 422
    assert digest_of(cast.alice, cast.institution_a) == Digest.IMMEDIATE
    assert not AuditEntry.objects.filter(action="member.email_digest_set").exists()
