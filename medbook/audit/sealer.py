"""The sealer: integrates queued audit entries into their Merkle trees and signs the new tree heads.

Writers never wait on it nor on each other: an entry is inserted on its own and a trigger queues it
(audit_auditpending) in the writer's transaction. The sealer takes one tree's head row FOR UPDATE SKIP LOCKED
(another sealer on the same tree is skipped, never waited for; other trees go on), appends that tree's
queued entries in id order, stores the leaves and the completed interior nodes, updates the head row,
signs the new head and deletes the queue rows, all in one transaction. An entry committed late is simply
queued late and appended then: nothing relies on ids being committed in order.
"""

import logging
from datetime import timedelta

from django.db import connections, router, transaction
from django.db.models import F, Q
from django.utils import timezone

from medbook.audit import chain, merkle, signing
from medbook.audit.models import AuditEntry, AuditLeaf, AuditNode, AuditPending, AuditTree, AuditTreeHead

log = logging.getLogger(__name__)
BATCH_SIZE = 2000  # entries appended to one tree per transaction
# At most one signed head per tree in this time: under load the worker seals many times a second, and a head
# per round would grow the heads (and audit_verify's consistency checks) without proving more.
HEAD_INTERVAL = timedelta(seconds=1)


def audit_seal(*, batch_size: int = BATCH_SIZE) -> int:
    """Integrate every queued entry into its tree (in batches) and sign the heads that are due; return how
    many entries were appended."""
    scopes = list(AuditPending.objects.values_list("institution_id", flat=True).distinct())
    _trees_create(scopes)
    appended = 0
    for scope in scopes:
        while True:
            count = tree_seal(institution_id=scope, batch_size=batch_size)
            appended += max(count, 0)
            if count < batch_size:  # done, busy elsewhere (-1), or nothing left
                break
    heads_due_sign()
    return appended


def heads_due_sign() -> int:
    """Sign the heads of the trees that grew since their last head once HEAD_INTERVAL has passed."""
    due = AuditTree.objects.filter(size__gt=F("signed_size"), signed_at__lte=timezone.now() - HEAD_INTERVAL)
    signed = 0
    for pk in due.values_list("pk", flat=True):
        with transaction.atomic():
            tree = AuditTree.objects.select_for_update(skip_locked=True).filter(pk=pk).first()
            if tree is not None and tree.size > tree.signed_size:
                head_sign(tree=tree)
                signed += 1
    return signed


def _scope(institution_id: int | None) -> Q:
    return Q(institution__isnull=True) if institution_id is None else Q(institution_id=institution_id)


def _queued(institution_id: int | None) -> Q:
    return Q(institution_id__isnull=True) if institution_id is None else Q(institution_id=institution_id)


def _trees_create(scopes: list[int | None]) -> None:
    """Create the missing trees (two sealers creating the same one: the unique index keeps one)."""
    if not scopes:
        return
    existing = set(AuditTree.objects.values_list("institution_id", flat=True))
    missing = [AuditTree(institution_id=scope) for scope in scopes if scope not in existing]
    if missing:
        AuditTree.objects.bulk_create(missing, ignore_conflicts=True)


@transaction.atomic
def tree_seal(*, institution_id: int | None, batch_size: int = BATCH_SIZE) -> int:
    """Append up to `batch_size` queued entries of one tree and sign its head; -1 if another sealer has it."""
    tree = AuditTree.objects.select_for_update(skip_locked=True).filter(_scope(institution_id)).first()
    if tree is None:
        return -1
    queued = list(
        AuditPending.objects.filter(_queued(institution_id))
        .order_by("entry_id")
        .values_list("entry_id", flat=True)[:batch_size]
    )
    if not queued:
        return 0
    # By the id range of the batch, not a list of thousands of ids: every queued row of this tree in the
    # range is in the batch (it is the tree's first `batch_size` in id order).
    span = Q(pk__gte=queued[0], pk__lte=queued[-1])
    wanted = set(queued)
    entries = [
        fields
        for fields in AuditEntry.objects.filter(span, _queued(institution_id))
        .order_by("pk")
        .values("pk", *chain.HASHED_FIELDS, "personal_hash", "leaf_hash")
        if fields["pk"] in wanted
    ]
    frontier = [bytes.fromhex(value) for value in tree.frontier]
    leaves, nodes = [], []
    for fields in entries:
        leaf = chain.leaf_hash_of_fields(fields)
        if fields["leaf_hash"] and fields["leaf_hash"] != leaf:
            # Changed between its write and now: left queued, so audit_verify reports it as unsealed.
            log.error(
                "audit sealer: entry %s no longer matches the leaf hash it was written with", fields["pk"]
            )
            wanted.discard(fields["pk"])
            continue
        leaves.append((tree.pk, tree.size, fields["pk"], leaf))
        frontier, completed = merkle.append(frontier, tree.size, bytes.fromhex(leaf))
        nodes += [(tree.pk, level, index, value.hex()) for level, index, value in completed]
        tree.size += 1
    # Queue rows of vanished entries go too; an entry changed since its write (its content, or moved to
    # another institution) stays queued, so audit_verify reports it as unsealed.
    found = {fields["pk"] for fields in entries}
    unread = [pk for pk in queued if pk not in found]  # normally none
    wanted -= set(AuditEntry.objects.filter(pk__in=unread).values_list("pk", flat=True)) if unread else set()
    kept = [pk for pk in queued if pk not in wanted]
    _dequeue([pk for pk in queued if pk in wanted])
    if not leaves:
        return len(queued) - len(kept)
    _store(AuditLeaf, ("tree_id", "index", "entry_id", "leaf_hash"), leaves)
    _store(AuditNode, ("tree_id", "level", "index", "hash"), nodes)
    tree.frontier = [value.hex() for value in frontier]
    tree.root_hash = merkle.root(frontier).hex()
    tree.save(update_fields=["size", "frontier", "root_hash"])
    if tree.signed_at is None or tree.signed_at <= timezone.now() - HEAD_INTERVAL:
        head_sign(tree=tree)  # else heads_due_sign signs it once the interval has passed
    return len(queued) - len(kept)


def _dequeue(entry_ids: list[int]) -> None:
    """Delete exactly these queue rows: not the batch's id range, where an entry committed late (a lower id
    than an entry sealed already) may have been queued since the batch was read."""
    if not entry_ids:
        return
    connection = connections[router.db_for_write(AuditPending)]
    if connection.vendor != "postgresql":
        AuditPending.objects.filter(entry_id__in=entry_ids).delete()
        return
    table = connection.ops.quote_name(AuditPending._meta.db_table)
    with connection.cursor() as cursor:  # one array, not thousands of placeholders
        cursor.execute(f"DELETE FROM {table} WHERE entry_id = ANY(%s)", [entry_ids])


def _store(model, fields: tuple[str, ...], rows: list[tuple]) -> None:
    """Insert the rows (values of `fields`, in order): by COPY on PostgreSQL, where a sealer appends
    thousands of leaves and nodes at once; by bulk_create elsewhere."""
    if not rows:
        return
    connection = connections[router.db_for_write(model)]
    if connection.vendor != "postgresql":
        model.objects.bulk_create(model(**dict(zip(fields, row, strict=True))) for row in rows)
        return
    columns = ", ".join(connection.ops.quote_name(model._meta.get_field(name).column) for name in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def head_sign(*, tree: AuditTree) -> AuditTreeHead:
    """Sign and store the tree's current head (size, root, now)."""
    signed_at = timezone.now()
    message = signing.head_message(
        log=tree.log_name, size=tree.size, root_hash=tree.root_hash, timestamp=signed_at
    )
    tree.signed_size, tree.signed_at = tree.size, signed_at
    tree.save(update_fields=["signed_size", "signed_at"])
    return AuditTreeHead.objects.create(
        tree=tree,
        size=tree.size,
        root_hash=tree.root_hash,
        signed_at=signed_at,
        key_id=signing.key_id(),
        signature=signing.sign(message),
    )
