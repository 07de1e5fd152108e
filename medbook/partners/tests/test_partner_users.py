""" "Administration / Admin Users" of a partner (P-10, N-3): add, permissions, deactivate, switch."""

import re
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.urls import reverse

from medbook.accounts.models import Membership, User
from medbook.institutions.tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

USERS = reverse("accounts:member-list")
ADD = reverse("accounts:member-create")


def _add(client, **overrides):
    data = {"full_name": "Nadia New", "email": "nadia@p.test", "can_book": "on", "language": "en"}
    data.update(overrides)
    return client.post(ADD, data)


def test_p10_partner_admin_adds_a_user_who_gets_a_set_password_link(cast, partners, login, deliver_outbox):
    client = login(partners.paula)
    assert _add(client).status_code == 302
    membership = Membership.objects.get(user__email="nadia@p.test")
    assert membership.organization_id == partners.partner_p.pk and membership.can_book
    assert membership.role == Membership.Role.PARTNER_USER
    assert deliver_outbox() == 1
    message = mail.outbox[0]
    assert message.to == ["nadia@p.test"] and "CallCenter Ltd" in message.body
    assert "/accounts/password/" in message.body
    page = client.get(USERS).content.decode()
    assert "nadia@p.test" in page


def test_p10_user_without_booking_permission(cast, partners, login):
    _add(login(partners.paula), email="vera@p.test", can_book="")
    assert not Membership.objects.get(user__email="vera@p.test").can_book


def test_p10_permissions_can_be_changed(cast, partners, login):
    client = login(partners.paula)
    petra = Membership.objects.get(user=partners.petra)
    assert (
        client.post(reverse("accounts:member-edit", args=[petra.pk]), {"can_book": "on"}).status_code == 302
    )
    petra.refresh_from_db()
    assert petra.can_book
    own = Membership.objects.get(user=partners.paula)
    response = client.post(reverse("accounts:member-edit", args=[own.pk]), {"can_book": "on"})
    assert response.status_code == 422 and "own administrator role" in response.content.decode()


def test_p10_deactivation_ends_access_at_once(cast, partners, login, client):
    peter = Membership.objects.get(user=partners.peter)
    login(partners.peter)
    assert client.get(reverse("partners:book")).status_code == 200
    admin = client.__class__()
    admin.force_login(partners.paula)
    assert admin.post(reverse("accounts:member-toggle", args=[peter.pk]), {"active": "0"}).status_code == 302
    peter.refresh_from_db()
    assert not peter.is_active
    assert client.get(reverse("partners:book")).status_code == 403  # the same session, the next request


def test_p10_only_the_partner_admin_manages_users(cast, partners, login):
    for user in (partners.peter, partners.petra):
        client = login(user)
        assert client.get(USERS).status_code == 403
        assert _add(client, email=f"x-{user.pk}@p.test").status_code == 403
    # The same members page shows an institution's admin only her own institution's users.
    page = login(cast.alice).get(USERS).content.decode()
    assert "alice@a.test" in page and partners.peter.email not in page and partners.paula.email not in page
    _add(login(cast.alice), email="x-alice@p.test")
    assert not Membership.objects.filter(
        user__email="x-alice@p.test", organization=partners.partner_p
    ).exists()
    assert not User.objects.filter(
        email__startswith="x-", memberships__organization=partners.partner_p
    ).exists()


def test_p10_another_partners_user_is_404(cast, partners, login):
    client = login(partners.quentin)
    peter = Membership.objects.get(user=partners.peter)
    assert client.post(reverse("accounts:member-toggle", args=[peter.pk]), {"active": "0"}).status_code == 404
    assert client.post(reverse("accounts:member-edit", args=[peter.pk]), {}).status_code == 404
    peter.refresh_from_db()
    assert peter.is_active and peter.can_book


def test_p10_duplicate_user_gets_a_clear_message(cast, partners, login):
    response = _add(login(partners.paula), email="peter@p.test")
    assert response.status_code == 422 and "already a user here" in response.content.decode()


def test_p10_user_of_several_organisations_switches_and_the_page_says_for_whom(cast, partners, login):
    MembershipFactory(user=partners.peter, organization=cast.institution_b, role=Membership.Role.STAFF)
    client = login(partners.peter)
    page = client.get(reverse("partners:book")).content.decode()
    assert 'id="org-switch"' in page
    client.post(reverse("accounts:organization-switch"), {"organization": cast.institution_b.pk, "next": "/"})
    assert client.get(reverse("partners:book")).status_code == 403  # acting for the institution now
    calendar = client.get(reverse("scheduling:calendar")).content.decode()
    assert f'value="{cast.institution_b.pk}" selected' in calendar


def test_n3_emailed_link_sets_the_password(cast, partners, login, deliver_outbox, client):
    _add(login(partners.paula))
    deliver_outbox()
    path = urlsplit(re.search(r"https?://\S+", mail.outbox[0].body).group()).path
    client.logout()
    form_page = client.get(path, follow=True)
    set_url = form_page.redirect_chain[-1][0] if form_page.redirect_chain else path
    done = client.post(set_url, {"new_password1": "Nadia-pass-2026", "new_password2": "Nadia-pass-2026"})
    assert done.status_code == 302
    assert User.objects.get(email="nadia@p.test").check_password("Nadia-pass-2026")


def test_p10_partner_admin_adding_an_existing_account_only_asks_the_person(
    cast, partners, login, deliver_outbox
):
    # Paula types Bob's address (reception at A): Bob is asked, not made a booking agent of P behind his back.
    response = login(partners.paula).post(
        ADD, {"full_name": "Bob", "email": "bob@a.test", "can_book": "on", "language": "en"}, follow=True
    )
    content = response.content.decode()
    assert "An invitation is on its way to bob@a.test." in content and "already has an account" not in content
    membership = Membership.objects.get(user=cast.bob, organization=partners.partner_p)
    assert not membership.is_active
    assert deliver_outbox() == 1
    message = mail.outbox[0]
    assert message.to == ["bob@a.test"] and "/accounts/password/" not in message.body
    assert "/accounts/members/accept/" in message.body
    assert login(cast.bob).get(reverse("partners:book")).status_code in (302, 403)
