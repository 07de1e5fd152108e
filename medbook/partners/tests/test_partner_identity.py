"""P-14 partner identity: issue 9's F1 (takeover across institutions) and F2 (legal-entity squatting)
replayed through the pages and refused; the operator's verification; contacts that stay each tenant's own."""

import pytest
from django.urls import reverse

from medbook.accounts.models import Membership, User
from medbook.audit.models import AuditEntry
from medbook.core.errors import DomainError, NotPermitted
from medbook.core.tenancy import Actor
from medbook.notifications.models import OutboxMessage
from medbook.partners.access import access_partnership
from medbook.partners.models import (
    Partner,
    PartnerClaim,
    PartnerIdentityChange,
    PartnerInvitation,
    Partnership,
)
from medbook.partners.services.identity import partner_identity_change_approve
from medbook.partners.services.verification import partner_claim_accept, partner_claim_refuse
from medbook.partners.tests.helpers import ADD, LIST, link_in, partner_form
from medbook.partners.tests.test_contract_flows import operator_make, received_invitation, register

pytestmark = pytest.mark.django_db
WANDA = {"name": "Wanda West", "email": "wanda@west.test", "phone": "+36 30 123 4567"}
MALLORY = {
    "contact_name": "Mallory Lakeside",
    "contact_email": "mallory@evil.test",
    "contact_phone": "+36 70 999 9999",
}


def add(client, cast, location, **overrides) -> Partnership:
    response = client.post(ADD, partner_form(cast, locations=[location.pk], **overrides))
    assert response.status_code == 302, response.content.decode()[:3000]
    return Partnership.objects.latest("pk")


def operator_actor() -> Actor:
    return Actor(user=operator_make(), client_ip="192.0.2.1", request_id="op")


def assert_no_wanda(content: str) -> None:
    for value in WANDA.values():
        assert value not in content, value


def test_f1_another_institution_cannot_take_over_a_pending_partner(
    cast, gtc, login, client, smtp_server, deliver_outbox
):
    # Institution A invites Westside; its contact Wanda has a link.
    at_a = add(login(cast.alice), cast, cast.location_a1)
    login(cast.alice).get(LIST)  # Alice reads her own flash message
    wanda_link = link_in(received_invitation(smtp_server, deliver_outbox), "/partner/register/")

    # Institution B's admin adds the same company by its public numbers, with his own e-mail.
    charlie = login(cast.charlie)
    response = charlie.post(ADD, partner_form(cast, locations=[cast.location_b.pk], **MALLORY), follow=True)
    assert response.status_code == 200
    assert "A registration invitation is on its way to mallory@evil.test" in response.content.decode()
    assert_no_wanda(response.content.decode())  # nothing of A's contact: message or list
    at_b = Partnership.objects.get(institution=cast.institution_b)
    assert at_b.partner_id == at_a.partner_id and Partner.objects.count() == 1
    edit = charlie.get(reverse("partners:partner-edit", args=[at_b.pk])).content.decode()
    assert_no_wanda(edit) and "mallory@evil.test" in edit
    # Changing B's contact changes only B's partnership.
    charlie.post(
        reverse("partners:partner-edit", args=[at_b.pk]),
        partner_form(cast, locations=[cast.location_b.pk], **{**MALLORY, "contact_email": "m2@evil.test"}),
    )
    at_a.refresh_from_db()
    assert at_a.contact_email == WANDA["email"]
    assert at_a.partner.contact_email == WANDA["email"]

    # He registers from the link that came to him …
    mallory_link = link_in(
        received_invitation(smtp_server, deliver_outbox, "m2@evil.test"), "/partner/register/"
    )
    client.logout()
    assert register(client, mallory_link, full_name="Mallory").status_code == 302
    mallory = User.objects.get(email="m2@evil.test")
    at_b.refresh_from_db()
    assert at_b.status == Partnership.Status.PENDING_VERIFICATION
    # … learns nothing of A's invitation (nor of the partner: his claim awaits the operator), and cannot
    # approve or activate it.
    client.force_login(mallory)
    assert client.get(reverse("partners:home")).status_code == 403
    claims = client.get(reverse("partners:claim-list")).content.decode()
    assert "Institution A" not in claims and "Institution B" in claims
    answer = reverse("partners:partnership-answer", args=[at_a.pk])
    assert client.get(answer).status_code == 403
    assert client.post(answer, {"decision": "approve"}).status_code == 403
    at_a.refresh_from_db()
    assert at_a.status == Partnership.Status.PENDING_REGISTRATION and at_a.activated_at is None
    # A's contact's link still works: not "replaced".
    client.logout()
    page = client.get(wanda_link)
    assert page.status_code == 200 and "newer registration link" not in page.content.decode()
    assert PartnerInvitation.objects.get(partnership=at_a).revoked_at is None
    # The squatter may not change the company's legal record either.
    client.force_login(mallory)
    details = reverse("partners:partner-details")
    assert client.post(details, {"name": "Evil Kft."}).status_code == 403
    assert Partner.objects.get().name == "Westside Physicians Kft."
    # Nothing can be booked at either institution.
    with pytest.raises(DomainError, match="awaits verification"):
        access_partnership(partner=at_b.partner, institution_id=cast.institution_b.pk)
    with pytest.raises(DomainError, match="pending"):
        access_partnership(partner=at_a.partner, institution_id=cast.institution_a.pk)


def test_f2_squatter_is_not_asked_to_approve_and_the_operator_rejects_him(
    cast, gtc, login, client, smtp_server, deliver_outbox
):
    # B's admin registers the company under his own e-mail before its real owner is on the platform.
    at_b = add(login(cast.charlie), cast, cast.location_b, **MALLORY)
    squat_link = link_in(
        received_invitation(smtp_server, deliver_outbox, MALLORY["contact_email"]), "/register/"
    )
    client.logout()
    assert register(client, squat_link, full_name="Mallory").status_code == 302
    mallory = User.objects.get(email=MALLORY["contact_email"])

    # A adds the real company: the invitation goes to A's contact, not to the squatter.
    at_a = add(login(cast.alice), cast, cast.location_a1)
    assert at_a.status == Partnership.Status.PENDING_REGISTRATION
    kinds = set(OutboxMessage.objects.filter(to_email=mallory.email).values_list("kind", flat=True))
    assert "partner_approval_request" not in kinds
    assert OutboxMessage.objects.filter(
        to_email=WANDA["email"], kind="partner_registration_invitation"
    ).exists()
    client.force_login(mallory)
    assert "Institution A" not in client.get(reverse("partners:home")).content.decode()
    search = client.get(reverse("partners:patient-search"), {"institution": cast.institution_a.pk, "q": "a"})
    assert search.status_code in (400, 403, 404)

    # The operator sees the claim, refuses it: the squatter never gets access, B is told.
    partner = Partner.objects.get()
    claim = PartnerClaim.objects.get(user=mallory)
    partner_claim_refuse(actor=operator_actor(), claim=claim, note="Not in the company register.")
    at_b.refresh_from_db()
    assert at_b.status == Partnership.Status.DECLINED
    assert not Membership.objects.filter(user=mallory, is_active=True).exists()
    assert client.get(reverse("partners:home")).status_code in (302, 403)
    assert OutboxMessage.objects.filter(to_email=cast.charlie.email, kind="partner_partnership_verification")
    assert OutboxMessage.objects.filter(to_email=mallory.email, kind="partner_partner_verification")
    assert AuditEntry.objects.filter(action="partner.claim_refuse", institution=cast.institution_b).exists()

    # The real contact registers from A's link, the operator accepts her claim: A's partnership is active.
    wanda_link = link_in(received_invitation(smtp_server, deliver_outbox), "/partner/register/")
    client.logout()
    assert register(client, wanda_link).status_code == 302
    partner.refresh_from_db()
    assert partner.verification_status == Partner.Verification.UNVERIFIED
    at_a.refresh_from_db()
    assert at_a.status == Partnership.Status.PENDING_VERIFICATION
    partner_claim_accept(actor=operator_actor(), claim=PartnerClaim.objects.get(partnership=at_a))
    at_a.refresh_from_db()
    assert at_a.status == Partnership.Status.ACTIVE
    assert access_partnership(partner=partner, institution_id=cast.institution_a.pk) == at_a


def test_p14_verification_asks_the_verified_admins_about_earlier_invitations(
    cast, gtc, login, client, smtp_server, deliver_outbox
):
    at_a = add(login(cast.alice), cast, cast.location_a1)
    at_b = add(login(cast.charlie), cast, cast.location_b, **MALLORY)
    b_link = link_in(received_invitation(smtp_server, deliver_outbox, MALLORY["contact_email"]), "/register/")
    a_link = link_in(received_invitation(smtp_server, deliver_outbox), "/partner/register/")
    client.logout()
    assert register(client, a_link).status_code == 302
    partner_claim_accept(actor=operator_actor(), claim=PartnerClaim.objects.get())
    at_a.refresh_from_db()
    at_b.refresh_from_db()
    assert at_a.status == Partnership.Status.ACTIVE
    # B's invitation now goes to the verified admin for approval; B's own link no longer registers anyone.
    assert at_b.status == Partnership.Status.PENDING_APPROVAL
    assert OutboxMessage.objects.filter(to_email=WANDA["email"], kind="partner_approval_request").exists()
    client.logout()
    assert client.get(b_link).status_code == 410
    # A later institution's invitation of the verified partner needs its admins' approval too.
    assert PartnerInvitation.objects.filter(used_at__isnull=True, revoked_at__isnull=True).count() == 0


def test_p14_only_the_operator_accepts_or_refuses_a_claim(
    cast, gtc, login, client, smtp_server, deliver_outbox
):
    at_a = add(login(cast.alice), cast, cast.location_a1)
    client.logout()
    link = link_in(received_invitation(smtp_server, deliver_outbox), "/partner/register/")
    assert register(client, link).status_code == 302
    claim = PartnerClaim.objects.get()
    alice = Actor(user=cast.alice, membership=Membership.objects.get(user=cast.alice))
    for service in (partner_claim_accept, partner_claim_refuse):
        with pytest.raises(NotPermitted):
            service(actor=alice, claim=claim)
    assert Partner.objects.get().verification_status == Partner.Verification.UNVERIFIED
    # Nor can an institution admin reach the operator's admin action.
    response = login(cast.alice).post(
        reverse("admin:partners_partnerclaim_changelist"),
        {"action": "accept_claim", "_selected_action": [claim.pk]},
    )
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    claim.refresh_from_db()
    at_a.refresh_from_db()
    assert claim.status == "pending" and at_a.status == Partnership.Status.PENDING_VERIFICATION
    assert Partner.objects.get().verification_status == Partner.Verification.UNVERIFIED


def test_p14_adding_a_registered_partner_reveals_none_of_its_contacts(cast, partners, login):
    client = login(cast.charlie)
    data = partner_form(
        cast,
        name="CallCenter Ltd",
        registration_number="01-09-111111",
        tax_number="12345676-2-41",
        locations=[cast.location_b.pk],
    )
    response = client.post(ADD, data, follow=True)
    content = response.content.decode()
    assert "CallCenter Ltd is already registered: its administrators were asked to approve." in content
    partnership = Partnership.objects.get(institution=cast.institution_b)
    edit = client.get(reverse("partners:partner-edit", args=[partnership.pk])).content.decode()
    resent = client.post(reverse("partners:partner-resend", args=[partnership.pk]), follow=True)
    for page in (content, client.get(LIST).content.decode(), edit, resent.content.decode()):
        for secret in ("paula@p.test", "Paula Partner", "Contact Person", "+36 1 234 5678"):
            assert secret not in page, secret
    assert "wanda@west.test" in edit  # B's own contact


def test_p14_tax_number_mismatch_does_not_reveal_the_stored_number(cast, partners, login):
    response = login(cast.charlie).post(
        ADD,
        partner_form(
            cast,
            name="CallCenter Ltd",
            registration_number="01-09-111111",
            tax_number="21234505-2-42",
            locations=[cast.location_b.pk],
        ),
    )
    content = response.content.decode()
    assert response.status_code == 422 and "registered with another tax number" in content
    assert "12345676" not in content and "paula@p.test" not in content


def test_p14_verified_admin_corrects_the_legal_record_others_may_not(cast, partners, login):
    url = reverse("partners:partner-details")
    data = {
        "name": "CallCenter Hungary Ltd",
        "country": "HU",
        "registration_number": "01-09-111111",
        "tax_number": "12345676-2-41",
        "address": "Váci út 2, 1132 Budapest",
    }
    assert login(partners.peter).post(url, data).status_code == 403
    assert login(partners.petra).get(url).status_code == 403
    assert login(cast.alice).post(url, data).status_code in (302, 403, 404)
    client = login(partners.paula)
    assert client.get(url).status_code == 200
    assert client.post(url, {**data, "tax_number": "1"}).status_code == 422
    assert client.post(url, data).status_code == 302
    # The address at once; the new name only once the operator approves it (issue 19).
    partner = Partner.objects.get(pk=partners.partner_p.pk)
    assert (partner.name, partner.address) == ("CallCenter Ltd", "Váci út 2, 1132 Budapest")
    entry = AuditEntry.objects.get(action="partner.details_update", institution=cast.institution_a)
    assert (
        entry.user == partners.paula and entry.details["changes"]["address"][1] == "Váci út 2, 1132 Budapest"
    )
    change = PartnerIdentityChange.objects.get(status="pending")
    partner_identity_change_approve(actor=operator_actor(), change=change)
    partner.refresh_from_db()
    assert partner.name == "CallCenter Hungary Ltd"
    partners.partnership_p.channel.refresh_from_db()
    assert partners.partnership_p.channel.name == "CallCenter Hungary Ltd"
    entry = AuditEntry.objects.get(action="partner.identity_change_approve", institution=cast.institution_a)
    assert entry.details["changes"]["name"] == ["CallCenter Ltd", "CallCenter Hungary Ltd"]
    # Another partner's registration number is refused, not taken over.
    taken = {**data, "registration_number": "01-09-222222"}
    assert "Another partner is registered" in client.post(url, taken).content.decode()
