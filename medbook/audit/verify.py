"""Check the whole audit log: each tree recomputed from its entries, each signed head, the consistency of
successive heads, the entries left unsealed, and the old hash chain of the entries written before the trees."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from medbook.audit import chain, merkle, proofs
from medbook.audit.actions import AuditAction
from medbook.audit.models import AuditEntry, AuditLeaf, AuditTree, AuditTreeHead

CHUNK = 10000


TreesCheck = Callable[[list[AuditTree], set[int]], Iterator[str]]


def problems(
    *, using: str = "default", now: datetime | None = None, trees_check: TreesCheck | None = None
) -> Iterator[str]:
    """Every problem found, one sentence each, naming the entry, leaf or head.

    The trees are recomputed by `tree_problems`, one after the other, or by `trees_check(trees, erased)`
    (audit_verify --jobs runs them in parallel processes)."""
    entries = AuditEntry.objects.using(using)
    broken = chain.first_break(entries.exclude(row_hash="").order_by("pk").iterator(chunk_size=CHUNK))
    if broken is not None:
        entry, reason = broken
        yield f"old hash chain broken at entry {entry.pk} ({entry.action}): {reason}"
    cutoff = (now or timezone.now()) - timedelta(seconds=settings.AUDIT_SEAL_MAX_DELAY_SECONDS)
    erased = _erased(using)
    trees = list(AuditTree.objects.using(using).order_by("pk"))
    if trees_check is None:
        for tree in trees:
            yield from tree_problems(tree, using=using, erased=erased)
    else:
        yield from trees_check(trees, erased)
    for tree in trees:
        yield from _unsigned_tail(tree, cutoff, using)
    late = entries.filter(created_at__lt=cutoff, leaf__isnull=True).order_by("pk")
    first = late.values_list("pk", flat=True)[:5]
    if first:
        yield (
            f"{late.count()} entries older than {settings.AUDIT_SEAL_MAX_DELAY_SECONDS} s are not sealed into "
            f"their tree (first: {', '.join(map(str, first))}): the sealer is not running, or they were changed"
        )


def _erased(using: str) -> set[int]:
    """The entries whose personal part an audited erasure removed (audit.personal_erase)."""
    erased: set[int] = set()
    erasures = AuditEntry.objects.using(using).filter(action=AuditAction.AUDIT_PERSONAL_ERASE.value)
    for ids in erasures.values_list("details__entries", flat=True).iterator(chunk_size=CHUNK):
        erased.update(ids or [])
    return erased


def _unsigned_tail(tree: AuditTree, cutoff: datetime, using: str) -> Iterator[str]:
    """The leaves appended after the latest signed head, if the oldest waits longer than the sealing delay."""
    if tree.size <= tree.signed_size:
        return
    first = (
        AuditLeaf.objects.using(using).filter(tree=tree, index=tree.signed_size).values("entry_id").first()
    )
    entry = AuditEntry.objects.using(using).filter(pk=first["entry_id"]).first() if first else None
    if entry is None or entry.created_at < cutoff:
        yield (
            f"{tree.log_name}: leaves {tree.signed_size} to {tree.size - 1} are covered by no signed head "
            f"after {settings.AUDIT_SEAL_MAX_DELAY_SECONDS} s: the sealer is not signing"
        )


# What audit_verify reads of each leaf, in one query per chunk: the leaf, its entry's hashed fields and its
# personal part (a LEFT JOIN: an erased part is no row). Values, not model instances: millions of rows.
_ENTRY_FIELDS = (*chain.HASHED_FIELDS, "personal_hash", "leaf_hash")
_COLUMNS = (
    "index",
    "entry_id",
    "leaf_hash",
    *(f"entry__{name}" for name in _ENTRY_FIELDS),
    "entry__personal__salt",
    "entry__personal__data",
)


@dataclass(frozen=True, slots=True)
class _Leaf:
    index: int
    entry_id: int
    leaf_hash: str
    entry: dict | None  # the entry's fields (`_ENTRY_FIELDS`); None when the entry is gone
    personal: tuple[str, dict] | None  # (salt, data); None when the entry has no personal part (or lost it)


def _leaves(tree: AuditTree, using: str) -> Iterator[_Leaf]:
    """The tree's leaves in index order, each with its entry (None if the entry is gone), in chunks."""
    leaves = AuditLeaf.objects.using(using).filter(tree=tree).order_by("index")
    after = -1
    while True:
        rows = list(leaves.filter(index__gt=after).values_list(*_COLUMNS)[:CHUNK])
        expected = after + 1
        for row in rows:
            if row[0] != expected:  # the join found no entry for the leaves between: read them alone
                yield from _entryless(tree, using, expected, row[0])
            yield _leaf_of(row)
            expected = row[0] + 1
        if len(rows) < CHUNK:
            yield from _entryless(tree, using, expected, None)
            return
        after = rows[-1][0]


def _leaf_of(row: tuple) -> _Leaf:
    index, entry_id, leaf_hash = row[:3]
    fields = dict(zip(_ENTRY_FIELDS, row[3 : 3 + len(_ENTRY_FIELDS)], strict=True))
    salt, data = row[-2:]
    return _Leaf(index, entry_id, leaf_hash, fields, None if salt is None else (salt, data))


def _entryless(tree: AuditTree, using: str, start: int, end: int | None) -> Iterator[_Leaf]:
    """The leaves from `start` (up to `end`) whose entry the join did not find: it was removed."""
    gap = AuditLeaf.objects.using(using).filter(tree=tree, index__gte=start).order_by("index")
    if end is not None:
        gap = gap.filter(index__lt=end)
    for index, entry_id, leaf_hash in gap.values_list("index", "entry_id", "leaf_hash").iterator():
        yield _Leaf(index, entry_id, leaf_hash, None, None)


def _entry_problem(tree: AuditTree, leaf: _Leaf, erased: set[int] | None = None) -> str | None:
    where = f"{tree.log_name}: entry {leaf.entry_id} (leaf {leaf.index})"
    entry = leaf.entry
    if entry is None:
        return f"{where} is missing: it was removed"
    computed = chain.leaf_hash_of_fields(entry)
    if computed != leaf.leaf_hash or (entry["leaf_hash"] and entry["leaf_hash"] != computed):
        return f"{where} was changed: its content no longer matches its leaf hash"
    if entry["institution_id"] != tree.institution_id:
        return f"{where} was moved to another institution"
    if not entry["personal_hash"]:
        return None
    if leaf.personal is not None:  # erased (no row): the leaf stays valid, the erasure must be on record
        if chain.personal_hash_of(*leaf.personal) != entry["personal_hash"]:
            return f"{where} has a personal part that was changed: it no longer matches its salted hash"
    elif erased is not None and leaf.entry_id not in erased:
        return f"{where} lost its personal part without an audited erasure"
    return None


def tree_problems(
    tree: AuditTree, *, using: str = "default", erased: set[int] | None = None
) -> Iterator[str]:
    """Recompute the tree from its leaves and entries; check every head against the roots on the way."""
    heads = list(AuditTreeHead.objects.using(using).filter(tree=tree).order_by("signed_at", "pk"))
    sizes = {head.size for head in heads}
    roots = {0: merkle.EMPTY_ROOT.hex()}
    frontier: list[bytes] = []
    size = 0
    for leaf in _leaves(tree, using):
        if leaf.index != size:
            yield f"{tree.log_name}: leaf {size} is missing (leaves were removed)"
            return
        problem = _entry_problem(tree, leaf, erased)
        if problem:
            yield problem
        frontier, _completed = merkle.append(frontier, size, bytes.fromhex(leaf.leaf_hash))
        size += 1
        if size in sizes:
            roots[size] = merkle.root(frontier).hex()
    if size != tree.size or (size and merkle.root(frontier).hex() != tree.root_hash):
        yield f"{tree.log_name}: the tree's head row (size {tree.size}) does not match its {size} leaves"
    yield from _head_problems(tree, heads, roots, size)


def _head_problems(
    tree: AuditTree, heads: list[AuditTreeHead], roots: dict[int, str], size: int
) -> Iterator[str]:
    """Each head's signature and root; successive heads never shrink, never fork, and prove consistent."""
    previous = None
    for head in heads:
        name = f"{tree.log_name}: signed head {head.pk} (size {head.size})"
        if not proofs.head_valid(head, tree.log_name):
            yield f"{name} has a signature that does not verify with the published key"
        if head.size > size:
            yield f"{name} is larger than the tree's {size} leaves: leaves were removed"
        elif roots.get(head.size) != head.root_hash:
            yield f"{name} does not match the tree's root at that size: a fork, or rewritten history"
        if previous is not None:
            yield from _pair_problems(tree, previous, head, name)
        previous = head


def _pair_problems(tree: AuditTree, earlier: AuditTreeHead, later: AuditTreeHead, name: str) -> Iterator[str]:
    if later.size < earlier.size:
        yield f"{name} is smaller than the earlier head {earlier.pk} (size {earlier.size})"
    elif later.size == earlier.size and later.root_hash != earlier.root_hash:
        yield f"{name} forks from the earlier head {earlier.pk} of the same size (another root)"
    elif later.size > earlier.size > 0:
        proof = proofs.consistency_proof(tree, earlier.size, later.size)
        consistent = proof is not None and merkle.verify_consistency(
            earlier.size,
            later.size,
            bytes.fromhex(earlier.root_hash),
            bytes.fromhex(later.root_hash),
            [bytes.fromhex(value) for value in proof],
        )
        if not consistent:
            yield f"{name} is not consistent with the earlier head {earlier.pk} (size {earlier.size})"
