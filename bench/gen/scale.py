"""How big a generated network is: `full` (issue 13's figures), `small` (full/100), `tiny` (tests), or a factor.

The network (institutions, locations, physicians, services, partners, partnerships) scales with the square
root of the factor and the volumes (patients, bookings) with the factor itself, so that `small` keeps the
shape of `full`: 20 institutions with 100,000 bookings, as 200 with 10,000,000.
"""

import math
from dataclasses import dataclass

FULL = {
    "institutions": 200,
    "locations": 600,
    "physicians": 3000,
    "services": 5000,
    "partners": 500,
    "partnerships": 3000,
    "patients": 1_000_000,
    "bookings": 10_000_000,
}
NAMED = {"full": 1.0, "small": 0.01, "tiny": 0.0002}
NETWORK = ("institutions", "locations", "physicians", "services", "partners", "partnerships")
# The least of each that still makes a network worth the name.
MINIMUM = {
    "institutions": 2,
    "locations": 3,
    "physicians": 8,
    "services": 10,
    "partners": 3,
    "partnerships": 4,
    "patients": 100,
    "bookings": 500,
}


@dataclass(frozen=True)
class Scale:
    """The counts one run generates."""

    name: str
    institutions: int
    locations: int
    physicians: int
    services: int
    partners: int
    partnerships: int
    patients: int
    bookings: int


def scale_of(value: str) -> Scale:
    """The counts of a named scale or of a factor of `full` ("0.05")."""
    factor = NAMED.get(value)
    if factor is None:
        try:
            factor = float(value)
        except ValueError:
            raise SystemExit(
                f"--scale must be full, small, tiny or a factor such as 0.05, not {value!r}"
            ) from None
        if not 0 < factor <= 1:
            raise SystemExit("--scale factor must be above 0 and at most 1")
    counts = {}
    for name, full in FULL.items():
        wanted = full * (math.sqrt(factor) if name in NETWORK else factor)
        counts[name] = max(MINIMUM[name], round(wanted))
    pairs = counts["institutions"] * counts["partners"]
    counts["partnerships"] = min(counts["partnerships"], max(counts["partners"], int(pairs * 0.6)))
    return Scale(name=value, **counts)
