"""F9: the audit log cannot be rewritten (queryset, raw SQL, trigger) and its hash chain proves it was not."""

import dataclasses
import io

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from medbook.audit import triggers
from medbook.audit.actions import AuditAction
from medbook.audit.chain import GENESIS
from medbook.audit.models import AuditEntry, AuditEntryImmutable
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
    out = io.StringIO()
    call_command("audit_verify", stdout=out, stderr=io.StringIO())
    return out.getvalue()


def _raw(sql: str, params=()) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_f9_entries_are_chained_and_an_untouched_log_verifies(cast):
    first, second, third = _three_entries(cast)
    assert first.prev_hash == GENESIS and second.prev_hash == first.row_hash != ""
    assert third.prev_hash == second.row_hash and len(third.row_hash) == 64
    assert "Audit chain intact: 3 entries, head " + third.row_hash in _verify()


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


def test_f9_deleting_a_user_keeps_their_entries_and_the_chain(cast):
    _three_entries(cast)
    cast.alice.delete()  # the foreign key's SET NULL: the one update the triggers allow
    assert (
        list(AuditEntry.objects.filter(user_email="alice@a.test").values_list("user", flat=True))
        == [None] * 2
    )
    assert "intact: 3 entries" in _verify()


def _tamper(sql: str, params) -> None:
    """Bypass the triggers, as someone with the database owner's rights could."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending foreign-key checks before the ALTER
            cursor.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER {triggers.PG_TRIGGER}")
        else:
            for name in triggers.SQLITE_TRIGGERS:
                cursor.execute(f"DROP TRIGGER {name}")
        cursor.execute(sql, params)


def test_f9_audit_verify_names_a_changed_entry(cast):
    entries = _three_entries(cast)
    _tamper(f"UPDATE {TABLE} SET object_repr = 'someone else' WHERE id = %s", [entries[1].pk])
    with pytest.raises(CommandError, match=f"entry {entries[1].pk} .*changed"):
        _verify()


def test_f9_audit_verify_names_the_entry_after_a_removed_one(cast):
    entries = _three_entries(cast)
    _tamper(f"DELETE FROM {TABLE} WHERE id = %s", [entries[1].pk])
    with pytest.raises(CommandError, match=f"entry {entries[2].pk} .*removed"):
        _verify()


def test_f9_a_rehashed_forgery_still_breaks_the_link_to_the_next_entry(cast):
    entries = _three_entries(cast)
    forged = AuditEntry.objects.get(pk=entries[0].pk)
    forged.action = "nothing.happened"
    from medbook.audit.chain import row_hash_of

    _tamper(
        f"UPDATE {TABLE} SET action = %s, row_hash = %s WHERE id = %s",
        [forged.action, row_hash_of(forged), forged.pk],
    )
    with pytest.raises(CommandError, match=f"entry {entries[1].pk} .*removed or reordered"):
        _verify()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_f9_concurrent_writers_do_not_fork_the_chain():
    import threading

    writers, per_writer = 4, 5
    barrier = threading.Barrier(writers, timeout=60)
    errors: list[BaseException] = []

    def write() -> None:
        try:
            connection.ensure_connection()
            barrier.wait()
            for n in range(per_writer):
                with transaction.atomic():
                    audit_record(actor=None, action=AuditAction.FEED_RENEW, obj=None, n=n)
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=write) for _ in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    hashes = list(AuditEntry.objects.order_by("pk").values_list("prev_hash", flat=True))
    assert len(hashes) == len(set(hashes)) == writers * per_writer  # no two entries share a predecessor
    assert f"intact: {writers * per_writer} entries" in _verify()
