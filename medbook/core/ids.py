"""The one parser of ids taken from URLs and forms: anything that is not a primary key is 404."""

import re

from django.http import Http404

MAX_ID = 2**63 - 1  # the largest value of a bigint primary key
# ASCII digits only: str.isdigit() also says yes to "¹" and "²", which int() refuses (a 500 before issue 19),
# and int() reads other scripts' digits ("١٢"), which no id of ours is written in.
ID_TEXT = re.compile(r"[0-9]{1,19}")


def parse_id(value: object) -> int:
    """The positive integer id `value` stands for, or Http404 (garbage, negative, overflowing)."""
    if isinstance(value, bool):
        raise Http404()
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and ID_TEXT.fullmatch(value.strip()):
        number = int(value.strip())
    else:
        raise Http404()
    if not 0 < number <= MAX_ID:
        raise Http404()
    return number


def parse_id_or_none(value: object) -> int | None:
    """The id `value` stands for, or None when it is empty or not an id (for optional filters)."""
    try:
        return parse_id(value)
    except Http404:
        return None
