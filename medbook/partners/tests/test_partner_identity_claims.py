"""Issue 19, partner identity: a verified partner cannot re-label itself, and each person who registers for
a partner is verified on their own. The two findings replayed through the pages and the operator's admin,
then every transition of docs/partner-identity.md with each cast member as the attacker."""

import pytest
from django.urls import reverse

from medbook.accounts.models import Membership, User
from medbook.audit.models import AuditEntry
from medbook.core.errors import DomainError, NotPermitted
from medbook.core.tenancy import Actor
from medbook.notifications.models import OutboxMessage
from medbook.partners.access import access_partnership
from medbook.partners.models import Partner, PartnerClaim, PartnerIdentityChange, Partnership
from medbook.partners.services.identity import (
    partner_details_update,
    partner_identity_change_approve,
    partner_identity_change_refuse,
)
from medbook.partners.services.verification import partner_claim_accept, partner_claim_refuse
from medbook.partners.tests.factories import gtc_accepted_by, partner_make, partner_member
from medbook.partners.tests.helpers import ADD, link_in, partner_form
from medbook.partners.tests.test_contract_flows import operator_make, received_invitation, register
from medbook.partners.tests.test_partner_identity import MALLORY, add

pytestmark = pytest.mark.django_db
DETAILS = reverse("partners:partner-details")
CLAIMS_ADMIN = reverse("admin:partners_partnerclaim_changelist")
CHANGES_ADMIN = reverse("admin:partners_partneridentitychange_changelist")
# The real company's public numbers (partner_form's Westside Physicians Kft.).
WESTSIDE = {
    "name": "Westside Physicians Kft.",
    "country": "HU",
    "registration_number": "Cg. 01-09-333333",
    "tax_number": "21234505-2-42",
    "address": "Fő utca 1, 1011 Budapest",
}
CALLCENTER = {
    "name": "CallCenter Ltd",
    "country": "HU",
    "registration_number": "01-09-111111",
    "tax_number": "12345676-2-41",
    "address": "Budapest",
}


def operator_actor() -> Actor:
    return Actor(
        user=User.objects.filter(is_superuser=True).first() or operator_make(), client_ip="192.0.2.1"
    )


def co_claimed(cast, login, client, smtp_server, deliver_outbox) -> tuple[Partnership, Partnership]:
    """A invites Westside (its contact Wanda), B's admin invites the same company with his own contact;
    both register from their links. Return A's and B's partnerships."""
    at_a = add(login(cast.alice), cast, cast.location_a1)
    at_b = add(login(cast.charlie), cast, cast.location_b, **MALLORY)
    wanda_link = link_in(received_invitation(smtp_server, deliver_outbox), "/partner/register/")
    mallory_link = link_in(
        received_invitation(smtp_server, deliver_outbox, MALLORY["contact_email"]), "/partner/register/"
    )
    client.logout()
    assert register(client, wanda_link).status_code == 302
    client.logout()
    assert register(client, mallory_link, full_name="Mallory").status_code == 302
    client.logout()
    return at_a, at_b


def claim_of(email: str) -> PartnerClaim:
    return PartnerClaim.objects.get(user__email=email)


def assert_no_access(client, user, partnership: Partnership) -> None:
    """The user acts for nothing of the partner: no portal, no members, no booking, no partnership."""
    client.force_login(user)
    assert not Membership.objects.filter(user=user, organization=partnership.partner, is_active=True).exists()
    for name in ("partners:home", "partners:partner-details", "partners:book", "accounts:member-list"):
        assert client.get(reverse(name)).status_code in (302, 403, 404), name
    answer = reverse("partners:partnership-answer", args=[partnership.pk])
    assert client.post(answer, {"decision": "approve"}).status_code in (403, 404)


# --- the findings ------------------------------------------------------------------------------------------


def test_finding_verified_partner_relabels_itself(cast, partners, login, client, smtp_server, deliver_outbox):
    # P's admin rewrites its name and numbers to the real Westside's on Organisation details.
    paula = login(partners.paula)
    response = paula.post(DETAILS, WESTSIDE, follow=True)
    assert response.status_code == 200
    assert "takes effect once the platform operator has checked it" in response.content.decode()
    partner = Partner.objects.get(pk=partners.partner_p.pk)
    # The record keeps its verified identity (the address, not part of it, is hers to keep up to date).
    assert (partner.name, partner.registration_number, partner.tax_number) == (
        "CallCenter Ltd",
        "01-09-111111",
        "12345676-2-41",
    )
    assert partner.address == WESTSIDE["address"] and partner.is_verified
    change = PartnerIdentityChange.objects.get()
    assert change.status == "pending" and change.old_values["name"] == "CallCenter Ltd"
    assert change.new_values["registration_number"] == "01-09-333333"
    page = paula.get(DETAILS).content.decode()
    assert "Awaiting the operator" in page and "Westside Physicians Kft." in page

    # B later adds the real company by its public numbers: a new partner, invited through B's contact;
    # nothing goes to the impostor.
    charlie = login(cast.charlie)
    response = charlie.post(ADD, partner_form(cast, locations=[cast.location_b.pk], **MALLORY), follow=True)
    assert "A registration invitation is on its way" in response.content.decode()
    at_b = Partnership.objects.get(institution=cast.institution_b)
    assert at_b.partner_id != partners.partner_p.pk and at_b.status == Partnership.Status.PENDING_REGISTRATION
    assert not OutboxMessage.objects.filter(to_email=partners.paula.email, kind="partner_approval_request")
    assert "Institution B" not in login(partners.paula).get(reverse("partners:home")).content.decode()
    with pytest.raises(DomainError):
        access_partnership(partner=partners.partner_p, institution_id=cast.institution_b.pk)

    # The operator, comparing with the company register, refuses the change: P keeps its identity.
    operator = login(operator_make())
    listed = operator.get(CHANGES_ADMIN).content.decode()
    assert "CallCenter Ltd → Westside Physicians Kft." in listed
    for url in (
        reverse("admin:partners_partner_change", args=[partner.pk]),
        reverse("admin:partners_partneridentitychange_change", args=[change.pk]),
    ):
        page = operator.get(url)
        assert page.status_code == 200 and "01-09-333333" in page.content.decode()
    operator.post(CHANGES_ADMIN, {"action": "refuse_change", "_selected_action": [change.pk]})
    change.refresh_from_db()
    partner.refresh_from_db()
    assert change.status == "refused" and partner.name == "CallCenter Ltd"
    assert AuditEntry.objects.filter(action="partner.identity_change_refuse").exists()
    deliver_outbox()
    assert any(
        m["To"] == partners.paula.email and "was refused" in m["Subject"] for m in smtp_server.messages
    )


@pytest.mark.parametrize("first", ["accept_the_genuine", "refuse_the_attacker"])
def test_finding_co_claim_of_unverified_partner(cast, gtc, login, client, smtp_server, deliver_outbox, first):
    at_a, at_b = co_claimed(cast, login, client, smtp_server, deliver_outbox)
    wanda, mallory = (
        User.objects.get(email="wanda@west.test"),
        User.objects.get(email=MALLORY["contact_email"]),
    )
    # Neither claimant administers the company yet: the attacker cannot see A's partnership nor lock the
    # real contact out.
    assert_no_access(client, mallory, at_a)
    assert_no_access(client, wanda, at_a)
    assert Membership.objects.filter(organization=at_a.partner).count() == 0

    # The operator sees both claims side by side, each with the institution that invited it and its contact.
    operator = login(operator_make())
    listed = operator.get(CLAIMS_ADMIN).content.decode()
    for text in ("wanda@west.test", "Institution A", MALLORY["contact_email"], "Institution B"):
        assert text in listed, text
    detail = operator.get(reverse("admin:partners_partner_change", args=[at_a.partner_id])).content.decode()
    assert "wanda@west.test" in detail and MALLORY["contact_email"] in detail
    one = operator.get(reverse("admin:partners_partnerclaim_change", args=[claim_of(wanda.email).pk]))
    assert one.status_code == 200 and "Institution A" in one.content.decode()
    # The old whole-entity actions are gone: "verify" on the partner does nothing.
    operator.post(
        reverse("admin:partners_partner_changelist"),
        {"action": "verify", "_selected_action": [at_a.partner_id]},
    )
    assert not Partner.objects.get().is_verified

    action = "accept_claim" if first == "accept_the_genuine" else "refuse_claim"
    target = claim_of(wanda.email if first == "accept_the_genuine" else mallory.email)
    assert operator.post(CLAIMS_ADMIN, {"action": action, "_selected_action": [target.pk]}).status_code == 302
    at_a.refresh_from_db()
    at_b.refresh_from_db()
    if first == "accept_the_genuine":
        # Wanda administers the verified company and A's partnership is active; B's claim still waits, and
        # she does not see it either.
        assert at_a.status == Partnership.Status.ACTIVE and Partner.objects.get().is_verified
        assert Membership.objects.get(user=wanda).role == "partner_admin"
        assert at_b.status == Partnership.Status.PENDING_VERIFICATION
        assert claim_of(mallory.email).status == "pending"
        assert "Institution B" not in login(wanda).get(reverse("partners:home")).content.decode()
        assert_no_access(client, mallory, at_a)
        operator = login(operator_actor().user)
        operator.post(
            CLAIMS_ADMIN, {"action": "refuse_claim", "_selected_action": [claim_of(mallory.email).pk]}
        )
    else:
        # Refusing the attacker throws nobody else out: Wanda's claim and A's partnership still wait.
        assert at_b.status == Partnership.Status.DECLINED
        assert claim_of(wanda.email).status == "pending"
        assert at_a.status == Partnership.Status.PENDING_VERIFICATION
        operator.post(
            CLAIMS_ADMIN, {"action": "accept_claim", "_selected_action": [claim_of(wanda.email).pk]}
        )
    at_a.refresh_from_db()
    at_b.refresh_from_db()
    assert at_a.status == Partnership.Status.ACTIVE and at_b.status == Partnership.Status.DECLINED
    assert (claim_of(wanda.email).status, claim_of(mallory.email).status) == ("accepted", "refused")
    assert list(
        Membership.objects.filter(organization=at_a.partner).values_list("user__email", flat=True)
    ) == ["wanda@west.test"]
    assert_no_access(client, mallory, at_a)
    assert access_partnership(partner=at_a.partner, institution_id=cast.institution_a.pk) == at_a
    with pytest.raises(DomainError):
        access_partnership(partner=at_a.partner, institution_id=cast.institution_b.pk)
    deliver_outbox()
    subjects = {(m["To"], m["Subject"]) for m in smtp_server.messages}
    assert (cast.alice.email, "Westside Physicians Kft. is verified and now an active partner") in subjects
    assert (cast.charlie.email, "The registration of Westside Physicians Kft. was rejected") in subjects
    assert AuditEntry.objects.filter(action="partner.claim_accept", institution=cast.institution_a).exists()
    assert AuditEntry.objects.filter(action="partner.claim_refuse", institution=cast.institution_b).exists()


# --- every transition, each cast member as the attacker -----------------------------------------------------

ATTACKERS = ["anon", "alice", "charlie", "paula", "peter", "mallory"]


@pytest.fixture
def scene(cast, partners, login, client, smtp_server, deliver_outbox):
    """Westside claimed from A's link (Wanda) and B's (Mallory, the co-claimant), both pending; P's admin
    has asked to change P's name. Return the users by cast name."""
    at_a, at_b = co_claimed(cast, login, client, smtp_server, deliver_outbox)
    paula = Actor(user=partners.paula, membership=Membership.objects.get(user=partners.paula))
    partner_details_update(actor=paula, details={**CALLCENTER, "name": "CallCenter Hungary Ltd"})
    users = {
        "anon": None,
        "alice": cast.alice,
        "charlie": cast.charlie,
        "paula": partners.paula,
        "peter": partners.peter,
        "mallory": User.objects.get(email=MALLORY["contact_email"]),
        "quentin": partners.quentin,
    }
    return {"users": users, "at_a": at_a, "at_b": at_b, "partner_p": partners.partner_p}


def as_attacker(client, scene, who):
    client.logout()
    user = scene["users"][who]
    if user is not None:
        client.force_login(user)
    return client


def attacker_actor(scene, who) -> Actor:
    user = scene["users"][who]
    membership = Membership.objects.filter(user=user, is_active=True).first() if user else None
    return Actor(user=user, membership=membership)


def assert_nothing_decided(scene) -> None:
    for claim in PartnerClaim.objects.all():
        assert claim.status == "pending", claim
    for key in ("at_a", "at_b"):
        partnership = Partnership.objects.get(pk=scene[key].pk)
        assert partnership.status == Partnership.Status.PENDING_VERIFICATION
    assert not Partner.objects.get(pk=scene["at_a"].partner_id).is_verified
    assert not Membership.objects.filter(organization_id=scene["at_a"].partner_id).exists()
    change = PartnerIdentityChange.objects.get()
    assert change.status == "pending"
    assert Partner.objects.get(pk=scene["partner_p"].pk).name == "CallCenter Ltd"


@pytest.mark.parametrize("who", ATTACKERS)
@pytest.mark.parametrize("action", ["accept_claim", "refuse_claim"])
def test_claim_accept_and_refuse_only_by_the_operator(scene, client, who, action):
    claims = [claim.pk for claim in PartnerClaim.objects.all()]
    response = as_attacker(client, scene, who).post(
        CLAIMS_ADMIN, {"action": action, "_selected_action": claims}
    )
    assert response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))
    service = partner_claim_accept if action == "accept_claim" else partner_claim_refuse
    for claim in PartnerClaim.objects.all():
        with pytest.raises(NotPermitted):
            service(actor=attacker_actor(scene, who), claim=claim)
    assert_nothing_decided(scene)


@pytest.mark.parametrize("who", ATTACKERS)
def test_claim_register_only_with_an_unused_link(scene, gtc, client, smtp_server, deliver_outbox, who):
    # The link sent to the institution's contact is the only way to claim (its holder's claim still waits
    # for the operator); a used or forged one claims nothing, whoever posts it.
    used = link_in(received_invitation(smtp_server, deliver_outbox), "/partner/register/")
    forged = used[:-3] + ("AAA" if not used.endswith("AAA/") else "BBB") + "/"
    client = as_attacker(client, scene, who)
    data = {"full_name": "X", "new_password1": "Mallory-pass-2026", "new_password2": "Mallory-pass-2026"}
    data.update({"accept": "on", "version": gtc.pk})
    assert client.post(used, data).status_code == 410
    assert client.post(forged, data).status_code == 404
    assert PartnerClaim.objects.count() == 2
    assert_nothing_decided(scene)


@pytest.mark.parametrize("who", ATTACKERS + ["quentin"])
def test_identity_request_only_by_the_verified_partners_admin(scene, client, who):
    response = as_attacker(client, scene, who).post(DETAILS, WESTSIDE)
    if who == "anon":
        assert response.status_code == 302 and reverse("accounts:login") in response["Location"]
    elif who in ("paula", "quentin"):
        # Their own partner's request, refused here: Westside's numbers belong to another partner.
        assert response.status_code == 422
        assert "Another partner is registered with this registration number" in response.content.decode()
    else:
        assert response.status_code == 403
    partner = Partner.objects.get(pk=scene["partner_p"].pk)
    assert (partner.name, partner.registration_number) == ("CallCenter Ltd", "01-09-111111")
    assert Partner.objects.get(pk=partners_q_pk(scene)).name == "Quiet Partners Kft."
    assert not Partner.objects.filter(
        registration_number="01-09-333333", verification_status="verified"
    ).exists()
    pending = PartnerIdentityChange.objects.filter(status="pending")
    mine = pending.get(partner_id=scene["partner_p"].pk)
    assert mine.new_values["name"] == "CallCenter Hungary Ltd" and pending.count() == 1


def partners_q_pk(scene) -> int:
    return Membership.objects.get(user=scene["users"]["quentin"]).organization_id


@pytest.mark.parametrize("who", [w for w in ATTACKERS if w != "paula"] + ["quentin"])
def test_identity_withdraw_only_by_the_partners_admin(scene, client, who):
    response = as_attacker(client, scene, who).post(DETAILS, {"withdraw": "1"})
    if who == "anon":
        assert response.status_code == 302 and reverse("accounts:login") in response["Location"]
    elif who == "quentin":  # Q's admin withdraws only Q's requests, and Q has none
        assert response.status_code == 400
        assert "There is no request awaiting the operator." in response.content.decode()
    else:
        assert response.status_code == 403
    assert_nothing_decided(scene)


def test_identity_withdraw_by_the_partners_admin(scene, client):
    response = as_attacker(client, scene, "paula").post(DETAILS, {"withdraw": "1"})
    assert response.status_code == 302
    assert PartnerIdentityChange.objects.get().status == "withdrawn"
    assert AuditEntry.objects.filter(action="partner.identity_change_withdraw").exists()


@pytest.mark.parametrize("who", ATTACKERS)
@pytest.mark.parametrize("action", ["approve_change", "refuse_change"])
def test_identity_approve_and_refuse_only_by_the_operator(scene, client, who, action):
    change = PartnerIdentityChange.objects.get()
    response = as_attacker(client, scene, who).post(
        CHANGES_ADMIN, {"action": action, "_selected_action": [change.pk]}
    )
    assert response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))
    service = (
        partner_identity_change_approve if action == "approve_change" else partner_identity_change_refuse
    )
    with pytest.raises(NotPermitted):
        service(actor=attacker_actor(scene, who), change=change)
    assert_nothing_decided(scene)


# --- the operator's and the admin's own paths ---------------------------------------------------------------


def test_identity_request_replaced_by_a_newer_one_and_withdrawn_by_the_verified_values(partners, login):
    client = login(partners.paula)
    client.post(DETAILS, {**CALLCENTER, "name": "CallCenter One Ltd"})
    client.post(DETAILS, {**CALLCENTER, "name": "CallCenter Two Ltd"})
    statuses = dict(PartnerIdentityChange.objects.values_list("new_values__name", "status"))
    assert statuses == {"CallCenter One Ltd": "withdrawn", "CallCenter Two Ltd": "pending"}
    # The page offers what was asked; saving it again (say, with a new address) keeps the one request.
    page = client.get(DETAILS)
    assert page.context["form"].initial["name"] == "CallCenter Two Ltd"
    client.post(DETAILS, {**CALLCENTER, "name": "CallCenter Two Ltd", "address": "Váci út 9"})
    assert PartnerIdentityChange.objects.filter(status="pending").count() == 1
    assert Partner.objects.get(pk=partners.partner_p.pk).address == "Váci út 9"
    # The verified values again: nothing is awaiting the operator.
    client.post(DETAILS, {**CALLCENTER, "address": "Váci út 9"})
    assert not PartnerIdentityChange.objects.filter(status="pending").exists()
    assert Partner.objects.get(pk=partners.partner_p.pk).name == "CallCenter Ltd"


def test_identity_approval_refused_when_the_number_was_taken_meanwhile(partners, login):
    login(partners.paula).post(DETAILS, {**CALLCENTER, "registration_number": "01-09-555555"})
    change = PartnerIdentityChange.objects.get()
    partner_make("Quick Kft.", "01-09-555555", "24703350-2-19", "q@quick.test")
    with pytest.raises(DomainError, match="Another partner is registered"):
        partner_identity_change_approve(actor=operator_actor(), change=change)
    change.refresh_from_db()
    assert change.status == "pending"
    assert Partner.objects.get(pk=partners.partner_p.pk).registration_number == "01-09-111111"


def test_identity_unverified_partners_admin_may_not_ask(cast, partners, login):
    waiting = partner_make(
        "Waiting Kft.", "01-09-666666", "24703350-2-19", "w@w.test", verification="unverified"
    )
    partner_member(cast.bob, waiting, Membership.Role.PARTNER_ADMIN, can_book=True)
    gtc_accepted_by(waiting, cast.bob, partners.gtc)
    client = login(cast.bob)
    client.post(reverse("accounts:organization-switch"), {"organization": waiting.pk})
    assert (
        client.post(
            DETAILS, {**CALLCENTER, "name": "Waiting Kft.", "registration_number": "01-09-666666"}
        ).status_code
        == 403
    )
    assert not PartnerIdentityChange.objects.exists()


def test_claim_of_a_withdrawn_invitation_cannot_be_accepted_but_can_be_refused(
    cast, gtc, login, client, smtp_server, deliver_outbox
):
    at_a, at_b = co_claimed(cast, login, client, smtp_server, deliver_outbox)
    end = reverse("partners:partner-delete", args=[at_a.pk])
    login(cast.alice).post(end, {"future_bookings": "keep"})
    at_a.refresh_from_db()
    assert at_a.status == Partnership.Status.ENDED
    claim = claim_of("wanda@west.test")
    with pytest.raises(DomainError, match="withdrawn this invitation"):
        partner_claim_accept(actor=operator_actor(), claim=claim)
    assert not Partner.objects.get().is_verified
    partner_claim_refuse(actor=operator_actor(), claim=claim)
    at_a.refresh_from_db()
    assert at_a.status == Partnership.Status.ENDED and claim_of("wanda@west.test").status == "refused"
    # The other claim waits as before; a decided claim cannot be decided again.
    assert claim_of(MALLORY["contact_email"]).status == "pending"
    with pytest.raises(DomainError, match="already been decided"):
        partner_claim_accept(actor=operator_actor(), claim=claim)
