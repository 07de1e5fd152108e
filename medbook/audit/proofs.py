"""Proofs from the stored trees: an entry's inclusion in a signed head, and one head's consistency with an
earlier one (RFC 6962), each read in O(log n) rows."""

from dataclasses import dataclass

from django.db.models import Q

from medbook.audit import merkle, signing
from medbook.audit.models import AuditEntry, AuditLeaf, AuditNode, AuditTree, AuditTreeHead


@dataclass(frozen=True)
class InclusionProof:
    leaf_index: int
    leaf_hash: str
    tree_size: int
    path: list[str]
    head: AuditTreeHead
    log_name: str
    timestamp: str  # the head's time as signed
    verified: bool  # the path leads from the leaf to the signed root, and the head's signature holds


def stored_nodes(tree: AuditTree, nodes: set[merkle.Node]) -> dict[merkle.Node, bytes]:
    """The hashes of the given (level, index) subtrees of the tree: leaves and interior nodes, two queries."""
    found: dict[merkle.Node, bytes] = {}
    leaves = [index for level, index in nodes if level == 0]
    if leaves:
        for index, value in AuditLeaf.objects.filter(tree=tree, index__in=leaves).values_list(
            "index", "leaf_hash"
        ):
            found[(0, index)] = bytes.fromhex(value)
    inner = Q()
    for level, index in nodes:
        if level > 0:
            inner |= Q(level=level, index=index)
    if inner:
        for level, index, value in AuditNode.objects.filter(inner, tree=tree).values_list(
            "level", "index", "hash"
        ):
            found[(level, index)] = bytes.fromhex(value)
    return found


def _hashes(tree: AuditTree, ranges: list[tuple[int, int]]) -> list[bytes] | None:
    """The hashes of the ranges, or None if a stored node is missing."""
    stored = stored_nodes(tree, merkle.proof_nodes(ranges))
    try:
        return [merkle.range_hash(start, end, stored.__getitem__) for start, end in ranges]
    except KeyError:
        return None


def head_valid(head: AuditTreeHead, log_name: str) -> bool:
    """Whether the head's signature holds for its log, size, root and time."""
    message = signing.head_message(
        log=log_name, size=head.size, root_hash=head.root_hash, timestamp=head.signed_at
    )
    return signing.signature_valid(message, head.signature)


def latest_head(tree: AuditTree) -> AuditTreeHead | None:
    return tree.heads.order_by("-size", "-id").first()


def inclusion_proof(entry: AuditEntry) -> InclusionProof | None:
    """The entry's audit path up to its tree's latest signed head; None while it is not sealed."""
    leaf = AuditLeaf.objects.filter(entry=entry).select_related("tree").first()
    if leaf is None:
        return None
    head = latest_head(leaf.tree)
    if head is None or head.size <= leaf.index:
        return None
    path = _hashes(leaf.tree, merkle.inclusion_ranges(leaf.index, 0, head.size)) or []
    log_name = leaf.tree.log_name
    verified = merkle.verify_inclusion(
        leaf.index, head.size, bytes.fromhex(leaf.leaf_hash), path, bytes.fromhex(head.root_hash)
    ) and head_valid(head, log_name)
    return InclusionProof(
        leaf_index=leaf.index,
        leaf_hash=leaf.leaf_hash,
        tree_size=head.size,
        path=[value.hex() for value in path],
        head=head,
        log_name=log_name,
        timestamp=signing.timestamp_text(head.signed_at),
        verified=verified,
    )


def consistency_proof(tree: AuditTree, first: int, second: int) -> list[str] | None:
    """The RFC 6962 proof that the tree of `second` leaves extends the one of `first` (hex); None if a node
    it needs is missing."""
    if not 0 < first <= second:
        return []
    hashes = _hashes(tree, merkle.consistency_ranges(first, 0, second))
    return None if hashes is None else [value.hex() for value in hashes]
