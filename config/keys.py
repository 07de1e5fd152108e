"""The two keys the settings require (SECRET_KEY, AUDIT_SIGNING_KEY): from the environment, or, for the quick
start only, from the files `make run` wrote under var/ beside its SQLite database, so that a second shell's
`manage.py` (the README's API example, say) uses the keys of the server `make run` started.

The files belong to the quick start's database: once DATABASE_URL names another, the keys must be given in
the environment (production refuses to start without them)."""

from pathlib import Path

import environ


def quick_start_key(env: environ.Env, name: str, file: Path) -> str:
    """The environment's value of `name`; without it and without DATABASE_URL, the quick start's key file's
    content if it exists; else ""."""
    value = env.str(name, default="")
    if not value and not env.str("DATABASE_URL", default="") and file.is_file():
        value = file.read_text().strip()
    return value
