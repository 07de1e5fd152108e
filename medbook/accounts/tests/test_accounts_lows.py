"""Issue 19, the lows of accounts: one throttle key per address however it is spelled, password reset and
logout audited, the organisation switch only by POST."""

from urllib.parse import quote

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from conftest import PASSWORD
from medbook.accounts import security
from medbook.accounts.models import Membership
from medbook.accounts.services import set_password_url
from medbook.accounts.tests.test_security import login_post
from medbook.audit.models import AuditEntry
from medbook.core.tenancy import SESSION_ORG_KEY
from medbook.institutions.tests.factories import MembershipFactory
from medbook.partners.tests.factories import partner_member

pytestmark = pytest.mark.django_db
# Spellings of alice@a.test that a database's case-insensitive comparison (PostgreSQL's UPPER() = UPPER())
# or Unicode's compatibility forms take for it: a dotless ı, upper case, full-width letters, spaces.
SPELLINGS = ["alıce@a.test", "ALICE@A.TEST", "Alıce@a.test", "ａｌｉｃｅ@a.test", " alice@a.test "]


def test_finding_spellings_of_an_email_share_one_throttle_key():
    keys = {security.email_key(spelling) for spelling in SPELLINGS}
    assert keys == {"alice@a.test"}
    assert security.throttle_username(None, {"username": "alıce@a.test"}) == "alice@a.test"
    assert security.email_key("x" * 5000) == "x" * 254


def test_finding_dotless_i_spelling_gets_no_login_guesses_of_its_own(cast):
    assert len(SPELLINGS) == settings.AXES_FAILURE_LIMIT
    for n, spelling in enumerate(SPELLINGS):  # each from another address: only the account is counted
        login_post(Client(), spelling, "wrong-guess-1234", address=f"10.5.0.{n}")
    refused = login_post(Client(), cast.alice.email, PASSWORD, address="10.5.1.1")
    assert refused.status_code == 429
    assert login_post(Client(), "alıce@a.test", PASSWORD, address="10.5.1.2").status_code == 429


def test_finding_dotless_i_spelling_gets_no_reset_emails_of_its_own(cast, client):
    url = reverse("accounts:password-reset")
    for n in range(settings.PASSWORD_RESET_LIMIT):
        spelling = SPELLINGS[n % len(SPELLINGS)]
        assert client.post(url, {"email": spelling}, REMOTE_ADDR=f"10.8.0.{n}").status_code in (200, 302)
    assert client.post(url, {"email": cast.alice.email}, REMOTE_ADDR="10.8.1.1").status_code == 429


def test_finding_password_reset_and_logout_are_audited(cast, login):
    client = login(cast.bob)
    assert client.post(reverse("accounts:logout")).status_code == 302
    logout = AuditEntry.objects.get(action="auth.logout")
    assert logout.user == cast.bob and logout.institution_id == cast.institution_a.pk
    owner = Client()
    form_url = owner.get(set_password_url(cast.bob).removeprefix(settings.SITE_URL))["Location"]
    owner.post(form_url, {"new_password1": "Brand-new-pass-77", "new_password2": "Brand-new-pass-77"})
    reset = AuditEntry.objects.get(action="auth.password_reset")
    assert reset.user == cast.bob and reset.institution_id == cast.institution_a.pk
    # The link is single use: a second post sets nothing and records nothing.
    owner.post(form_url, {"new_password1": "Other-new-pass-88", "new_password2": "Other-new-pass-88"})
    assert AuditEntry.objects.filter(action="auth.password_reset").count() == 1


def test_finding_organisation_switch_changes_nothing_on_get(cast, login):
    MembershipFactory(user=cast.bob, organization=cast.institution_b, role=Membership.Role.STAFF)
    client = login(cast.bob)
    switch, ask = reverse("accounts:organization-switch"), reverse("accounts:organization-switch-ask")
    assert client.get(f"{switch}?organization={cast.institution_b.pk}&next=/patients/").status_code == 405
    page = client.get(f"{ask}?organization={cast.institution_b.pk}&next=/patients/")
    assert page.status_code == 200 and "Institution B" in page.content.decode()
    assert client.session.get(SESSION_ORG_KEY) is None
    assert not AuditEntry.objects.filter(action="organization.switch").exists()
    assert client.get(f"{ask}?organization={cast.institution_a.pk + 999}").status_code == 404
    # The page's button posts: that switches, audited.
    response = client.post(switch, {"organization": cast.institution_b.pk, "next": "/patients/"})
    assert response["Location"] == "/patients/"
    assert client.session[SESSION_ORG_KEY] == cast.institution_b.pk
    assert AuditEntry.objects.filter(action="organization.switch", user=cast.bob).count() == 1


def test_finding_partnership_answer_link_asks_before_switching_organisation(cast, partners, login):
    partner_member(partners.quentin, partners.partner_p, Membership.Role.PARTNER_ADMIN, can_book=True)
    client = login(partners.quentin)  # acts for Q ("Quiet Partners") after choosing it
    client.post(reverse("accounts:organization-switch"), {"organization": partners.partner_q.pk})
    acting = client.session[SESSION_ORG_KEY]
    answer = reverse("partners:partnership-answer", args=[partners.partnership_p.pk])
    response = client.get(answer)
    switch, ask = reverse("accounts:organization-switch"), reverse("accounts:organization-switch-ask")
    assert response.status_code == 302
    assert response["Location"] == f"{ask}?organization={partners.partner_p.pk}&next={quote(answer, safe='')}"
    assert client.session[SESSION_ORG_KEY] == acting
    assert client.get(response["Location"]).status_code == 200
    assert client.session[SESSION_ORG_KEY] == acting
    client.post(switch, {"organization": partners.partner_p.pk, "next": answer})
    assert client.session[SESSION_ORG_KEY] == partners.partner_p.pk
