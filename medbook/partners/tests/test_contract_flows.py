"""P-2, P-3, N-1, N-2: both contract paths, with emails received by a real SMTP server."""

from datetime import timedelta

import pytest
from django.core import signing
from django.urls import reverse

from conftest import PASSWORD
from medbook.accounts.models import Membership, User
from medbook.audit.models import AuditEntry
from medbook.core.errors import DomainError
from medbook.institutions.tests.factories import UserFactory
from medbook.notifications.models import OutboxMessage
from medbook.partners.access import access_partnership_target
from medbook.partners.models import GTCAcceptance, Partner, PartnerClaim, PartnerInvitation, Partnership
from medbook.partners.services import registration as invitations
from medbook.partners.tests.factories import gtc_publish
from medbook.partners.tests.helpers import ADD, html_of, link_in, partner_form, text_of

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "Westside-pass-2026"


def operator_make() -> User:
    """The platform operator, who verifies new partners in the admin."""
    return UserFactory(
        email="olga@platform.test", full_name="Olga Operator", is_superuser=True, is_staff=True
    )


def add_westside(client, cast, **overrides) -> Partnership:
    response = client.post(ADD, partner_form(cast, **overrides))
    assert response.status_code == 302, response.content.decode()[:2000]
    return Partnership.objects.filter(partner__name=overrides.get("name", "Westside Physicians Kft.")).latest(
        "pk"
    )


def register(client, path: str, **overrides):
    page = client.get(path)
    assert page.status_code == 200 and "General Terms and Conditions" in page.content.decode()
    return post_registration(client, path, page.context["version"], **overrides)


def post_registration(client, path: str, version, **overrides):
    data = {
        "full_name": "Wanda West",
        "new_password1": NEW_PASSWORD,
        "new_password2": NEW_PASSWORD,
        "accept": "on",
        "version": version.pk,
    }
    data.update(overrides)
    return client.post(path, data, REMOTE_ADDR="203.0.113.7")


def received_invitation(smtp_server, deliver_outbox, to: str = "wanda@west.test"):
    deliver_outbox()
    mails = [m for m in smtp_server.messages if m["To"] == to]
    assert mails, [m["To"] for m in smtp_server.messages]
    return mails[-1]


def test_n1_new_partner_registers_from_the_emailed_link_and_is_active_once_verified(
    cast, gtc, login, client, smtp_server, deliver_outbox
):
    partnership = add_westside(login(cast.alice), cast)
    assert smtp_server.messages == []  # written to the outbox in the transaction, sent by the worker
    assert OutboxMessage.objects.get().kind == "partner_registration_invitation"
    mail = received_invitation(smtp_server, deliver_outbox)
    assert "Institution A invites you as a partner" in mail["Subject"]
    assert "Registration is required" in text_of(mail) and "Registration is required" in html_of(mail)
    path = link_in(mail, "/partner/register/")

    client.logout()
    response = register(client, path)
    assert response.status_code == 302 and response["Location"] == reverse("partners:claim-list")
    partnership.refresh_from_db()
    # Registered, but the operator checks that she represents the company before she may act for it (P-14).
    assert partnership.status == Partnership.Status.PENDING_VERIFICATION and partnership.activated_at is None
    wanda = User.objects.get(email="wanda@west.test")
    assert wanda.check_password(NEW_PASSWORD) and wanda.full_name == "Wanda West"
    claim = PartnerClaim.objects.get()
    assert (claim.user, claim.partnership, claim.status) == (wanda, partnership, "pending")
    assert (claim.gtc_version, claim.ip_address) == (gtc, "203.0.113.7")
    assert not Membership.objects.filter(user=wanda).exists()  # no access until the operator accepts
    assert not GTCAcceptance.objects.exists()
    assert PartnerInvitation.objects.get().used_at is not None
    claims = client.get(reverse("partners:claim-list")).content.decode()
    assert "Westside Physicians Kft." in claims and "Institution A" in claims
    assert "Awaiting the operator" in claims and "checks that you represent" in claims
    assert client.get(reverse("partners:home")).status_code == 403
    assert AuditEntry.objects.filter(action="partner.register", institution=cast.institution_a).exists()
    partnership.services.add(cast.service_a)
    with pytest.raises(DomainError, match="awaits verification by the platform operator"):
        access_partnership_target(
            partner=partnership.partner, location=cast.location_a1, service=cast.service_a
        )
    deliver_outbox()
    assert any(
        "registered and awaits verification" in m["Subject"]
        for m in smtp_server.messages
        if m["To"] == cast.alice.email
    )
    listing = login(cast.alice).get(reverse("partners:partner-list")).content.decode()
    assert (
        '<span class="status pending_verification" data-testid="partner-status">Awaiting verification</span>'
        in listing
    )

    # The operator sees who registered, from whose invitation, and accepts the claim in the admin.
    olga = operator_make()
    operator = login(olga)
    page = operator.get(reverse("admin:partners_partner_change", args=[partnership.partner_id]))
    assert page.status_code == 200 and "wanda@west.test" in page.content.decode()
    listed = operator.get(reverse("admin:partners_partnerclaim_changelist")).content.decode()
    assert "wanda@west.test" in listed and "Institution A" in listed
    response = operator.post(
        reverse("admin:partners_partnerclaim_changelist"),
        {"action": "accept_claim", "_selected_action": [claim.pk]},
    )
    assert response.status_code == 302
    partnership.refresh_from_db()
    partner = partnership.partner
    assert partnership.status == Partnership.Status.ACTIVE and partnership.activated_at is not None
    assert (partner.verification_status, partner.verified_by) == ("verified", olga)
    membership = Membership.objects.get(user=wanda)
    assert (membership.organization_id, membership.role, membership.is_active) == (
        partnership.partner_id,
        "partner_admin",
        True,
    )
    acceptance = GTCAcceptance.objects.get()
    assert (acceptance.version, acceptance.user, acceptance.ip_address) == (gtc, wanda, "203.0.113.7")
    entry = AuditEntry.objects.get(action="partner.claim_accept", institution=cast.institution_a)
    assert entry.user == olga and entry.details["claimant"] == "wanda@west.test"
    deliver_outbox()
    subjects = {(m["To"], m["Subject"]) for m in smtp_server.messages}
    assert (cast.alice.email, "Westside Physicians Kft. is verified and now an active partner") in subjects
    assert ("wanda@west.test", "Westside Physicians Kft. is verified on MedBook") in subjects
    listing = login(cast.alice).get(reverse("partners:partner-list")).content.decode()
    assert '<span class="status active" data-testid="partner-status">Active</span>' in listing
    assert (
        access_partnership_target(partner=partner, location=cast.location_a1, service=cast.service_a)
        == partnership
    )
    home = login(wanda).get(reverse("partners:home")).content.decode()
    assert "Institution A" in home and "awaits verification" not in home


def test_n1_invitation_is_in_the_contacts_language(cast, gtc, login, smtp_server, deliver_outbox):
    add_westside(login(cast.alice), cast, contact_language="hu")
    assert OutboxMessage.objects.get().language == "hu"


def test_p3_pending_partnership_books_nothing(cast, gtc, login):
    partnership = add_westside(login(cast.alice), cast)
    partnership.services.add(cast.service_a)
    with pytest.raises(Exception, match="pending"):
        access_partnership_target(
            partner=partnership.partner,
            location=cast.location_a1,
            service=cast.service_a,
        )


def test_p3_reused_link_says_so_and_offers_a_new_link(cast, gtc, login, client, smtp_server, deliver_outbox):
    add_westside(login(cast.alice), cast)
    path = link_in(received_invitation(smtp_server, deliver_outbox), "/partner/register/")
    client.logout()
    assert register(client, path).status_code == 302
    client.logout()
    response = client.get(path)
    assert response.status_code == 410
    content = response.content.decode()
    assert "This registration link has already been used." in content and "Send me a new link" in content
    # Registered already: the new link is a set-password link to the same address.
    assert client.post(path + "renew/").status_code == 200
    mail = received_invitation(smtp_server, deliver_outbox)
    assert "/accounts/password/" in text_of(mail)
    assert post_registration(client, path, gtc).status_code == 410  # still single-use
    assert PartnerClaim.objects.count() == 1


def test_p3_expired_link_says_so_and_a_new_link_works(
    cast, gtc, login, client, smtp_server, deliver_outbox, monkeypatch
):
    eight_days_ago = signing.b62_encode(int(signing.time.time()) - 8 * 24 * 3600)
    monkeypatch.setattr(signing.TimestampSigner, "timestamp", lambda self: eight_days_ago)
    partnership = add_westside(login(cast.alice), cast)
    monkeypatch.undo()
    old_path = link_in(received_invitation(smtp_server, deliver_outbox), "/partner/register/")
    client.logout()
    response = client.get(old_path)
    assert response.status_code == 410
    assert "This registration link has expired." in response.content.decode()
    assert post_registration(client, old_path, gtc).status_code == 410
    assert client.post(old_path + "renew/").status_code == 200
    new_path = link_in(received_invitation(smtp_server, deliver_outbox), "/partner/register/")
    assert new_path != old_path
    assert register(client, new_path).status_code == 302
    partnership.refresh_from_db()
    assert partnership.status == Partnership.Status.PENDING_VERIFICATION


def test_p3_expiry_follows_the_setting(cast, gtc, login, client, settings):
    partnership = add_westside(login(cast.alice), cast)
    settings.PARTNER_INVITATION_MAX_AGE = -1
    client.logout()
    url = invitations.invitation_issue(partnership=partnership)
    assert "expired" in client.get(url.removeprefix("http://127.0.0.1:8000")).content.decode()


@pytest.mark.parametrize(
    "token",
    ["garbage", "1:abc:1vXyZ:forgedsignature", "", "%00", "9" * 40],
)
def test_p3_forged_link_is_not_found_with_a_clear_message(cast, gtc, client, token):
    response = client.get(f"/partner/register/{token}/")
    assert response.status_code == 404
    if token:
        assert "This link is not valid" in response.content.decode()
        assert client.post(f"/partner/register/{token}/renew/").status_code == 404
        assert client.post(f"/partner/register/{token}/", {"accept": "on"}).status_code == 404


def test_p3_genuine_signature_with_a_wrong_nonce_is_refused(cast, gtc, login, client):
    partnership = add_westside(login(cast.alice), cast)
    invitation = PartnerInvitation.objects.get(partnership=partnership)
    token = signing.TimestampSigner(salt=invitations.SALT).sign(f"{invitation.pk}:guessed-nonce")
    assert client.get(f"/partner/register/{token}/").status_code == 404


def test_p3_resent_invitation_replaces_the_old_link(cast, gtc, login, client, smtp_server, deliver_outbox):
    partnership = add_westside(login(cast.alice), cast)
    old_path = link_in(received_invitation(smtp_server, deliver_outbox), "/partner/register/")
    client.post(reverse("partners:partner-resend", args=[partnership.pk]))
    new_path = link_in(received_invitation(smtp_server, deliver_outbox), "/partner/register/")
    client.logout()
    assert "A newer registration link has been sent" in client.get(old_path).content.decode()
    assert client.get(new_path).status_code == 200


def test_p3_existing_account_must_log_in_first(cast, gtc, login, client, smtp_server, deliver_outbox):
    add_westside(login(cast.alice), cast, contact_email=cast.bob.email)
    path = link_in(received_invitation(smtp_server, deliver_outbox, cast.bob.email), "/partner/register/")
    client.logout()
    content = register(client, path).content.decode()
    assert "An account with this email address already exists: log in" in content
    client.force_login(cast.bob)
    response = client.post(path, {"full_name": "Bob Reception", "accept": "on", "version": gtc.pk})
    assert response.status_code == 302
    assert PartnerClaim.objects.get(user=cast.bob).partner.name == "Westside Physicians Kft."
    assert cast.bob.memberships.count() == 1  # the partner's only once the operator accepts the claim


def test_p3_gtc_must_be_accepted_to_register(cast, gtc, login, client, smtp_server, deliver_outbox):
    add_westside(login(cast.alice), cast)
    path = link_in(received_invitation(smtp_server, deliver_outbox), "/partner/register/")
    client.logout()
    response = register(client, path, accept="")
    assert response.status_code == 200 and "This field is required." in response.content.decode()
    assert not GTCAcceptance.objects.exists()
    assert Partnership.objects.get().status == Partnership.Status.PENDING_REGISTRATION


def test_n2_registered_partner_is_asked_to_approve_and_approves(
    cast, partners, login, client, smtp_server, deliver_outbox
):
    charlie = login(cast.charlie)
    response = charlie.post(
        ADD,
        partner_form(
            cast,
            name="CallCenter Ltd",
            registration_number="01-09-111111",
            tax_number="12345676-2-41",
            locations=[cast.location_b.pk],
        ),
    )
    assert response.status_code == 302
    assert Partner.objects.filter(name="CallCenter Ltd").count() == 1  # one legal entity, one partner
    partnership = Partnership.objects.get(institution=cast.institution_b)
    assert partnership.status == Partnership.Status.PENDING_APPROVAL
    assert not PartnerInvitation.objects.exists()
    mail = received_invitation(smtp_server, deliver_outbox, partners.paula.email)
    assert "Institution B added you as a partner: please approve" in mail["Subject"]
    path = link_in(mail, "/partner/partnerships/")

    client.logout()
    response = client.get(path)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    response = client.post(response["Location"], {"username": partners.paula.email, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == path
    page = client.get(path)
    assert page.status_code == 200 and "Institution B added you as a partner" in page.content.decode()
    response = client.post(path, {"decision": "approve"})
    assert response.status_code == 302
    partnership.refresh_from_db()
    assert partnership.status == Partnership.Status.ACTIVE
    assert AuditEntry.objects.get(action="partnership.approve").user == partners.paula
    partnership.services.add(cast.service_b)
    partnership.locations.add(cast.location_b)
    assert (
        access_partnership_target(
            partner=partners.partner_p,
            location=cast.location_b,
            service=cast.service_b,
        )
        == partnership
    )


def test_n2_partner_admin_declines_and_nothing_can_be_booked(cast, partners, login):
    login(cast.charlie).post(
        ADD,
        partner_form(
            cast,
            name="CallCenter Ltd",
            registration_number="01-09-111111",
            tax_number="12345676-2-41",
            locations=[cast.location_b.pk],
        ),
    )
    partnership = Partnership.objects.get(institution=cast.institution_b)
    client = login(partners.paula)
    assert client.post(f"/partner/partnerships/{partnership.pk}/", {"decision": "decline"}).status_code == 302
    partnership.refresh_from_db()
    assert partnership.status == Partnership.Status.DECLINED
    with pytest.raises(Exception, match="ended or was declined"):
        access_partnership_target(
            partner=partners.partner_p,
            location=cast.location_b,
            service=cast.service_b,
        )
    # Answered once: a second answer is refused with a message, never a 500.
    assert client.post(f"/partner/partnerships/{partnership.pk}/", {"decision": "approve"}).status_code == 400


def test_n2_partner_user_and_other_partner_cannot_answer(cast, partners, login):
    login(cast.charlie).post(
        ADD,
        partner_form(
            cast,
            name="CallCenter Ltd",
            registration_number="01-09-111111",
            tax_number="12345676-2-41",
            locations=[cast.location_b.pk],
        ),
    )
    partnership = Partnership.objects.get(institution=cast.institution_b)
    url = f"/partner/partnerships/{partnership.pk}/"
    assert login(partners.peter).post(url, {"decision": "approve"}).status_code == 403
    assert login(partners.quentin).post(url, {"decision": "approve"}).status_code == 404
    partnership.refresh_from_db()
    assert partnership.status == Partnership.Status.PENDING_APPROVAL


def test_p3_new_gtc_must_be_accepted_at_the_next_login(cast, partners, login):
    new = gtc_publish("2026-2", ago=timedelta(minutes=1))
    with pytest.raises(Exception, match="General Terms and Conditions"):
        access_partnership_target(
            partner=partners.partner_p,
            location=cast.location_a1,
            service=cast.service_a,
        )
    client = login(partners.paula)
    response = client.get(reverse("partners:home"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("partners:gtc-accept"))
    page = client.get(response["Location"])
    assert "General Terms and Conditions 2026-2." in page.content.decode()
    assert (
        login(partners.peter).get(reverse("partners:home")).status_code == 400
    )  # a user waits for the admin
    client = login(partners.paula)
    response = client.post(
        response["Location"], {"accept": "on", "version": new.pk}, REMOTE_ADDR="198.51.100.1"
    )
    assert response.status_code == 302 and response["Location"] == reverse("partners:home")
    acceptance = GTCAcceptance.objects.get(version=new)
    assert (acceptance.user, acceptance.ip_address) == (partners.paula, "198.51.100.1")
    assert client.get(reverse("partners:home")).status_code == 200
    access_partnership_target(
        partner=partners.partner_p,
        location=cast.location_a1,
        service=cast.service_a,
    )


def test_p3_accepting_an_outdated_gtc_version_is_refused(cast, partners, login):
    gtc_publish("2026-2", ago=timedelta(minutes=1))
    response = login(partners.paula).post(
        reverse("partners:gtc-accept"), {"accept": "on", "version": partners.gtc.pk}
    )
    assert "The terms have changed" in response.content.decode()


@pytest.mark.parametrize("target", ["/\\evil.example/", "//evil.example/", "https://evil.example/"])
def test_p3_accepting_the_gtc_never_redirects_to_another_site(cast, partners, login, target):
    new = gtc_publish("2026-2", ago=timedelta(minutes=1))
    url = f"{reverse('partners:gtc-accept')}?next={target}"
    response = login(partners.paula).post(url, {"accept": "on", "version": new.pk})
    assert response.status_code == 302 and response["Location"] == reverse("partners:home")
