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
