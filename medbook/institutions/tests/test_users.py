"""Institution users: invite with a set-password email, deactivate and reactivate (B-10)."""

import re
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from medbook.accounts.models import Membership, User
from medbook.audit.models import AuditEntry
from medbook.institutions.tests.factories import PASSWORD, MembershipFactory, UserFactory

LIST = reverse("accounts:member-list")
CREATE = reverse("accounts:member-create")
NEW_PASSWORD = "Fresh-horse-battery-77"


def invite(client, captured, **changes):
    data = {"full_name": "Dora Doctor", "email": "Dora@A.test", "role": "admin", "language": "en", **changes}
    with captured(execute=True):
        return client.post(CREATE, data, follow=True)


def sent_mail() -> list:
    """The mail sent so far, after the outbox worker has run where the invitation goes through the outbox."""
    try:
        from medbook.notifications.worker import outbox_drain
    except ImportError:  # before the outbox: the invitation is sent on commit
        return mail.outbox
    outbox_drain()
    return mail.outbox


def toggle_url(user) -> str:
    return reverse("accounts:member-toggle", args=[Membership.objects.get(user=user).pk])


@pytest.fixture
def dave(cast):
    """A second administrator of institution A, logged in on a browser of his own."""
    user = UserFactory(email="dave@a.test", full_name="Dave Deputy")
    MembershipFactory(user=user, organization=cast.institution_a, role=Membership.Role.ADMIN)
    browser = Client()
    browser.force_login(user)
    return browser


def test_b10_admin_sees_the_institution_users(cast, login):
    content = login(cast.alice).get(LIST).content.decode()
    assert "alice@a.test" in content and "bob@a.test" in content
    assert "Administrator" in content and "Reception" in content
    assert "charlie@b.test" not in content
    assert "Add user" in content


def test_b10_admin_invites_user_and_one_email_is_sent(cast, login, django_capture_on_commit_callbacks):
    response = invite(login(cast.alice), django_capture_on_commit_callbacks)
    assert response.redirect_chain[-1][0] == LIST
    assert b"dora@a.test" in response.content and b"An invitation" in response.content
    membership = Membership.objects.get(user__email="dora@a.test")
    assert (membership.organization_id, membership.role) == (cast.institution_a.pk, "admin")
    assert not membership.user.has_usable_password()
    assert len(sent_mail()) == 1
    assert mail.outbox[0].to == ["dora@a.test"] and "Institution A" in mail.outbox[0].subject


def test_b10_invited_user_sets_password_and_logs_in(cast, login, django_capture_on_commit_callbacks):
    invite(login(cast.alice), django_capture_on_commit_callbacks)
    link = re.search(r"https?://\S+", sent_mail()[0].body).group(0)
    browser = Client()
    response = browser.get(urlsplit(link).path)
    assert response.status_code == 302 and "set-password" in response["Location"]
    form = browser.get(response["Location"])
    assert b"Set your password" in form.content
    done = browser.post(response["Location"], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302
    logged_in = browser.post(reverse("accounts:login"), {"username": "dora@a.test", "password": NEW_PASSWORD})
    assert logged_in.status_code == 302
    assert browser.get(reverse("institutions:location-list")).status_code == 200
    assert browser.get(urlsplit(link).path).status_code == 200  # used once: the link no longer works
    assert b"no longer valid" in browser.get(urlsplit(link).path).content


def test_b10_reception_user_is_invited_without_administration(
    cast, login, django_capture_on_commit_callbacks
):
    invite(login(cast.alice), django_capture_on_commit_callbacks, role="staff")
    dora = User.objects.get(email="dora@a.test")
    browser = Client()
    browser.force_login(dora)
    assert browser.get(reverse("institutions:location-list")).status_code == 403


def test_b10_existing_member_cannot_be_invited_twice(cast, login, django_capture_on_commit_callbacks):
    response = invite(login(cast.alice), django_capture_on_commit_callbacks, email="bob@a.test")
    assert response.status_code == 422
    assert b"This person is already a user here." in response.content
    assert Membership.objects.filter(user=cast.bob).count() == 1
    assert sent_mail() == []


def test_b10_person_with_an_account_elsewhere_is_asked_to_accept_and_the_admin_learns_nothing(
    cast, login, django_capture_on_commit_callbacks
):
    new = invite(login(cast.alice), django_capture_on_commit_callbacks, email="nobody@new.test", role="staff")
    existing = invite(
        login(cast.alice), django_capture_on_commit_callbacks, email="charlie@b.test", role="staff"
    )
    # The same words for a new person and for one who already has an account (issue 9).
    assert b"An invitation is on its way to nobody@new.test." in new.content
    assert b"An invitation is on its way to charlie@b.test." in existing.content
    assert b"already has an account" not in existing.content
    rows = {
        email: re.search(
            rf'data-user="{re.escape(email)}".*?data-testid="active">([^<]*)<',
            existing.content.decode(),
            re.S,
        )
        for email in ("nobody@new.test", "charlie@b.test")
    }
    assert {email: row.group(1) for email, row in rows.items()} == {
        "nobody@new.test": "Invitation sent",
        "charlie@b.test": "Invitation sent",
    }
    # No role is granted until Charlie accepts: he cannot act for A.
    membership = Membership.objects.get(user=cast.charlie, organization=cast.institution_a)
    assert not membership.is_active and membership.is_invitation_pending
    charlie = Client()
    charlie.force_login(cast.charlie)
    switch = charlie.post(reverse("accounts:organization-switch"), {"organization": cast.institution_a.pk})
    assert switch.status_code in (302, 403, 404)
    assert b"Institution A" not in charlie.get(reverse("core:home"), follow=True).content
    # Nor can the admin grant it by "Reactivate": that only asks him again.
    toggled = login(cast.alice).post(reverse("accounts:member-toggle", args=[membership.pk]), {"active": "1"})
    assert toggled.status_code == 302
    membership.refresh_from_db()
    assert not membership.is_active
    messages = [m for m in sent_mail() if m.to == ["charlie@b.test"]]
    assert len(messages) == 2 and cast.charlie.check_password(PASSWORD)
    assert "/accounts/password/" not in messages[0].body  # no set-password link for an existing account
    first, latest = (re.search(r"https?://\S+", m.body).group(0) for m in messages)
    assert charlie.get(urlsplit(first).path).status_code == 404  # replaced by the newer link
    # Another user (Alice) cannot use Charlie's link.
    assert login(cast.alice).post(urlsplit(latest).path).status_code == 404
    # Charlie accepts: now he acts for A as reception.
    page = charlie.get(urlsplit(latest).path)
    assert page.status_code == 200 and b"Institution A invites you" in page.content
    assert charlie.post(urlsplit(latest).path).status_code == 302
    membership.refresh_from_db()
    assert membership.is_active and not membership.is_invitation_pending
    assert b"Institution A" in charlie.get(reverse("core:home"), follow=True).content
    assert AuditEntry.objects.filter(action="member.accept", user=cast.charlie).exists()
    assert charlie.post(urlsplit(latest).path).status_code == 404  # single use


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"email": "not-an-email"}, b"Enter a valid email address."),
        ({"role": "partner_admin"}, b"Select a valid choice."),
        ({"full_name": ""}, b"This field is required."),
    ],
)
def test_b10_bad_invitation_is_a_form_error(
    cast, login, django_capture_on_commit_callbacks, changes, message
):
    response = invite(login(cast.alice), django_capture_on_commit_callbacks, **changes)
    assert response.status_code == 422 and message in response.content
    assert not Membership.objects.filter(organization=cast.institution_a, role="partner_admin").exists()
    assert sent_mail() == []


def test_b10_deactivated_user_loses_access_at_once(cast, login, dave):
    assert dave.get(reverse("institutions:location-list")).status_code == 200
    response = login(cast.alice).post(
        toggle_url(User.objects.get(email="dave@a.test")), {"active": "0"}, follow=True
    )
    assert b"Reactivate" in response.content
    for name in ["institutions:location-list", "accounts:member-list", "institutions:physician-create"]:
        assert dave.get(reverse(name)).status_code == 403
    assert dave.get(reverse("core:home")).status_code == 200  # logged in, but acting for no institution


def test_b10_reactivated_user_regains_access(cast, login, dave):
    dave_user = User.objects.get(email="dave@a.test")
    alice = login(cast.alice)
    alice.post(toggle_url(dave_user), {"active": "0"})
    alice.post(toggle_url(dave_user), {"active": "1"})
    assert Membership.objects.get(user=dave_user).is_active
    assert dave.get(reverse("institutions:location-list")).status_code == 200


def test_b10_toggle_with_htmx_answers_the_row(cast, login):
    response = login(cast.alice).post(toggle_url(cast.bob), {"active": "0"}, headers={"HX-Request": "true"})
    content = response.content.decode()
    assert response.status_code == 200 and content.strip().startswith("<tr")
    assert "bob@a.test" in content and "Reactivate" in content and "<html" not in content
    assert not Membership.objects.get(user=cast.bob).is_active


def test_b10_admin_cannot_deactivate_self(cast, login):
    response = login(cast.alice).post(toggle_url(cast.alice), {"active": "0"}, follow=True)
    assert response.status_code == 200
    assert b"You cannot deactivate yourself." in response.content
    assert Membership.objects.get(user=cast.alice).is_active


def test_b10_stranger_cannot_deactivate_a_user(cast, login):
    response = login(cast.charlie).post(toggle_url(cast.bob), {"active": "0"})
    assert response.status_code == 404
    assert Membership.objects.get(user=cast.bob).is_active


def test_b10_staff_cannot_invite(cast, login, django_capture_on_commit_callbacks):
    response = invite(login(cast.bob), django_capture_on_commit_callbacks)
    assert response.status_code == 403
    assert not User.objects.filter(email="dora@a.test").exists()
    assert sent_mail() == []
