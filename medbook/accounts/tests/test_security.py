"""Authentication hardening (issue 9, F7, F10 and the lower items): each test replays what an attacker or a
careless setting would do and sees it refused."""

import os
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client, override_settings
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from conftest import PASSWORD
from medbook.accounts import security
from medbook.accounts.models import Membership, User
from medbook.audit.models import AuditEntry
from medbook.demo.management.commands.seed_demo import PASSWORD as DEMO_PASSWORD

pytestmark = pytest.mark.django_db
LOGIN = reverse("accounts:login")


def login_post(client: Client, email: str, password: str, address: str = "10.0.0.1"):
    return client.post(LOGIN, {"username": email, "password": password}, REMOTE_ADDR=address)


def age_session(client: Client, **seconds_ago: float) -> None:
    """Move the session's stamps (login_at, seen_at, password_at) back in time."""
    session = client.session
    for key, ago in seconds_ago.items():
        session[key] = time.time() - ago
    session.save()


# Passwords: Argon2id, 12 characters, not like the name or email, not common, not breached.


def test_passwords_are_hashed_with_argon2id_by_the_production_settings():
    from config import settings as production

    assert production.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    with override_settings(PASSWORD_HASHERS=production.PASSWORD_HASHERS):
        assert make_password("Some-long-pass-2026").startswith("argon2$argon2id$")


@pytest.mark.parametrize(
    "password",
    [
        "Short-1a!",  # under 12 characters
        "alice.admin.a.test",  # the email address
        "AliceAdminAlice",  # the full name
        "password1234",  # common
        "Budapest2026",  # breached (the local list)
        "Qwertyuiop123",  # breached: a keyboard walk
        "123456789012345",  # numeric
    ],
)
def test_weak_passwords_are_refused(cast, password):
    with pytest.raises(ValidationError):
        validate_password(password, user=cast.alice)


def test_demo_and_test_passwords_pass_the_validators(cast):
    validate_password(DEMO_PASSWORD, user=cast.alice)
    validate_password(PASSWORD, user=cast.alice)


def test_a_breached_password_is_refused_on_the_set_password_page(cast, client):
    from medbook.accounts.services import set_password_url

    url = set_password_url(cast.bob).removeprefix(settings.SITE_URL)
    form_url = client.get(url)["Location"]
    response = client.post(form_url, {"new_password1": "Sunshine2025!", "new_password2": "Sunshine2025!"})
    assert response.status_code == 200 and "breached" in response.content.decode()
    cast.bob.refresh_from_db()
    assert cast.bob.check_password(PASSWORD)


# Throttling (F7): per account and per address; refused with a 429, never locked for good.


def test_wrong_passwords_then_the_right_one_is_refused_until_the_cool_off(cast, client):
    answers = [
        login_post(client, cast.alice.email, "wrong-guess-1234") for _ in range(settings.AXES_FAILURE_LIMIT)
    ]
    assert [a.status_code for a in answers] == [200] * (settings.AXES_FAILURE_LIMIT - 1) + [429]
    refused = login_post(client, cast.alice.email, PASSWORD)
    assert refused.status_code == 429
    assert "Try again in 15 minutes" in refused.content.decode()
    assert SESSION_KEY not in client.session
    # From another address too: the account is refused whatever the address (a botnet guesses from many).
    assert login_post(Client(), cast.alice.email, PASSWORD, address="10.9.9.9").status_code == 429
    # The case of the email changes nothing.
    assert login_post(Client(), cast.alice.email.upper(), PASSWORD, address="10.9.9.8").status_code == 429
    # After the cool-off the right password works again.
    AccessAttempt.objects.update(
        attempt_time=AccessAttempt.objects.first().attempt_time - timedelta(minutes=16)
    )
    assert login_post(client, cast.alice.email, PASSWORD)["Location"] == reverse("core:home")


def test_one_address_guessing_many_accounts_is_refused(cast, client):
    for n in range(settings.AXES_FAILURE_LIMIT):
        login_post(client, f"someone{n}@a.test", "wrong-guess-1234", address="10.6.6.6")
    assert login_post(client, cast.bob.email, PASSWORD, address="10.6.6.6").status_code == 429
    assert login_post(Client(), cast.bob.email, PASSWORD, address="10.6.6.7").status_code == 302


def test_the_operator_admin_login_is_throttled(cast, client):
    User.objects.create_superuser("op@medbook.test", PASSWORD)
    # /admin/login/ is the application's login, throttled as everyone's; a post there logs nobody in.
    admin_login = client.get(reverse("admin:login") + "?next=/admin/")["Location"]
    assert admin_login == LOGIN + "?next=%2Fadmin%2F"
    client.post(reverse("admin:login"), {"username": "op@medbook.test", "password": PASSWORD})
    assert SESSION_KEY not in client.session
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(admin_login, {"username": "op@medbook.test", "password": "wrong-guess-1234"})
    response = client.post(admin_login, {"username": "op@medbook.test", "password": PASSWORD})
    assert response.status_code == 429 and SESSION_KEY not in client.session


def test_every_wrong_password_answers_late(cast, client, monkeypatch, settings):
    settings.LOGIN_FAILURE_DELAY_SECONDS = 0.5
    slept = []
    monkeypatch.setattr(security.time, "sleep", slept.append)
    login_post(client, cast.alice.email, "wrong-guess-1234")
    login_post(client, cast.alice.email, PASSWORD)
    assert slept == [0.5]


def test_the_password_reset_form_is_throttled_per_address_and_per_email(cast, client):
    url = reverse("accounts:password-reset")
    for n in range(settings.PASSWORD_RESET_LIMIT):
        assert client.post(url, {"email": f"x{n}@a.test"}, REMOTE_ADDR="10.1.1.1").status_code == 302
    assert client.post(url, {"email": cast.bob.email}, REMOTE_ADDR="10.1.1.1").status_code == 429
    for n in range(settings.PASSWORD_RESET_LIMIT):
        client.post(url, {"email": cast.alice.email}, REMOTE_ADDR=f"10.2.2.{n}")
    sent = len(mail.outbox)
    assert client.post(url, {"email": cast.alice.email}, REMOTE_ADDR="10.3.3.3").status_code == 429
    assert len(mail.outbox) == sent


def test_a_password_reset_through_the_mailbox_ends_the_account_refusal(cast, client):
    from medbook.accounts.services import set_password_url

    for _ in range(settings.AXES_FAILURE_LIMIT):
        login_post(client, cast.alice.email, "wrong-guess-1234")
    other = Client()
    form_url = other.get(set_password_url(cast.alice).removeprefix(settings.SITE_URL))["Location"]
    other.post(form_url, {"new_password1": "Brand-new-pass-77", "new_password2": "Brand-new-pass-77"})
    assert login_post(other, cast.alice.email, "Brand-new-pass-77", address="10.4.4.4").status_code == 302


@override_settings(SITE_URL="https://medbook.example")
def test_password_reset_links_use_site_url_not_the_request_host(cast, client):
    client.post(reverse("accounts:password-reset"), {"email": cast.bob.email}, HTTP_HOST="localhost")
    body = mail.outbox[-1].body
    assert "https://medbook.example/accounts/password/" in body and "localhost" not in body


# Two-factor authentication.


def current_code(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def next_time_step(device: TOTPDevice) -> None:
    """As if the app's code had moved on (django-otp refuses a code twice) and the delay after a wrong code
    (per device) had passed."""
    TOTPDevice.objects.filter(pk=device.pk).update(
        last_t=-1, throttling_failure_count=0, throttling_failure_timestamp=None
    )
    device.refresh_from_db()


def enrol(client: Client, user) -> tuple[TOTPDevice, list[str]]:
    assert client.post(reverse("accounts:two-factor"))["Location"] == reverse("accounts:two-factor-confirm")
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    page = client.get(reverse("accounts:two-factor-confirm")).content.decode()
    assert "otpauth://totp/" in page
    wrong = client.post(reverse("accounts:two-factor-confirm"), {"code": "000000"})
    assert wrong.status_code == 422 or current_code(device) == "000000"
    response = client.post(reverse("accounts:two-factor-confirm"), {"code": current_code(device)})
    assert response.status_code == 200
    codes = list(response.context["codes"])
    assert len(codes) == 10 and all(code in response.content.decode() for code in codes)
    device.refresh_from_db()
    assert device.confirmed
    return device, codes


def test_enrolled_user_needs_the_code_after_the_password(cast, login):
    device, codes = enrol(login(cast.bob), cast.bob)
    assert AuditEntry.objects.filter(action="account.two_factor_enable", user=cast.bob).exists()
    attacker = Client()  # knows the password, not the phone
    assert login_post(attacker, cast.bob.email, PASSWORD).status_code == 302
    home = attacker.get(reverse("patients:patient-list"))
    assert home.status_code == 302 and home["Location"].startswith(reverse("accounts:two-factor-verify"))
    assert attacker.get(reverse("admin:index"))["Location"].startswith(reverse("accounts:two-factor-verify"))
    verify = reverse("accounts:two-factor-verify") + "?next=" + reverse("patients:patient-list")
    assert attacker.post(verify, {"code": "12345"}).status_code == 422
    assert attacker.get(reverse("patients:patient-list")).status_code == 302
    # The owner enters the current code and gets in.
    owner = Client()
    login_post(owner, cast.bob.email, PASSWORD, address="10.0.0.2")
    next_time_step(device)
    response = owner.post(verify, {"code": current_code(device)})
    assert response.status_code == 302 and response["Location"] == reverse("patients:patient-list")
    assert owner.get(reverse("patients:patient-list")).status_code == 200


def test_an_enrolment_reaches_the_users_other_sessions_within_a_minute(cast, login):
    other = Client()
    other.force_login(cast.bob)
    assert other.get(reverse("patients:patient-list")).status_code == 200
    enrol(login(cast.bob), cast.bob)
    session = other.session  # as if a minute had passed
    session[security.SESSION_ENROLLED] = [False, time.time() - 61]
    session.save()
    assert other.get(reverse("patients:patient-list"))["Location"].startswith(
        reverse("accounts:two-factor-verify")
    )


def test_a_recovery_code_works_once(cast, login):
    _device, codes = enrol(login(cast.bob), cast.bob)
    verify = reverse("accounts:two-factor-verify")
    first = Client()
    login_post(first, cast.bob.email, PASSWORD)
    assert first.post(verify, {"code": codes[0]}).status_code == 302
    assert first.get(reverse("patients:patient-list")).status_code == 200
    second = Client()
    login_post(second, cast.bob.email, PASSWORD, address="10.0.0.3")
    assert second.post(verify, {"code": codes[0]}).status_code == 422
    assert second.get(reverse("patients:patient-list")).status_code == 302


def test_the_operator_admin_login_asks_for_the_code_of_an_enrolled_operator(cast, client):
    operator = User.objects.create_superuser("op@medbook.test", PASSWORD)
    device = TOTPDevice.objects.create(user=operator, name="app", confirmed=True)
    client.post(LOGIN + "?next=/admin/", {"username": operator.email, "password": PASSWORD})
    assert client.get(reverse("admin:index"))["Location"].startswith(reverse("accounts:two-factor-verify"))
    assert device.pk


@override_settings(REQUIRE_2FA_FOR_ADMINS=True)
def test_administrators_must_enrol_when_the_platform_requires_it(cast, login):
    admin = login(cast.alice)
    response = admin.get(reverse("patients:patient-list"))
    assert response.status_code == 302 and response["Location"] == reverse("accounts:two-factor")
    enrol(admin, cast.alice)
    assert admin.get(reverse("patients:patient-list")).status_code == 200
    # ...and cannot turn it off.
    admin.post(reverse("accounts:two-factor-disable"))
    assert TOTPDevice.objects.filter(user=cast.alice, confirmed=True).exists()
    # Reception is not an administrator: not forced.
    assert Client().get("/") and login(cast.bob).get(reverse("patients:patient-list")).status_code == 200


def test_an_institution_can_require_two_factor_of_its_users(cast, login):
    admin = login(cast.alice)
    policy = reverse("accounts:two-factor-policy")
    age_session(admin, password_at=11 * 60)
    assert admin.post(policy, {"required": "1"})["Location"].startswith(reverse("accounts:reauthenticate"))
    age_session(admin, password_at=0)
    assert admin.post(policy, {"required": "1"})["Location"] == reverse("accounts:member-list")
    assert AuditEntry.objects.filter(action="organization.two_factor_set", user=cast.alice).exists()
    reception = Client()
    reception.force_login(cast.bob)
    assert reception.get(reverse("patients:patient-list"))["Location"] == reverse("accounts:two-factor")
    assert reception.post(policy, {"required": "0"}).status_code == 302  # to the enrolment page, not a change
    enrol(reception, cast.bob)
    assert reception.get(reverse("patients:patient-list")).status_code == 200
    reception.post(reverse("accounts:two-factor-disable"))
    assert TOTPDevice.objects.filter(user=cast.bob, confirmed=True).exists()
    assert reception.post(policy, {"required": "0"}).status_code == 403  # reception manages no users
    stranger = Client()
    stranger.force_login(cast.charlie)
    assert stranger.get(reverse("patients:patient-list")).status_code == 200


def test_two_factor_can_be_turned_off_by_a_user_not_required_to_keep_it(cast, login):
    client = login(cast.bob)
    enrol(client, cast.bob)
    assert client.post(reverse("accounts:two-factor-disable")).status_code == 302
    assert not TOTPDevice.objects.filter(user=cast.bob).exists()
    fresh = Client()
    login_post(fresh, cast.bob.email, PASSWORD)
    assert fresh.get(reverse("patients:patient-list")).status_code == 200


def test_the_header_links_to_the_two_factor_page(cast, login):
    page = login(cast.bob).get(reverse("patients:patient-list")).content.decode()
    assert reverse("accounts:two-factor") in page


# Re-authentication before role changes, partner deletion and data-access changes.


def test_a_role_change_needs_the_password_again_after_ten_minutes(cast, login):
    client = login(cast.alice)
    bob = Membership.objects.get(user=cast.bob)
    edit = reverse("accounts:member-edit", args=[bob.pk])
    age_session(client, password_at=11 * 60)
    response = client.post(edit, {"role": "admin"})
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:reauthenticate"))
    bob.refresh_from_db()
    assert bob.role == "staff"
    toggle = client.post(reverse("accounts:member-toggle", args=[bob.pk]), {"active": "0"})
    assert toggle["Location"].startswith(reverse("accounts:reauthenticate"))
    bob.refresh_from_db()
    assert bob.is_active
    confirm = reverse("accounts:reauthenticate") + "?next=" + edit
    assert client.post(confirm, {"password": "wrong-guess-1234", "next": edit}).status_code == 422
    assert client.post(confirm, {"password": PASSWORD, "next": edit})["Location"] == edit
    assert client.post(edit, {"role": "admin"}).status_code == 302
    bob.refresh_from_db()
    assert bob.role == "admin"


def test_partner_deletion_and_data_access_changes_need_the_password_again(cast, partners, login):
    client = login(cast.alice)
    age_session(client, password_at=11 * 60)
    for name in ("partners:partner-delete", "partners:partner-edit"):
        response = client.get(reverse(name, args=[partners.partnership_p.pk]))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:reauthenticate"))


# Sessions (F10).


def test_sessions_last_eight_hours_and_thirty_idle_minutes():
    assert settings.SESSION_COOKIE_AGE == 8 * 3600
    assert settings.SESSION_IDLE_TIMEOUT == 30 * 60


def test_an_idle_session_ends(cast, login):
    client = login(cast.bob)
    age_session(client, seen_at=31 * 60)
    response = client.get(reverse("patients:patient-list"))
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)
    assert client.get(reverse("patients:patient-list"))["Location"].startswith(LOGIN)


def test_a_session_ends_eight_hours_after_login_however_busy(cast, login):
    client = login(cast.bob)
    age_session(client, login_at=8 * 3600 + 60, seen_at=10)
    assert client.get(reverse("patients:patient-list"))["Location"].startswith(LOGIN)


def test_an_active_session_goes_on(cast, login):
    client = login(cast.bob)
    age_session(client, seen_at=29 * 60)
    assert client.get(reverse("patients:patient-list")).status_code == 200


def test_the_session_key_changes_at_login(cast, client):
    session = client.session
    session["planted"] = "by an attacker"
    session.save()
    client.cookies[settings.SESSION_COOKIE_NAME] = session.session_key
    planted = session.session_key
    login_post(client, cast.bob.email, PASSWORD)
    assert client.session.session_key != planted
    assert client.session.get(SESSION_KEY) == str(cast.bob.pk)


def test_a_deactivated_user_session_ends_at_the_next_request(cast, login):
    client = login(cast.bob)
    assert client.get(reverse("patients:patient-list")).status_code == 200
    User.objects.filter(pk=cast.bob.pk).update(is_active=False)
    assert client.get(reverse("patients:patient-list"))["Location"].startswith(LOGIN)


# Web hardening.


def test_authenticated_pages_are_never_stored(cast, login):
    page = login(cast.bob).get(reverse("patients:patient-list"))
    assert "no-store" in page["Cache-Control"] and "private" in page["Cache-Control"]


def test_csp_forbids_base_and_plugins(client):
    policy = client.get(LOGIN)["Content-Security-Policy"]
    assert "base-uri 'none'" in policy and "object-src 'none'" in policy


def production_env(tmp_path, **changes) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SECRET_", "REQUIRE_2FA"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DEBUG="false",
        SECRET_KEY="a-production-key-" + "x7Qm" * 12,
        SITE_URL="https://medbook.example",
        ALLOWED_HOSTS="medbook.example",
        DATABASE_URL=f"sqlite:///{tmp_path / 'deploy.sqlite3'}",
        SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto",
    )
    env.update(changes)
    return {k: v for k, v in env.items() if v is not None}


def manage(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_deploy_checks_pass_with_production_settings(tmp_path):
    result = manage(production_env(tmp_path), "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_settings_turn_on_https_and_two_factor_for_admins(tmp_path):
    code = (
        "from django.conf import settings as s; print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, "
        "s.SESSION_COOKIE_SECURE, s.SECURE_PROXY_SSL_HEADER, s.REQUIRE_2FA_FOR_ADMINS)"
    )
    result = manage(production_env(tmp_path), "shell", "--no-imports", "-c", code)
    assert result.stdout.split() == [
        "True",
        "31536000",
        "True",
        "('HTTP_X_FORWARDED_PROTO',",
        "'https')",
        "True",
    ]


def test_without_a_secret_key_production_refuses_to_start(tmp_path):
    result = manage(production_env(tmp_path, SECRET_KEY=None), "check")
    assert result.returncode != 0 and "SECRET_KEY is not set" in result.stderr
