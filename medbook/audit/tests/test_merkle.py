"""The Merkle tree functions agree with RFC 6962's recursive definition, and their proofs check (RFC 9162)."""

from medbook.audit import merkle


def _mth(leaves: list[bytes]) -> bytes:
    """RFC 6962's MTH, written as the RFC defines it."""
    if not leaves:
        return merkle.EMPTY_ROOT
    if len(leaves) == 1:
        return leaves[0]
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    return merkle.node_hash(_mth(leaves[:k]), _mth(leaves[k:]))


def _tree(n: int) -> tuple[list[bytes], list[bytes], dict]:
    """n leaves appended one by one: the leaves, the root after each append, the stored nodes."""
    leaves = [merkle.leaf_hash(f"entry {i}".encode()) for i in range(n)]
    frontier: list[bytes] = []
    roots, nodes = [merkle.EMPTY_ROOT], {}
    for index, leaf in enumerate(leaves):
        nodes[(0, index)] = leaf
        frontier, completed = merkle.append(frontier, index, leaf)
        nodes.update({(level, at): value for level, at, value in completed})
        roots.append(merkle.root(frontier))
    return leaves, roots, nodes


def test_x3_appends_give_rfc6962_roots():
    leaves, roots, _nodes = _tree(33)
    assert all(roots[n] == _mth(leaves[:n]) for n in range(34))


def test_x3_inclusion_proofs_check_and_a_wrong_leaf_does_not():
    leaves, roots, nodes = _tree(21)
    for size in range(1, 22):
        for index in range(size):
            ranges = merkle.inclusion_ranges(index, 0, size)
            path = [merkle.range_hash(a, b, nodes.__getitem__) for a, b in ranges]
            assert merkle.verify_inclusion(index, size, leaves[index], path, roots[size])
            assert not merkle.verify_inclusion(index, size, merkle.leaf_hash(b"forged"), path, roots[size])


def test_x3_consistency_proofs_check_and_a_forked_root_does_not():
    _leaves, roots, nodes = _tree(21)
    for second in range(1, 22):
        for first in range(1, second + 1):
            ranges = merkle.consistency_ranges(first, 0, second)
            proof = [merkle.range_hash(a, b, nodes.__getitem__) for a, b in ranges]
            assert merkle.verify_consistency(first, second, roots[first], roots[second], proof)
            forged = merkle.node_hash(roots[first], b"x")
            assert (
                not merkle.verify_consistency(first, second, forged, roots[second], proof) or first == second
            )
            assert not merkle.verify_consistency(first, second, roots[first], forged, proof)
