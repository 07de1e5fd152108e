"""F9: the audit log cannot be rewritten (queryset, raw SQL, trigger); its Merkle trees prove it was not
(the tampering tests are in test_tree.py)."""

import dataclasses
import io

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from medbook.audit import triggers
from medbook.audit.actions import AuditAction
from medbook.audit.chain import leaf_hash_of
from medbook.audit.models import AuditEntry, AuditEntryImmutable
from medbook.audit.sealer import audit_seal
from medbook.audit.services import audit_record

pytestmark = pytest.mark.django_db
TABLE = triggers.TABLE


def _three_entries(cast) -> list[AuditEntry]:
    actor = dataclasses.replace(cast.actor(cast.alice), client_ip="2001:db8::1", request_id="r")
    return [
        audit_record(actor=actor, action=AuditAction.BOOKING_NOTE, obj=cast.location_a1, n=1, f=0.1, s="Ő é"),
        audit_record(actor=actor, action=AuditAction.PATIENT_UPDATE, obj=cast.location_a1, nested={"a": [1]}),
        audit_record(actor=None, action=AuditAction.FEED_RENEW, obj=None, none=None),
    ]


def _verify() -> str:
    audit_seal()
    out = io.StringIO()
    call_command("audit_verify", stdout=out, stderr=io.StringIO())
    return out.getvalue()


def _raw(sql: str, params=()) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_f9_entries_carry_their_leaf_hash_and_an_untouched_log_verifies(cast):
    entries = _three_entries(cast)
    stored = AuditEntry.objects.in_bulk([entry.pk for entry in entries])
    assert all(len(entry.leaf_hash) == 64 == len(stored[entry.pk].leaf_hash) for entry in entries)
    assert all(stored[entry.pk].leaf_hash == leaf_hash_of(stored[entry.pk]) for entry in entries)
    assert all(entry.prev_hash == entry.row_hash == "" for entry in entries)  # the old chain is history
    assert "Audit log intact: 3 entries in 2 trees, 2 signed heads verified" in _verify()


def test_f9_bulk_update_delete_and_create_are_refused(cast):
    _three_entries(cast)
    with pytest.raises(AuditEntryImmutable):
        AuditEntry.objects.filter(action="booking.note").update(action="x")
    with pytest.raises(AuditEntryImmutable):
        AuditEntry.objects.all().delete()
    with pytest.raises(AuditEntryImmutable):
        AuditEntry.objects.bulk_create([AuditEntry(action="forged")])
    assert (
        AuditEntry.objects.count() == 3 and not AuditEntry.objects.filter(action__in=["x", "forged"]).exists()
    )


def test_f9_raw_sql_update_is_refused_by_the_trigger(cast):
    entry = _three_entries(cast)[0]
    with pytest.raises(DatabaseError, match="append-only"):
        _raw(f"UPDATE {TABLE} SET action = 'x' WHERE id = %s", [entry.pk])
    with pytest.raises(DatabaseError, match="append-only"):
        _raw(f"UPDATE {TABLE} SET user_id = %s WHERE id = %s", [cast.bob.pk, entry.pk])
    entry = AuditEntry.objects.get(pk=entry.pk)
    assert (entry.action, entry.user) == ("booking.note", cast.alice)


@pytest.mark.postgres
def test_f9_raw_sql_delete_is_refused_on_postgresql(cast):
    entries = _three_entries(cast)
    with pytest.raises(DatabaseError, match="append-only"):
        _raw(f"DELETE FROM {TABLE} WHERE id = %s", [entries[1].pk])
    with pytest.raises(DatabaseError, match="append-only"):
        _raw(f"DELETE FROM {TABLE}")
    assert AuditEntry.objects.count() == 3
    assert triggers.installed(connection)


def test_f9_deleting_a_user_keeps_their_entries_and_the_trees(cast):
    _three_entries(cast)
    cast.alice.delete()  # the foreign key's SET NULL: the one update the triggers allow
    assert (
        list(AuditEntry.objects.filter(user_email="alice@a.test").values_list("user", flat=True))
        == [None] * 2
    )
    assert "intact: 3 entries" in _verify()
