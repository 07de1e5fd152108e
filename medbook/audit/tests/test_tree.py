"""Issue 20: the audit log in Merkle trees per institution, sealed without a writers' lock, signed heads, and
audit_verify finding each kind of tampering (a changed leaf, a dropped entry, a forked head, a late seal)."""

import importlib
import io
import threading
from datetime import timedelta

import pytest
from django.apps import apps as django_apps
from django.core.management import CommandError, call_command
from django.db import connection, connections, models, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from medbook.audit import merkle, sealer, signing, triggers, verify
from medbook.audit.actions import AuditAction
from medbook.audit.chain import GENESIS, leaf_hash_of, row_hash_of
from medbook.audit.models import AuditEntry, AuditLeaf, AuditPending, AuditTree, AuditTreeHead
from medbook.audit.sealer import audit_seal, head_sign
from medbook.audit.services import audit_record
from medbook.notifications.management.commands.run_worker import Command

pytestmark = pytest.mark.django_db
TABLE = triggers.TABLE
MIGRATION = importlib.import_module("medbook.audit.migrations.0005_merkle_trees")


def _record(actor, obj, **details) -> AuditEntry:
    return audit_record(actor=actor, action=AuditAction.BOOKING_NOTE, obj=obj, **details)


def _entries(cast, count: int = 3) -> list[AuditEntry]:
    """`count` entries of institution A, one of B and one of the platform, sealed."""
    alice = cast.actor(cast.alice)
    entries = [_record(alice, cast.location_a1, n=n) for n in range(count)]
    entries.append(_record(cast.actor(cast.charlie), cast.location_b))
    entries.append(audit_record(actor=None, action=AuditAction.FEED_RENEW, obj=None))
    audit_seal()
    return entries


def _verify() -> str:
    out = io.StringIO()
    call_command("audit_verify", stdout=out, stderr=io.StringIO())
    return out.getvalue()


def _tamper(sql: str, params=()) -> None:
    """Bypass the append-only triggers, as someone with the database owner's rights could."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending foreign-key checks before the ALTER
            cursor.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER {triggers.PG_TRIGGER}")
        else:
            for name in triggers.SQLITE_TRIGGERS:
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
        cursor.execute(sql, params)


def _tree_a(cast) -> AuditTree:
    return AuditTree.objects.get(institution=cast.institution_a)


def test_x3_entries_go_into_one_tree_per_institution_and_one_for_the_platform(cast):
    entries = _entries(cast)
    trees = {tree.institution_id: tree for tree in AuditTree.objects.all()}
    assert set(trees) == {cast.institution_a.pk, cast.institution_b.pk, None}
    assert (trees[cast.institution_a.pk].size, trees[cast.institution_b.pk].size, trees[None].size) == (
        3,
        1,
        1,
    )
    leaves = AuditLeaf.objects.filter(tree=trees[cast.institution_a.pk]).order_by("index")
    assert [leaf.entry_id for leaf in leaves] == [entry.pk for entry in entries[:3]]  # in id order
    assert not AuditPending.objects.exists()
    head = AuditTreeHead.objects.filter(tree=trees[cast.institution_a.pk]).get()
    message = signing.head_message(
        log=f"medbook-audit/institution/{cast.institution_a.pk}",
        size=3,
        root_hash=head.root_hash,
        timestamp=head.signed_at,
    )
    assert (
        signing.signature_valid(message, head.signature)
        and head.root_hash == trees[cast.institution_a.pk].root_hash
    )
    assert "Audit log intact: 5 entries in 3 trees, 3 signed heads verified" in _verify()


def test_x3_successive_seals_extend_the_tree_consistently(cast):
    alice = cast.actor(cast.alice)
    for n in range(7):
        _record(alice, cast.location_a1, n=n)
        audit_seal()
    heads = list(AuditTreeHead.objects.filter(tree=_tree_a(cast)).order_by("size"))
    assert [head.size for head in heads] == [1, 2, 3, 4, 5, 6, 7]
    assert "7 signed heads verified" in _verify()


def test_x3_tamper_a_leaf_is_detected(cast):
    entries = _entries(cast)
    _tamper(f"UPDATE {TABLE} SET object_repr = 'someone else' WHERE id = %s", [entries[1].pk])
    with pytest.raises(CommandError, match=rf"entry {entries[1].pk} \(leaf 1\) was changed"):
        _verify()


def test_x3_tamper_a_leaf_with_its_hashes_rewritten_breaks_the_signed_head(cast):
    entries = _entries(cast)
    forged = AuditEntry.objects.get(pk=entries[1].pk)
    forged.action = "nothing.happened"
    _tamper(
        f"UPDATE {TABLE} SET action = %s, leaf_hash = %s WHERE id = %s",
        [forged.action, leaf_hash_of(forged), forged.pk],
    )
    _tamper(
        "UPDATE audit_auditleaf SET leaf_hash = %s WHERE entry_id = %s", [leaf_hash_of(forged), forged.pk]
    )
    with pytest.raises(CommandError, match="signed head .* does not match the tree's root"):
        _verify()


def test_x3_drop_an_entry_is_detected(cast):
    entries = _entries(cast)
    _tamper(f"DELETE FROM {TABLE} WHERE id = %s", [entries[0].pk])
    with pytest.raises(CommandError, match=rf"entry {entries[0].pk} \(leaf 0\) is missing"):
        _verify()


def test_x3_drop_an_entry_and_its_leaf_is_detected(cast):
    entries = _entries(cast)
    _tamper(f"DELETE FROM {TABLE} WHERE id = %s", [entries[2].pk])
    _tamper("DELETE FROM audit_auditleaf WHERE entry_id = %s", [entries[2].pk])
    with pytest.raises(CommandError, match=r"signed head .* \(size 3\) is larger than the tree's 2 leaves"):
        _verify()


def test_x3_fork_a_head_of_the_same_size_is_detected(cast):
    _entries(cast)
    tree = _tree_a(cast)
    tree.root_hash = merkle.leaf_hash(b"another history").hex()
    head_sign(tree=tree)  # signed with the real key: only the trees can tell
    with pytest.raises(CommandError, match="forks from the earlier head .* of the same size"):
        _verify()


def test_x3_a_head_inconsistent_with_an_earlier_one_is_detected(cast):
    _entries(cast)
    tree = _tree_a(cast)
    tree.size, tree.root_hash = 4, merkle.leaf_hash(b"rewritten").hex()
    head_sign(tree=tree)
    with pytest.raises(
        CommandError, match=r"size 4\) is larger than the tree's 3 leaves.*not consistent with"
    ):
        _verify()


def test_x3_a_head_with_a_forged_signature_is_detected(cast):
    _entries(cast)
    head = AuditTreeHead.objects.filter(tree=_tree_a(cast)).get()
    AuditTreeHead.objects.filter(pk=head.pk).update(signature=head.signature[:-4] + "AAA=")
    with pytest.raises(CommandError, match="signature that does not verify"):
        _verify()


def test_x3_an_unsealed_entry_older_than_the_delay_is_reported(cast, settings):
    _entries(cast)
    late = AuditEntry.objects.create(
        created_at=timezone.now() - timedelta(seconds=settings.AUDIT_SEAL_MAX_DELAY_SECONDS + 1),
        action="x.late",
    )
    _record(cast.actor(cast.alice), cast.location_a1)  # a fresh one waits for the sealer: no problem yet
    with pytest.raises(CommandError, match=rf"1 entries older than 60 s are not sealed .*first: {late.pk}\)"):
        _verify()
    audit_seal()
    assert "intact: 7 entries" in _verify()


def test_x3_an_entry_changed_before_it_was_sealed_stays_out_and_is_reported(cast, settings):
    entry = _record(cast.actor(cast.alice), cast.location_a1)
    _tamper(f"UPDATE {TABLE} SET object_repr = 'someone else' WHERE id = %s", [entry.pk])
    assert audit_seal() == 0 and AuditPending.objects.filter(entry=entry).exists()
    settings.AUDIT_SEAL_MAX_DELAY_SECONDS = -1
    with pytest.raises(CommandError, match=rf"not sealed .*first: {entry.pk}\)"):
        _verify()


def test_x3_an_entry_committed_late_with_a_lower_id_is_sealed_not_dropped(cast, monkeypatch):
    """Writers commit out of id order: an entry whose queue row appears while a batch of higher and lower
    ids is being sealed (its transaction committed meanwhile) stays queued and is sealed by the next round."""
    alice = cast.actor(cast.alice)
    first, late, last = (_record(alice, cast.location_a1, n=n) for n in range(3))
    queued_late = AuditPending.objects.get(entry=late)
    AuditPending.objects.filter(entry=late).delete()  # not committed yet when the sealer reads the queue
    appended = merkle.append

    def commit_late_while_sealing(*args, **kwargs):
        if not AuditPending.objects.filter(entry=late).exists():
            AuditPending.objects.create(entry_id=late.pk, institution_id=queued_late.institution_id)
        return appended(*args, **kwargs)

    monkeypatch.setattr(sealer.merkle, "append", commit_late_while_sealing)
    audit_seal()
    monkeypatch.setattr(sealer.merkle, "append", appended)
    assert AuditPending.objects.filter(entry=late).exists()  # still queued: not dropped with the batch
    audit_seal()
    leaves = AuditLeaf.objects.filter(tree=_tree_a(cast)).order_by("index")
    assert [leaf.entry_id for leaf in leaves] == [first.pk, last.pk, late.pk]
    assert not AuditPending.objects.exists()
    assert "Audit log intact" in _verify()


def test_x3_the_worker_seals_the_queue_as_one_of_its_tasks(cast, settings):
    entry = _record(cast.actor(cast.alice), cast.location_a1)
    task = "medbook.audit.sealer.audit_seal"
    assert task in settings.WORKER_TASKS
    assert (
        Command().step(task, import_string(task)) == 1
    )  # the loop's own step: its errors are logged, not fatal
    assert AuditLeaf.objects.filter(entry=entry, index=0).exists()


def test_x3_audit_seal_command_reports_what_it_sealed(cast):
    _record(cast.actor(cast.alice), cast.location_a1)
    out = io.StringIO()
    call_command("audit_seal", stdout=out)
    assert out.getvalue().strip() == "Audit entries sealed: 1."


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_x3_writers_of_two_institutions_do_not_wait_on_each_other(cast):
    """A holds an open transaction that wrote an audit entry; B's audited write commits meanwhile."""
    written, release, b_done = threading.Event(), threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def a_writer() -> None:
        try:
            with transaction.atomic():
                _record(cast.actor(cast.alice), cast.location_a1, who="a")
                written.set()
                release.wait(timeout=60)
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            connections.close_all()

    def b_writer() -> None:
        try:
            with transaction.atomic():
                _record(cast.actor(cast.charlie), cast.location_b, who="b")
            b_done.set()
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            connections.close_all()

    a = threading.Thread(target=a_writer)
    a.start()
    try:
        assert written.wait(timeout=30)
        b = threading.Thread(target=b_writer)
        b.start()
        assert b_done.wait(timeout=30), "B's audited write waited for A's open transaction"
        assert list(AuditEntry.objects.values_list("details__who", flat=True)) == ["b"]  # A's not committed
    finally:
        release.set()
        a.join(timeout=60)
    assert not errors
    assert sorted(AuditEntry.objects.values_list("details__who", flat=True)) == ["a", "b"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_x3_two_sealers_at_once_build_one_consistent_tree(cast):
    alice, charlie = cast.actor(cast.alice), cast.actor(cast.charlie)
    for n in range(40):
        _record(alice if n % 3 else charlie, cast.location_a1 if n % 3 else cast.location_b, n=n)
    start = threading.Barrier(2, timeout=30)
    errors: list[BaseException] = []

    def seal() -> None:
        try:
            start.wait()
            while AuditPending.objects.exists():
                audit_seal(batch_size=3)
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=seal) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    assert AuditLeaf.objects.count() == 40 == AuditLeaf.objects.values("entry").distinct().count()
    assert sorted(AuditTree.objects.values_list("size", flat=True)) == [14, 26]
    assert "Audit log intact: 40 entries in 2 trees" in _verify()


def _legacy_entries(count: int) -> list[AuditEntry]:
    """Entries as the old hash chain wrote them (prev_hash, row_hash; no leaf hash)."""
    entries, previous = [], GENESIS
    for n in range(count):
        entry = AuditEntry(action="legacy.act", details={"n": n}, prev_hash=previous)
        entry.row_hash = row_hash_of(entry)
        models.Model.save(entry)  # past AuditEntry.save(), which writes new entries only
        entries.append(entry)
        previous = entry.row_hash
    return entries


def test_x3_old_chain_entries_are_verified_then_migrate_into_the_trees(cast):
    legacy = _legacy_entries(4)
    AuditPending.objects.all().delete()  # as before the migration: no queue yet
    MIGRATION.verify_old_chain_and_queue(django_apps, connection.schema_editor())
    assert audit_seal() == 4
    leaves = AuditLeaf.objects.filter(tree__institution__isnull=True).order_by("index")
    assert [leaf.entry_id for leaf in leaves] == [entry.pk for entry in legacy]
    assert "Audit log intact: 4 entries in 1 trees" in _verify()


def test_x3_a_broken_old_chain_stops_the_migration_naming_the_entry(cast):
    legacy = _legacy_entries(3)
    _tamper(f"UPDATE {TABLE} SET action = 'x' WHERE id = %s", [legacy[1].pk])
    AuditPending.objects.all().delete()
    with pytest.raises(RuntimeError, match=f"broken at entry {legacy[1].pk}"):
        MIGRATION.verify_old_chain_and_queue(django_apps, connection.schema_editor())
    assert not AuditPending.objects.exists()


def test_x3_under_load_a_head_is_signed_at_most_once_an_interval(cast, monkeypatch, settings):
    monkeypatch.setattr(sealer, "HEAD_INTERVAL", timedelta(hours=1))
    alice = cast.actor(cast.alice)
    for n in range(3):
        _record(alice, cast.location_a1, n=n)
        audit_seal()  # appended at once, signed only the first time
    tree = _tree_a(cast)
    assert (tree.size, tree.signed_size, AuditTreeHead.objects.filter(tree=tree).count()) == (3, 1, 1)
    settings.AUDIT_SEAL_MAX_DELAY_SECONDS = -1  # the tail has waited longer than the delay
    with pytest.raises(CommandError, match=r"leaves 1 to 2 are covered by no signed head"):
        _verify()
    AuditTree.objects.filter(pk=tree.pk).update(signed_at=timezone.now() - timedelta(hours=2))
    audit_seal()  # nothing queued: the due head is signed
    assert list(AuditTreeHead.objects.filter(tree=tree).order_by("size").values_list("size", flat=True)) == [
        1,
        3,
    ]
    assert "intact" in _verify()


def test_x3_dropped_entries_are_each_named_wherever_the_reading_chunks_fall(cast, monkeypatch):
    """audit_verify reads leaves and entries in chunks (one join each): a removed entry at a chunk's start,
    between chunks and at the tree's end is named as missing, and the other leaves are still checked."""
    monkeypatch.setattr(verify, "CHUNK", 2)
    entries = _entries(cast, count=7)
    for n in (2, 3, 6):
        _tamper(f"DELETE FROM {TABLE} WHERE id = %s", [entries[n].pk])
    _tamper(f"UPDATE {TABLE} SET action = 'nothing.happened' WHERE id = %s", [entries[4].pk])
    with pytest.raises(CommandError) as refused:
        _verify()
    message = str(refused.value)
    for n in (2, 3, 6):
        assert f"entry {entries[n].pk} (leaf {n}) is missing" in message
    assert f"entry {entries[4].pk} (leaf 4) was changed" in message
    assert f"entry {entries[5].pk}" not in message and "leaf 7" not in message


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_x3_audit_verify_in_parallel_processes_finds_what_one_process_finds(cast):
    """`audit_verify --jobs` recomputes the trees in processes of its own (on this test's database): an
    intact log passes; a changed entry in one tree and a removed one in another are named as by one process."""
    entries = _entries(cast, count=4)
    out = io.StringIO()
    call_command("audit_verify", jobs=3, stdout=out, stderr=io.StringIO())
    assert "Audit log intact: 6 entries in 3 trees" in out.getvalue()
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER {triggers.PG_TRIGGER}")
        try:
            cursor.execute(f"UPDATE {TABLE} SET action = 'nothing.happened' WHERE id = %s", [entries[1].pk])
            cursor.execute(f"DELETE FROM {TABLE} WHERE id = %s", [entries[4].pk])  # institution B's one
        finally:
            cursor.execute(f"ALTER TABLE {TABLE} ENABLE TRIGGER {triggers.PG_TRIGGER}")
    found = {}
    for jobs in (1, 3):
        with pytest.raises(CommandError) as refused:
            call_command("audit_verify", jobs=jobs, stdout=io.StringIO(), stderr=io.StringIO())
        found[jobs] = str(refused.value).removeprefix("Audit log broken: ").removesuffix(".")
    assert f"entry {entries[1].pk} (leaf 1) was changed" in found[3]
    assert f"entry {entries[4].pk} (leaf 0) is missing" in found[3]
    assert sorted(found[1].split("; ")) == sorted(found[3].split("; "))
