"""Issue 20: what an entry says about a patient lives in an erasable personal part; the hashed leaf commits
to it by a salted hash, so erasing it (GDPR) leaves every leaf, tree and proof valid."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import translation

from conftest import local, next_weekday
from medbook.audit import chain
from medbook.audit.actions import AuditAction
from medbook.audit.models import AuditEntry, AuditPersonal
from medbook.audit.proofs import inclusion_proof
from medbook.audit.sealer import audit_seal
from medbook.audit.services import audit_personal_erase, audit_record
from medbook.core.errors import NotPermitted
from medbook.partners.services.booking import partner_patient_search
from medbook.partners.tests import services as partner_services
from medbook.patients.services import patient_merge, patient_register_read
from medbook.patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def _verify() -> str:
    out = io.StringIO()
    call_command("audit_verify", stdout=out, stderr=io.StringIO())
    return out.getvalue()


def _about_anna(cast, partners) -> dict[str, AuditEntry]:
    """A partner's booking for Anna, staff opening her record, and a staff search for her, sealed."""
    booking = partner_services.booking_create(
        actor=cast.actor(partners.peter),
        location=cast.location_a1,
        physician=cast.physician_a,
        service=cast.service_a,
        patient=cast.patient_a,
        starts_at=local(next_weekday(2), 9),
    )
    bob = cast.actor(cast.bob)
    patient_register_read(actor=bob, view="record", patients=[cast.patient_a])
    patient_register_read(actor=bob, view="search", patients=[cast.patient_a], query="Anna Pat")
    audit_seal()
    return {
        "booking": AuditEntry.objects.get(action="booking.create", object_id=str(booking.pk)),
        "view": AuditEntry.objects.get(action="patient.view"),
        "search": AuditEntry.objects.get(action="patient.register_read"),
    }


def test_i20_personal_values_live_in_the_erasable_part_the_leaf_commits_to(cast, partners):
    entries = _about_anna(cast, partners)
    for entry in entries.values():
        part = AuditPersonal.objects.get(entry=entry)
        assert "Anna" not in entry.object_repr and "Anna" not in str(entry.details)  # not in the hashed part
        assert "Anna" in entry.shown_repr + str(entry.shown_details)  # but the entry still says it
        assert entry.personal_hash == chain.personal_hash_of(part.salt, part.data)
        assert (
            entry.leaf_hash == chain.leaf_hash_of(entry)
            and entry.personal_hash in chain.leaf_data(entry).decode()
        )
    assert entries["search"].shown_details["query"] == "Anna Pat"
    assert entries["booking"].shown_details["patient_id"] == cast.patient_a.pk
    # An entry with nothing personal has no personal part, and its content is as before.
    other = audit_record(actor=cast.actor(cast.alice), action=AuditAction.BOOKING_NOTE, obj=cast.location_a1)
    assert other.personal_hash == "" and not AuditPersonal.objects.filter(entry=other).exists()
    assert b"personal_hash" not in chain.leaf_data(other)


def test_i20_erasing_a_patients_personal_parts_leaves_every_proof_valid(cast, partners, login):
    entries = _about_anna(cast, partners)
    proofs_before = {name: inclusion_proof(entry) for name, entry in entries.items()}
    erased = audit_personal_erase(actor=cast.actor(cast.alice), patient=cast.patient_a)
    assert erased == 2  # her record's and her booking's entries (a search string names no patient id)
    assert audit_personal_erase(actor=None, entry_ids=[entries["search"].pk]) == 1
    assert not AuditPersonal.objects.filter(entry__in=entries.values()).exists()
    erase = AuditEntry.objects.filter(action="audit.personal_erase").order_by("pk")
    assert erase[0].details["entries"] == sorted([entries["booking"].pk, entries["view"].pk])
    audit_seal()
    assert "Audit log intact" in _verify()
    for name, entry in entries.items():
        entry = AuditEntry.objects.get(pk=entry.pk)
        proof = inclusion_proof(entry)
        assert proof.verified and proof.leaf_hash == proofs_before[name].leaf_hash
        assert entry.personal_erased and "Anna" not in entry.shown_repr + str(entry.shown_details)
    client = login(cast.alice)
    page = client.get(reverse("audit:entry-list")).content.decode()
    assert "Anna" not in page and "(erased)" in page
    proof_page = client.get(reverse("audit:entry-proof", args=[entries["booking"].pk])).content.decode()
    assert 'data-testid="audit-proof-verified"' in proof_page and "(erased)" in proof_page
    with translation.override("hu"):
        assert str(AuditEntry.objects.get(pk=entries["view"].pk).shown_repr) == "(törölve)"


def test_i20_the_audit_page_renders_both_parts_before_erasure(cast, partners, login):
    _about_anna(cast, partners)
    page = login(cast.alice).get(reverse("audit:entry-list")).content.decode()
    assert "Anna Patient" in page and "Anna Pat" in page


def test_i20_a_changed_personal_part_is_detected_by_verify(cast, partners):
    entries = _about_anna(cast, partners)
    _verify()
    part = AuditPersonal.objects.get(entry=entries["search"])
    part.data = {"details": {"query": "someone else"}}
    part.save()
    with pytest.raises(CommandError) as found:
        _verify()
    assert f"entry {entries['search'].pk} (leaf" in str(found.value) and "personal part" in str(found.value)


def test_i20_a_personal_part_deleted_without_an_audited_erasure_is_detected(cast, partners):
    entries = _about_anna(cast, partners)
    AuditPersonal.objects.filter(entry=entries["view"]).delete()  # as someone with the database's rights
    with pytest.raises(
        CommandError, match=rf"entry {entries['view'].pk} \(leaf .* without an audited erasure"
    ):
        _verify()


def test_i20_another_institutions_admin_erases_nothing_of_ours_and_staff_may_not(cast, partners):
    entries = _about_anna(cast, partners)
    assert audit_personal_erase(actor=cast.actor(cast.charlie), patient=cast.patient_a) == 0
    assert (
        audit_personal_erase(actor=cast.actor(cast.charlie), entry_ids=[e.pk for e in entries.values()]) == 0
    )
    with pytest.raises(NotPermitted):
        audit_personal_erase(actor=cast.actor(cast.bob), patient=cast.patient_a)
    assert AuditPersonal.objects.filter(entry__in=entries.values()).count() == 3


def test_i20_a_merge_and_a_partner_search_keep_names_and_search_strings_in_the_personal_part(cast, partners):
    duplicate = PatientFactory(institution=cast.institution_a, full_name="Anna Duplicate")
    patient_merge(actor=cast.actor(cast.alice), keep=cast.patient_a, duplicate=duplicate)
    partners.partnership_p.patient_data_access = True
    partners.partnership_p.save()
    partner_patient_search(
        actor=cast.actor(partners.peter), partnership=partners.partnership_p, query="Anna P"
    )
    merge = AuditEntry.objects.get(action="patient.merge")
    search = AuditEntry.objects.get(action="patient.partner_search")
    for entry in (merge, search):
        assert "Anna" not in entry.object_repr + str(entry.details) and entry.personal_hash
    assert merge.shown_details["duplicate_name"] == "Anna Duplicate" and merge.shown_repr == "Anna Patient"
    assert merge.details["fields_taken"] == [] and search.shown_details["query"] == "Anna P"
