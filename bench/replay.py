"""Turn the SQL of one API booking create (captured in-process) into a pgbench custom script (measure 2).

The script replays the same statements in the same order, inside the same transaction and savepoints, with
what must differ between runs made to differ:

- the booking's time: slot number (run, client, counter) × the service's duration from 3000-01-01 UTC, so
  no two inserts meet in the exclusion constraint (the bookings are deleted afterwards by that date);
- the new patient's id: taken from the INSERT's RETURNING (`\\gset`) into the booking's INSERT;
- the audit chain: the last row_hash is read (`\\gset`) after the same advisory lock, and the new row_hash
  is SHA-256 over the entry's canonical JSON (`medbook.audit.chain.canonical`) computed by PostgreSQL from
  the captured entry's constant parts around the variable prev_hash, so `audit_verify` still holds;
- the outbox message's idempotency key: gen_random_uuid().

pgbench substitutes `:name` anywhere in the text (in simple query mode, the default, unknown names are left
alone), so the captured literals need no escaping beyond what psycopg already wrote.
"""

import re
from datetime import datetime

FAR_FUTURE = "3000-01-01 00:00:00+00"
PREV = ":bmk_prev_row_hash"


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _audit_hash_expression(canonical_json: str, prev_hash: str) -> str:
    """SQL for the row_hash of an entry whose canonical JSON holds prev_hash once (as the "prev_hash" value)."""
    marker = f'"prev_hash":"{prev_hash}"'
    if canonical_json.count(marker) != 1:
        raise ValueError("the captured audit entry's canonical JSON does not hold its prev_hash once")
    before, after = canonical_json.split(marker)
    head, tail = _sql_text(before + '"prev_hash":"'), _sql_text('"' + after)
    return f"encode(sha256(convert_to({head} || '{PREV}' || {tail}, 'UTF8')), 'hex')"


def build_script(
    *,
    queries: list[str],
    patient_id: int | None,
    starts_at: datetime,
    ends_at: datetime,
    duration_minutes: int,
    audit_entries: list,
    canonical,
) -> str:
    """The pgbench script (text) of the captured statements; `audit_entries` are the AuditEntry rows the
    captured request wrote (in id order), `canonical` the chain's canonical-JSON function."""
    entries = list(audit_entries)
    slot = f"('{FAR_FUTURE}'::timestamptz + :bmk_slot * interval '{duration_minutes} minutes')"
    lines = [
        "\\set bmk_n :bmk_n + 1",
        "\\set bmk_slot (:bmk_run * 64 + :client_id) * 200000 + :bmk_n",
    ]
    booking_times = f"'{starts_at}'::timestamptz, '{ends_at}'::timestamptz"
    for sql in queries:
        sql = sql.strip()
        head = sql[:80].removeprefix("WITH entry AS (")  # an entry with a personal part inserts both in one
        gset = ""
        if head.startswith('SELECT "audit_auditentry"."row_hash"'):
            gset = " \\gset bmk_prev_"
        elif head.startswith('INSERT INTO "audit_auditentry"') and not entries[0].row_hash:
            entries.pop(0)  # a Merkle-log entry: its leaf hash covers its own literals, replayed as they are
        elif head.startswith('INSERT INTO "audit_auditentry"'):
            entry = entries.pop(0)
            sql = sql.replace(
                f"'{entry.row_hash}'", _audit_hash_expression(canonical(entry), entry.prev_hash)
            )
            sql = sql.replace(f"'{entry.prev_hash}'", f"'{PREV}'", 1)
        elif head.startswith('INSERT INTO "patients_patient"') and "RETURNING" in sql:
            gset = " \\gset bmk_pt_"
        elif head.startswith('INSERT INTO "scheduling_booking"'):
            if booking_times not in sql:
                raise ValueError("the booking INSERT does not hold the captured times")
            sql = sql.replace(booking_times, f"{slot}, {slot} + interval '{duration_minutes} minutes'")
            if patient_id is not None:
                sql = sql.replace(f", {patient_id}, {slot}", f", :bmk_pt_id, {slot}", 1)
        elif head.startswith('INSERT INTO "notifications_outboxmessage"'):
            sql = re.sub(r"'[0-9a-f]{32}'::uuid", "gen_random_uuid()", sql)
        lines.append(sql + gset if gset else sql + ";")
    if entries:
        raise ValueError("an audit entry of the captured request has no INSERT in the captured SQL")
    return "\n".join(lines) + "\n"


def cleanup_sql() -> str:
    """What removes the replayed bookings (their patients are removed by id by the runner)."""
    return f"DELETE FROM scheduling_booking WHERE starts_at >= '{FAR_FUTURE}'"
