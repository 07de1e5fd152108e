"""Issue 19, critical: the password alone never completes, replaces or removes a second factor.

A session that has given only the password of an enrolled user (half logged in) reaches the code page, the
logout and the language switch, nothing else: every other page sends it to the code page, and posting
"Set up", a code, "Turn off" or "New recovery codes" changes nothing. The operator's /admin/ login is the
same login. Replayed for every member of the cast.
"""

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client, override_settings
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from conftest import PASSWORD, actor_of
from medbook.accounts.models import User
from medbook.accounts.tests.test_security import (
    LOGIN,
    age_session,
    current_code,
    enrol,
    login_post,
    next_time_step,
)
from medbook.accounts.two_factor import (
    Assurance,
    two_factor_confirm,
    two_factor_disable,
    two_factor_recovery_renew,
    two_factor_start,
)
from medbook.audit.models import AuditEntry
from medbook.core.errors import NotPermitted

pytestmark = pytest.mark.django_db
VERIFY = reverse("accounts:two-factor-verify")
ROLES = ["institution_admin", "reception", "partner_admin", "partner_booker", "operator"]
# Every page a half-logged-in session tries, the enrolment pages and admin among them.
PAGES = [
    "core:home",
    "accounts:two-factor",
    "accounts:two-factor-confirm",
    "accounts:reauthenticate",
    "accounts:api-token-list",
    "accounts:email-preferences",
    "accounts:member-list",
    "admin:index",
    "admin:login",
]
CHANGES = [  # the posts that would change the second factor
    ("accounts:two-factor", {}),
    ("accounts:two-factor-confirm", {"code": "123456"}),
    ("accounts:two-factor-disable", {}),
    ("accounts:two-factor-recovery", {}),
]


def cast_member(role: str, cast, partners) -> User:
    if role == "operator":
        return User.objects.create_superuser("op@medbook.test", PASSWORD, full_name="Olga Operator")
    return {
        "institution_admin": cast.alice,
        "reception": cast.bob,
        "partner_admin": partners.paula,
        "partner_booker": partners.peter,
    }[role]


def second_factor_of(user) -> tuple:
    """What the owner's second factor is: its authenticator (id and secret) and its recovery codes."""
    devices = list(TOTPDevice.objects.filter(user=user).values_list("pk", "key", "confirmed"))
    codes = sorted(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))
    return devices, codes


def half_logged_in(user, address: str = "10.66.0.1") -> Client:
    """The attacker's session: the right password, no code."""
    attacker = Client()
    response = login_post(attacker, user.email, PASSWORD, address=address)
    assert response.status_code == 302 and SESSION_KEY in attacker.session
    return attacker


@pytest.mark.parametrize("role", ROLES)
def test_finding_password_alone_cannot_replace_the_second_factor(role, cast, partners, login):
    victim = cast_member(role, cast, partners)
    enrol(login(victim), victim)
    before = second_factor_of(victim)
    attacker = half_logged_in(victim)
    for name in PAGES:
        response = attacker.get(reverse(name))
        assert response.status_code == 302 and response["Location"].startswith(VERIFY), name
    for name, data in CHANGES:
        response = attacker.post(reverse(name), data)
        assert response.status_code == 302 and response["Location"].startswith(VERIFY), name
    # A set-up the owner left unfinished cannot be confirmed by whoever has the password either.
    pending = TOTPDevice.objects.create(user=victim, name="authenticator", confirmed=False)
    response = attacker.post(reverse("accounts:two-factor-confirm"), {"code": current_code(pending)})
    assert response.status_code == 302 and response["Location"].startswith(VERIFY)
    pending.delete()
    assert second_factor_of(victim) == before
    assert not AuditEntry.objects.filter(action="account.two_factor_enable", user=victim).count() > 1
    # Still half logged in: the code page, the language and the logout are all it reaches.
    assert attacker.get(reverse("core:home"))["Location"].startswith(VERIFY)
    assert attacker.get(VERIFY).status_code == 200
    assert attacker.post(reverse("core:language-set"), {"language": "hu"})["Location"] != VERIFY
    assert attacker.post(reverse("accounts:logout")).status_code == 302
    assert SESSION_KEY not in attacker.session


@pytest.mark.parametrize("role", ROLES)
def test_finding_second_factor_changes_refused_by_the_services_without_the_code(role, cast, partners, login):
    victim = cast_member(role, cast, partners)
    enrol(login(victim), victim)
    before = second_factor_of(victim)
    actor = actor_of(victim)
    password_only = Assurance(verified=False, recent_password=True)
    pending = TOTPDevice.objects.create(user=victim, name="authenticator", confirmed=False)
    attempts = [
        lambda: two_factor_start(actor=actor, assurance=password_only),
        lambda: two_factor_confirm(
            actor=actor, assurance=password_only, device=pending, code=current_code(pending)
        ),
        lambda: two_factor_recovery_renew(actor=actor, assurance=password_only),
        lambda: two_factor_disable(actor=actor, assurance=password_only, required=False),
    ]
    for attempt in attempts:
        with pytest.raises(NotPermitted):
            attempt()
    pending.delete()
    assert second_factor_of(victim) == before


def test_finding_second_factor_changes_need_a_fresh_password_in_a_verified_session(cast, login):
    owner = login(cast.alice)
    device, _codes = enrol(owner, cast.alice)
    before = second_factor_of(cast.alice)
    age_session(owner, password_at=11 * 60)
    for name, data in CHANGES:
        response = owner.post(reverse(name), data)
        assert response.status_code == 302, name
        assert response["Location"].startswith(reverse("accounts:reauthenticate")), name
    assert second_factor_of(cast.alice) == before
    # With the password given again the owner moves to a new app: the old one stops, the session stays in.
    age_session(owner, password_at=0)
    assert owner.post(reverse("accounts:two-factor"))["Location"] == reverse("accounts:two-factor-confirm")
    new = TOTPDevice.objects.get(user=cast.alice, confirmed=False)
    response = owner.post(reverse("accounts:two-factor-confirm"), {"code": current_code(new)})
    assert response.status_code == 200 and len(response.context["codes"]) == 10
    assert list(TOTPDevice.objects.filter(user=cast.alice).values_list("pk", flat=True)) == [new.pk]
    assert not TOTPDevice.objects.filter(pk=device.pk).exists()
    assert owner.get(reverse("patients:patient-list")).status_code == 200
    entries = AuditEntry.objects.filter(action="account.two_factor_enable", user=cast.alice).order_by("pk")
    assert [entry.details["replaced"] for entry in entries] == [False, True]


def test_finding_recovery_codes_renewed_keep_the_session_verified(cast, login):
    _device, codes = enrol(login(cast.bob), cast.bob)
    session = Client()
    login_post(session, cast.bob.email, PASSWORD)
    assert session.post(VERIFY, {"code": codes[0]}).status_code == 302
    response = session.post(reverse("accounts:two-factor-recovery"))
    assert response.status_code == 200
    fresh = list(response.context["codes"])
    assert set(fresh).isdisjoint(codes)
    assert session.get(reverse("patients:patient-list")).status_code == 200
    assert AuditEntry.objects.filter(action="account.two_factor_recovery_renew", user=cast.bob).exists()
    # The old codes are gone, the new ones work.
    other = Client()
    login_post(other, cast.bob.email, PASSWORD, address="10.0.0.9")
    assert other.post(VERIFY, {"code": codes[1]}).status_code == 422
    StaticDevice.objects.filter(user=cast.bob).update(throttling_failure_count=0)  # the delay after a miss
    assert other.post(VERIFY, {"code": fresh[0]}).status_code == 302


# The operator's /admin/.


def test_finding_admin_login_is_the_application_login_with_the_code(cast, client):
    operator = User.objects.create_superuser("op@medbook.test", PASSWORD)
    device = TOTPDevice.objects.create(user=operator, name="app", confirmed=True)
    # Django's plain admin login is gone: the form's post logs nobody in, its page sends to the app's login.
    client.post(reverse("admin:login"), {"username": operator.email, "password": PASSWORD})
    assert SESSION_KEY not in client.session
    to_login = client.get(reverse("admin:index"))
    assert to_login.status_code == 302
    assert client.get(to_login["Location"])["Location"] == LOGIN + "?next=%2Fadmin%2F"
    response = client.post(LOGIN + "?next=/admin/", {"username": operator.email, "password": PASSWORD})
    assert response["Location"] == "/admin/"
    assert client.get("/admin/")["Location"].startswith(VERIFY)
    assert client.get(reverse("admin:accounts_user_changelist"))["Location"].startswith(VERIFY)
    assert client.post(reverse("accounts:two-factor"))["Location"].startswith(VERIFY)
    assert TOTPDevice.objects.filter(user=operator).count() == 1
    next_time_step(device)
    verified = client.post(VERIFY + "?next=/admin/", {"code": current_code(device)})
    assert verified["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    assert client.get(reverse("admin:login"))["Location"] == reverse("admin:index")


@override_settings(REQUIRE_2FA_FOR_ADMINS=True)
def test_finding_admin_opens_to_an_operator_who_must_enrol_only_after_enrolment(cast, client):
    operator = User.objects.create_superuser("op@medbook.test", PASSWORD)
    login_post(client, operator.email, PASSWORD)
    assert client.get("/admin/")["Location"] == reverse("accounts:two-factor")
    assert client.get(reverse("admin:accounts_user_changelist"))["Location"] == reverse("accounts:two-factor")
    enrol(client, operator)
    assert client.get("/admin/").status_code == 200


def test_finding_admin_refuses_a_logged_in_member_who_is_not_the_operator(cast, login):
    member = login(cast.alice)
    assert member.get(reverse("admin:login")).status_code == 403
    assert member.get("/admin/")["Location"].startswith(reverse("admin:login"))


def test_a_user_without_a_second_factor_may_still_enrol_after_the_password(cast, client):
    login_post(client, cast.bob.email, PASSWORD)
    assert client.get(reverse("patients:patient-list")).status_code == 200
    device, _codes = enrol(client, cast.bob)
    assert client.get(reverse("patients:patient-list")).status_code == 200
    assert device.confirmed


@override_settings(REQUIRE_2FA_FOR_ADMINS=True)
def test_an_administrator_who_must_enrol_gives_the_password_again_when_it_is_old(cast, client):
    login_post(client, cast.alice.email, PASSWORD)
    age_session(client, password_at=11 * 60)
    page = "http://testserver" + reverse("accounts:two-factor")
    again = client.post(reverse("accounts:two-factor"), HTTP_REFERER=page)
    assert again["Location"].startswith(reverse("accounts:reauthenticate"))
    assert client.get(again["Location"]).status_code == 200  # not sent back to the enrolment page
    response = client.post(again["Location"], {"password": PASSWORD})
    assert response["Location"] == page
    enrol(client, cast.alice)
    assert client.get(reverse("patients:patient-list")).status_code == 200
