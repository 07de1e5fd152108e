"""Fill a PostgreSQL database with a realistic MedBook network for the benchmarks (issue 13).

    .venv/bin/python bench/generate.py [--scale full|small|tiny|<factor>] [--database medbook_bench] [--seed 1]

Drops and recreates the database (only one named medbook_bench…) on 127.0.0.1:5432, or on the server of
DATABASE_URL when set, runs the application's migrations into it, fills every table through COPY (the
bookings of the institutions made by two worker processes), re-makes the indexes and constraints the load
went without (so PostgreSQL validates every row, the exclusion constraint included), sets the sequences
past the ids, seals the audit entries (queued by the trigger as COPY inserted them) into their Merkle trees
with the application's sealer, and VACUUMs and ANALYZEs. Deterministic for a seed and a day. See bench/README.md.
"""

import argparse
import heapq
import multiprocessing
import os
import sys
import tempfile
import time
from collections import Counter
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.gen import db  # noqa: E402
from bench.gen.scale import scale_of  # noqa: E402

SMALL_TABLES = (
    "accounts_organization",
    "accounts_user",
    "institutions_institution",
    "partners_partner",
    "accounts_membership",
    "institutions_location",
    "institutions_physician",
    "institutions_physician_locations",
    "institutions_service",
    "institutions_service_locations",
    "institutions_service_physicians",
    "scheduling_trafficchannel",
    "scheduling_trafficchannel_services",
    "scheduling_workinghours",
    "scheduling_scheduleexception",
    "partners_partnership",
    "partners_partnership_locations",
    "partners_partnership_services",
    "partners_partnerinvitation",
    "partners_gtcversion",
    "partners_gtcacceptance",
)


class Timings:
    """Elapsed time and rows per step, printed as they come and as a table at the end."""

    def __init__(self):
        self.rows: list[tuple[str, int | None, float]] = []
        self.started = time.monotonic()

    def add(self, name: str, rows: int | None, seconds: float) -> None:
        self.rows.append((name, rows, seconds))
        rate = f"{rows / seconds:>12,.0f} rows/s" if rows and seconds > 0 else ""
        print(f"  {name:<34} {'' if rows is None else f'{rows:>12,}'} {seconds:>8.1f} s {rate}", flush=True)


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", default="small", help="full, small, tiny or a factor of full (0.05)")
    parser.add_argument("--database", default="medbook_bench")
    parser.add_argument("--seed", type=int, default=1)
    return parser.parse_args()


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["DATABASE_POOL"] = "false"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")
    import django

    django.setup()


# The columns of the workers' patients files (gen/bookings.py InstitutionWorker.patients), in their order.
PATIENT_COLUMNS = (
    "id", "full_name", "birth_date", "email", "phone", "insurance_id", "created_at", "institution_id",
    "registered_by_partner", "registered_online",
)  # fmt: skip


def main() -> None:
    args = parse()
    scale = scale_of(args.scale)
    url = db.database_url(args.database, os.environ.get("DATABASE_URL"))
    timings = Timings()
    print(f"Generating {scale} into {args.database} (seed {args.seed})", flush=True)
    step = time.monotonic()
    db.recreate(url, args.database)
    setup_django(url)
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    timings.add("create database + migrate", None, time.monotonic() - step)
    generate(url, scale, args.seed, timings)


def generate(url: str, scale, seed: int, timings: Timings) -> None:
    from django.db import connections

    from bench.gen.bookings import generate_institution
    from bench.gen.events import AUDIT_COLUMNS, BOOKING_COLUMNS, OUTBOX_COLUMNS, Merger
    from bench.gen.network import PASSWORD, build_network, window_for
    from bench.gen.seal import seal_generated

    window = window_for(datetime.now(UTC).date())
    step = time.monotonic()
    network = build_network(scale, seed, window)
    timings.add("network (in memory)", None, time.monotonic() - step)
    connection = db.connect(url)
    saved = db.drop_constraints(connection)
    for table in SMALL_TABLES:
        columns, rows = network.tables.get(table, ((), []))
        step = time.monotonic()
        if rows:
            db.copy_rows(connection, table, columns, rows)
        timings.add(table, len(rows), time.monotonic() - step)
    connection.commit()
    connections.close_all()  # the workers are forked: they must not share the parent's connections
    totals: Counter = Counter()
    with tempfile.TemporaryDirectory(prefix="medbook-bench-") as folder:
        step = time.monotonic()
        specs = sorted(network.institutions, key=lambda spec: -spec.bookings)
        tasks = [(spec, window, seed, folder) for spec in specs]
        with multiprocessing.get_context("fork").Pool(processes=2) as pool:
            for stats in pool.starmap(generate_institution, tasks, chunksize=1):
                totals.update(stats)
        timings.add("bookings made (2 workers)", totals["bookings"], time.monotonic() - step)
        step = time.monotonic()
        with connection.cursor().copy(
            f"COPY patients_patient ({', '.join(PATIENT_COLUMNS)}) FROM STDIN"
        ) as copy:
            for spec in network.institutions:
                copy.write((Path(folder) / f"patients-{spec.index:05d}.copy").read_bytes())
        connection.commit()
        timings.add("patients_patient", totals["patients"], time.monotonic() - step)
        step = time.monotonic()
        counts = merge(
            url, network, window, seed, folder, (BOOKING_COLUMNS, AUDIT_COLUMNS, OUTBOX_COLUMNS), Merger
        )
        seconds = time.monotonic() - step
    for table, rows in counts.items():
        timings.add(f"{table} (merged, one pass)", rows, seconds)
    step = time.monotonic()
    for table, seconds in db.restore_constraints(url, saved).items():
        timings.add(f"{table}: indexes + constraints", None, seconds)
    timings.add("constraints re-made (both cores)", None, time.monotonic() - step)
    step = time.monotonic()
    reset_sequences()
    timings.add("sequences", None, time.monotonic() - step)
    step = time.monotonic()
    sealed = seal_generated()
    timings.add(
        f"audit trees sealed ({sealed['trees']} trees, {sealed['heads']} heads)",
        sealed["entries"],
        time.monotonic() - step,
    )
    step = time.monotonic()
    db.vacuum_analyze(url)
    timings.add("VACUUM ANALYZE", None, time.monotonic() - step)
    connection.close()
    report(network, totals, timings, url, PASSWORD)


def merge(url, network, window, seed, folder, columns, merger_class) -> dict[str, int]:
    """Number the bookings in the order they were made and write them, the audit log and the outbox."""
    booking_columns, audit_columns, outbox_columns = columns
    with ExitStack() as stack:
        copies = {}
        for name, table, table_columns in (
            ("bookings", "scheduling_booking", booking_columns),
            ("audit", "audit_auditentry", audit_columns),
            ("outbox", "notifications_outboxmessage", outbox_columns),
        ):
            connection = stack.enter_context(db.connect(url))
            cursor = stack.enter_context(connection.cursor())
            copies[name] = stack.enter_context(
                cursor.copy(f"COPY {table} ({', '.join(table_columns)}) FROM STDIN")
            )
        files = [
            stack.enter_context((Path(folder) / f"bookings-{spec.index:05d}.tsv").open())
            for spec in network.institutions
        ]
        merger = merger_class(network, window, seed, {name: copy.write for name, copy in copies.items()})
        merger.run(heapq.merge(*files))
    return {
        "scheduling_booking": merger.counts["bookings"],
        "audit_auditentry": merger.counts["audit"],
        "notifications_outboxmessage": merger.counts["outbox"],
    }


def reset_sequences() -> None:
    """Every id sequence past the ids loaded, so that the application's inserts go on after them."""
    from django.apps import apps
    from django.core.management.color import no_style
    from django.db import connection

    statements = connection.ops.sequence_reset_sql(no_style(), apps.get_models(include_auto_created=True))
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def report(network, totals: Counter, timings: Timings, url: str, password: str) -> None:
    bookings = totals["bookings"] or 1
    past = totals["past"] or 1
    print(
        f"\nBookings: {totals['bookings']:,} ({totals['partner'] / bookings:.1%} by partners); "
        f"past {totals['past']:,}: completed {totals['completed'] / past:.1%}, "
        f"no-show {totals['no_show'] / past:.1%}, cancelled {totals['cancelled'] / past:.1%} "
        f"(of all bookings, the future's cancellations included)"
    )
    size = db.database_size(url)
    print(
        f"Done in {time.monotonic() - timings.started:.0f} s; database size {size / 2**30:.2f} GiB ({size:,} bytes)."
    )
    print(f"\nEvery user's password is {password}. For example:")
    for email, what in network.logins:
        print(f"  {email:<48} {what}")


if __name__ == "__main__":
    main()
