"""The breached-password check: a local list shipped with the code (data/breached.txt.gz), no network."""

import gzip
import string
from functools import cache
from pathlib import Path

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

BREACHED_LIST = Path(__file__).resolve().parent / "data" / "breached.txt.gz"


@cache
def breached_passwords(path: Path = BREACHED_LIST) -> frozenset[str]:
    """The list, lower-cased, read once per process."""
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        return frozenset(line.strip().lower() for line in lines if line.strip())


class BreachedPasswordValidator:
    """Refuse a password that appears, whatever its case and trailing punctuation, on the local list of
    breached passwords."""

    def validate(self, password: str, user=None) -> None:
        plain = password.strip().lower()
        known = breached_passwords()
        if plain in known or plain.rstrip(string.punctuation) in known:
            raise ValidationError(
                _("This password appears in lists of breached passwords. Choose another one."),
                code="password_breached",
            )

    def get_help_text(self) -> str:
        return _("Your password cannot be one known from breaches.")
