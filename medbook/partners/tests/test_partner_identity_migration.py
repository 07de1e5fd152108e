"""The P-14 migration: every partnership gets its partner's contact; partners that had registered count
as verified (they were active before verification existed), the others wait for the operator."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)
BEFORE = [("partners", "0003_patient_search"), ("accounts", "0001_initial")]
AFTER = [("partners", "0004_partner_identity"), ("accounts", "0002_membership_invitation")]


def _state_at(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps


def test_p14_migration_copies_contacts_and_grandfathers_registered_partners(cast):
    old = _state_at(BEFORE)
    Partner, Partnership = old.get_model("partners", "Partner"), old.get_model("partners", "Partnership")
    Membership, TrafficChannel = (
        old.get_model("accounts", "Membership"),
        old.get_model("scheduling", "TrafficChannel"),
    )
    made = {}
    for name, number, email in (
        ("Old Kft.", "01-09-777777", "old@o.test"),
        ("New Kft.", "01-09-888888", "n@n.test"),
    ):
        partner = Partner.objects.create(
            kind="partner",
            name=name,
            registration_number=number,
            tax_number="12345676-2-41",
            address="Budapest",
            country="HU",
            registry_key=f"HU:{number}",
            contact_name=f"{name} contact",
            contact_email=email,
            contact_phone="+36 1 234 5678",
            contact_language="hu",
        )
        channel = TrafficChannel.objects.create(
            institution_id=cast.institution_a.pk,
            code=f"partner-{partner.pk}",
            name=name,
            partner_id=partner.pk,
        )
        made[name] = Partnership.objects.create(
            institution_id=cast.institution_a.pk, partner=partner, status="active", channel=channel
        ).pk
    Membership.objects.create(
        user_id=cast.alice.pk, organization_id=Partner.objects.get(name="Old Kft.").pk, role="partner_admin"
    )

    new = _state_at(AFTER)
    Partner, Partnership = new.get_model("partners", "Partner"), new.get_model("partners", "Partnership")
    ship = Partnership.objects.get(pk=made["Old Kft."])
    assert (ship.contact_name, ship.contact_email, ship.contact_language) == (
        "Old Kft. contact",
        "old@o.test",
        "hu",
    )
    assert Partner.objects.get(name="Old Kft.").verification_status == "verified"
    assert Partner.objects.get(name="New Kft.").verification_status == "unverified"
    assert Partnership.objects.get(pk=made["New Kft."]).contact_email == "n@n.test"
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())  # every app back at its latest migration


def _every_app_latest_but_partners(partners_at: str) -> list[tuple[str, str]]:
    """Every other app at its latest migration (their models as the database has them), partners at one."""
    leaves = MigrationExecutor(connection).loader.graph.leaf_nodes()
    return [node for node in leaves if node[0] != "partners"] + [("partners", partners_at)]


def test_issue19_migration_turns_registrations_into_claims_and_ends_unverified_access(cast):
    old = _state_at(_every_app_latest_but_partners("0004_partner_identity"))
    Partner, Partnership = old.get_model("partners", "Partner"), old.get_model("partners", "Partnership")
    Invitation = old.get_model("partners", "PartnerInvitation")
    Membership, User = old.get_model("accounts", "Membership"), old.get_model("accounts", "User")
    TrafficChannel = old.get_model("scheduling", "TrafficChannel")
    ships = {}
    for name, number, status in (
        ("Waiting Kft.", "01-09-777771", "unverified"),
        ("Proved Kft.", "01-09-777772", "verified"),
    ):
        partner = Partner.objects.create(
            kind="partner",
            name=name,
            registration_number=number,
            tax_number="12345676-2-41",
            country="HU",
            registry_key=f"HU:{number}",
            contact_email="x@x.test",
            verification_status=status,
        )
        channel = TrafficChannel.objects.create(
            institution_id=cast.institution_a.pk,
            code=f"partner-{partner.pk}",
            name=name,
            partner_id=partner.pk,
        )
        ships[name] = Partnership.objects.create(
            institution_id=cast.institution_a.pk,
            partner=partner,
            status="pending_verification" if status == "unverified" else "active",
            channel=channel,
            contact_email="reg@w.test",
        )
    registrant = User.objects.create(email="reg@w.test", full_name="Registrant")
    helper = User.objects.create(email="helper@w.test", full_name="Added by the registrant")
    waiting, proved = ships["Waiting Kft."], ships["Proved Kft."]
    Invitation.objects.create(
        partnership=waiting, email="REG@w.test", nonce_hash="x" * 64, used_at="2026-12-01T10:00Z"
    )
    for user in (registrant, helper):
        Membership.objects.create(user=user, organization_id=waiting.partner_id, role="partner_admin")
    Membership.objects.create(user_id=cast.bob.pk, organization_id=proved.partner_id, role="partner_admin")

    new = _state_at(_every_app_latest_but_partners("0005_partner_identity_claims"))
    Claim, Membership = new.get_model("partners", "PartnerClaim"), new.get_model("accounts", "Membership")
    claim = Claim.objects.get()
    assert (claim.user_id, claim.partnership_id, claim.status) == (registrant.pk, waiting.pk, "pending")
    assert not Membership.objects.filter(organization_id=waiting.partner_id, is_active=True).exists()
    assert Membership.objects.get(organization_id=proved.partner_id).is_active
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
