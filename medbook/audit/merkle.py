"""Merkle trees as RFC 6962 / RFC 9162 define them: leaf and node hashes, appends, proofs and their checks.

Pure functions over bytes. A tree of n leaves is kept as its frontier: the roots of the perfect subtrees
that n's binary digits make, left to right (a "compact range"); an append turns it into the next frontier
and names the perfect subtrees it completed, which the sealer stores so that proofs need O(log n) reads.
"""

import hashlib
from collections.abc import Callable, Iterable

EMPTY_ROOT = hashlib.sha256(b"").digest()  # the root of a tree without leaves (RFC 6962, 2.1)
Node = tuple[int, int]  # (level, index): the perfect subtree of 2**level leaves from index * 2**level on


def leaf_hash(data: bytes) -> bytes:
    """SHA-256(0x00 || data)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def append(frontier: list[bytes], size: int, leaf: bytes) -> tuple[list[bytes], list[tuple[int, int, bytes]]]:
    """The frontier after appending `leaf` as leaf number `size`, and the interior nodes it completed."""
    frontier = list(frontier)
    node, level, completed = leaf, 0, []
    while (size >> level) & 1:
        node = node_hash(frontier.pop(), node)
        level += 1
        completed.append((level, size >> level, node))
    frontier.append(node)
    return frontier, completed


def root(frontier: list[bytes]) -> bytes:
    """The tree's root from its frontier (RFC 6962's MTH: the subtrees folded from the right)."""
    if not frontier:
        return EMPTY_ROOT
    result = frontier[-1]
    for left in reversed(frontier[:-1]):
        result = node_hash(left, result)
    return result


def pieces(start: int, end: int) -> list[Node]:
    """The stored perfect subtrees whose hashes give MTH(D[start:end]) for a range a proof asks for."""
    n = end - start
    if n & (n - 1) == 0 and start % n == 0:
        return [(n.bit_length() - 1, start // n)]
    k = _split(n)
    return pieces(start, start + k) + pieces(start + k, end)


def range_hash(start: int, end: int, stored: Callable[[Node], bytes]) -> bytes:
    """MTH(D[start:end]) from the stored perfect subtrees (`stored` answers a (level, index))."""
    n = end - start
    if n & (n - 1) == 0 and start % n == 0:
        return stored((n.bit_length() - 1, start // n))
    k = _split(n)
    return node_hash(range_hash(start, start + k, stored), range_hash(start + k, end, stored))


def inclusion_ranges(index: int, start: int, end: int) -> list[tuple[int, int]]:
    """The ranges whose hashes make PATH(index, D[start:end]) (RFC 6962, 2.1.1), nearest the leaf first."""
    n = end - start
    if n <= 1:
        return []
    k = _split(n)
    if index - start < k:
        return inclusion_ranges(index, start, start + k) + [(start + k, end)]
    return inclusion_ranges(index, start + k, end) + [(start, start + k)]


def consistency_ranges(m: int, start: int, end: int, complete: bool = True) -> list[tuple[int, int]]:
    """The ranges whose hashes make SUBPROOF(m, D[start:end], complete) (RFC 6962, 2.1.2)."""
    n = end - start
    if m == n:
        return [] if complete else [(start, end)]
    k = _split(n)
    if m <= k:
        return consistency_ranges(m, start, start + k, complete) + [(start + k, end)]
    return consistency_ranges(m - k, start + k, end, False) + [(start, start + k)]


def proof_nodes(ranges: Iterable[tuple[int, int]]) -> set[Node]:
    """Every stored node the ranges need (to read them in one query)."""
    return {node for start, end in ranges for node in pieces(start, end)}


def verify_inclusion(index: int, size: int, leaf: bytes, path: list[bytes], expected_root: bytes) -> bool:
    """Whether `path` proves leaf number `index` in the tree of `size` leaves with that root (RFC 9162, 2.1.3.2)."""
    if index >= size:
        return False
    fn, sn, result = index, size - 1, leaf
    for sibling in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            result = node_hash(sibling, result)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            result = node_hash(result, sibling)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and result == expected_root


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: list[bytes]
) -> bool:
    """Whether `proof` shows the tree of `second` leaves extends the one of `first` (RFC 9162, 2.1.4.2)."""
    if first > second:
        return False
    if first == second:
        return not proof and first_root == second_root
    if first == 0:
        return not proof
    if first & (first - 1) == 0:
        proof = [first_root, *proof]
    if not proof:
        return False
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = proof[0]
    for node in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(node, fr), node_hash(node, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, node)
        fn, sn = fn >> 1, sn >> 1
    return fr == first_root and sr == second_root and sn == 0
