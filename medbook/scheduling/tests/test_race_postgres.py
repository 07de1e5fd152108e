"""B-8: whatever the concurrency, one physician never holds two overlapping active bookings."""

import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, OperationalError, connection, transaction

from conftest import actor_of, local, next_weekday
from medbook.core.errors import SlotUnavailable
from medbook.institutions.tests.factories import ServiceFactory
from medbook.patients.models import Patient
from medbook.scheduling import selectors, services
from medbook.scheduling.models import Booking

THREADS = 20
THURSDAY = 3
# Generous bounds for a loaded machine: each only ends a test that would otherwise hang.
WAIT_SECONDS = 120


@pytest.fixture
def connections_for_every_thread():
    """Let THREADS threads hold a connection each at once: a pool that big on PostgreSQL, a patient SQLite."""
    options = connection.settings_dict["OPTIONS"]
    saved = dict(options)
    if connection.vendor == "postgresql" and options.get("pool"):
        pool = options["pool"] if isinstance(options["pool"], dict) else {}
        # The configured pool (DATABASE_POOL_MAX, 10 by default) would make half the threads queue for a
        # connection while the others book, and give up after its 10 s timeout on a loaded machine.
        options["pool"] = {**pool, "max_size": THREADS + 2, "timeout": WAIT_SECONDS}
    elif connection.vendor == "sqlite":
        options["timeout"] = WAIT_SECONDS  # BEGIN IMMEDIATE queues the threads on the write lock
    connection.close()
    if connection.vendor == "postgresql":
        connection.close_pool()  # the next connection builds a pool from the options above
        assert connection.pool is None or connection.pool.max_size >= THREADS
    yield
    connection.close()
    options.clear()
    options.update(saved)
    if connection.vendor == "postgresql":
        connection.close_pool()


def race(attempts: list[dict], act: Callable[..., object] = services.booking_create) -> Counter:
    """Run `act` (booking_create) once per keyword set, all threads released together; count the outcomes
    ("booked" for any success)."""
    # Every thread connects first and waits at the barrier: the bookings start together, none waits for a
    # connection in the middle of the race.
    barrier = threading.Barrier(len(attempts), timeout=WAIT_SECONDS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt(arguments: dict) -> None:
        try:
            connection.ensure_connection()
            barrier.wait()
            act(**arguments)
            outcome = "booked"
        except SlotUnavailable:
            outcome = "slot unavailable"
        except Exception as error:  # noqa: BLE001 - any other failure is what the test reports
            barrier.abort()  # release the others at once rather than after the timeout
            outcome = f"{type(error).__name__}: {error}"
        finally:
            connection.close()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=attempt, args=(arguments,)) for arguments in attempts]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + WAIT_SECONDS
    for thread in threads:
        thread.join(timeout=max(0, deadline - time.monotonic()))
    assert not any(thread.is_alive() for thread in threads), f"threads still running; so far: {outcomes}"
    return Counter(outcomes)


def same_slot_attempts(cast) -> list[dict]:
    starts_at = local(next_weekday(THURSDAY), 10)
    return [
        {
            "actor": actor_of(cast.bob if n % 2 else cast.alice),
            "location": cast.location_a1,
            "physician": cast.physician_a,
            "service": cast.service_a,
            "patient": cast.patient_a,
            "starts_at": starts_at,
        }
        for n in range(THREADS)
    ]


def overlapping_attempts(cast) -> list[dict]:
    """Half want 30 minutes from 10:00, half an hour from 09:45: every pair overlaps."""
    day = next_weekday(THURSDAY)
    hour = ServiceFactory(
        institution=cast.institution_a,
        name="Long consultation",
        duration_minutes=60,
        locations=[cast.location_a1],
        physicians=[cast.physician_a],
    )
    return [
        {
            "actor": actor_of(cast.bob),
            "location": cast.location_a1,
            "physician": cast.physician_a,
            "service": cast.service_a if n % 2 else hour,
            "patient": cast.patient_a,
            "starts_at": local(day, 10) if n % 2 else local(day, 9, 45),
        }
        for n in range(THREADS)
    ]


def assert_one_winner(outcomes: Counter) -> None:
    assert outcomes == Counter({"booked": 1, "slot unavailable": THREADS - 1})
    assert Booking.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_b8_twenty_simultaneous_bookings_of_one_slot_give_one_booking(cast, connections_for_every_thread):
    assert_one_winner(race(same_slot_attempts(cast)))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_b8_twenty_simultaneous_overlapping_bookings_give_one_booking(cast, connections_for_every_thread):
    assert_one_winner(race(overlapping_attempts(cast)))


@pytest.mark.django_db(transaction=True)
def test_b8_twenty_simultaneous_bookings_of_one_slot_give_one_booking_on_sqlite(
    cast, connections_for_every_thread
):
    if connection.vendor != "sqlite":
        pytest.skip("the PostgreSQL variant above covers this database")
    if connection.creation.is_in_memory_db(connection.settings_dict["NAME"]):
        pytest.skip(
            "SQLite's test database is a shared-cache in-memory database: its table locks fail at once "
            "(SQLITE_LOCKED) instead of waiting like BEGIN IMMEDIATE on a file; give the test database a file "
            'name (DATABASES["default"]["TEST"]["NAME"]) to run this race'
        )
    assert_one_winner(race(same_slot_attempts(cast)))


def booking_row(cast, hour: int, minute: int = 0, *, minutes: int = 30, **fields) -> Booking:
    """Insert a booking directly, past every check of the service."""
    starts_at = local(next_weekday(THURSDAY), hour, minute).astimezone(UTC)
    return Booking.objects.create(
        institution=cast.institution_a,
        location=cast.location_a1,
        physician=cast.physician_a,
        service=cast.service_a,
        patient=cast.patient_a,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=minutes),
        channel=selectors.default_channel(institution=cast.institution_a),
        price=Decimal("12000.00"),
        currency="HUF",
        **fields,
    )


@pytest.mark.postgres
def test_b8_the_database_itself_refuses_an_overlapping_booking(cast):
    booking_row(cast, 10, minutes=60)
    with pytest.raises(IntegrityError, match="booking_physician_no_overlap"), transaction.atomic():
        booking_row(cast, 10, minutes=30)
    assert Booking.objects.count() == 1


@pytest.mark.postgres
def test_b8_the_exclusion_constraint_leads_with_the_institution_ready_for_sharding_by_it(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'booking_physician_no_overlap'"
        )
        [(definition,)] = cursor.fetchall()
    assert definition.startswith("EXCLUDE USING gist (institution_id WITH =, physician_id WITH =, tstzrange(")


@pytest.mark.postgres
def test_b8_the_database_allows_back_to_back_and_cancelled_bookings(cast):
    booking_row(cast, 10)
    booking_row(cast, 9, 30)
    booking_row(cast, 10, 30)
    booking_row(cast, 10, status=Booking.Status.CANCELLED)
    with pytest.raises(IntegrityError), transaction.atomic():
        booking_row(cast, 10, status=Booking.Status.NO_SHOW)
    assert Booking.objects.count() == 4


@pytest.mark.postgres
def test_b8_a_conflict_only_the_database_sees_still_answers_slot_no_longer_available(cast, monkeypatch):
    booking_row(cast, 10)
    # Hide the booking from the service's own check, as a transaction that has not yet committed would be.
    monkeypatch.setattr(selectors, "active_bookings", lambda **kwargs: Booking.objects.none())
    with pytest.raises(SlotUnavailable, match="This slot is no longer available."):
        services.booking_create(**same_slot_attempts(cast)[0])
    assert Booking.objects.count() == 1


def sqlstate(refused: SlotUnavailable) -> str | None:
    """The SQLSTATE of the database error behind a SlotUnavailable (None for the service's own check)."""
    return getattr(getattr(refused.__cause__, "__cause__", None), "sqlstate", None)


def wait_until_waiting(pid: int, timeout: float = 30) -> None:
    """Return once the PostgreSQL backend pid waits for a lock (polled, with a deadline)."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT EXISTS (SELECT 1 FROM pg_locks WHERE pid = %s AND NOT granted)", [pid])
            if cursor.fetchone()[0]:
                return
            time.sleep(0.01)
    pytest.fail(f"backend {pid} never waited for a lock")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_b8_a_deadlock_in_the_booking_insert_still_answers_slot_no_longer_available(cast):
    # X books 10:00 without committing, then waits for a row T holds; T's insert of 10:00 then waits for X.
    # T's wait closes the cycle; T's detector (50 ms, X's is 10 s) makes T the victim: 40P01 in the insert.
    attempt = same_slot_attempts(cast)[0]
    x_inserted, t_locked = threading.Event(), threading.Event()
    x_pid: list[int] = []
    x_outcome: list[str] = []

    def x_transaction() -> None:
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL deadlock_timeout = '10s'")
                    cursor.execute("SELECT pg_backend_pid()")
                    x_pid.append(cursor.fetchone()[0])
                booking_row(cast, 10)  # uncommitted: the service's own overlap check in T cannot see it
                x_inserted.set()
                if not t_locked.wait(timeout=30):
                    raise TimeoutError("T never took its lock")
                Patient.objects.select_for_update().get(pk=cast.patient_b.pk)  # waits until T ends
                transaction.set_rollback(True)
            x_outcome.append("rolled back")
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            x_outcome.append(f"{type(error).__name__}: {error}")
        finally:
            x_inserted.set()
            connection.close()

    x = threading.Thread(target=x_transaction)
    x.start()
    try:
        assert x_inserted.wait(timeout=30) and x_pid, x_outcome
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL deadlock_timeout = '50ms'")
            # A row neither booking refers to, so only X's SELECT FOR UPDATE contends for it.
            Patient.objects.select_for_update().get(pk=cast.patient_b.pk)
            t_locked.set()
            wait_until_waiting(x_pid[0])
            with pytest.raises(SlotUnavailable, match="This slot is no longer available.") as refused:
                services.booking_create(**attempt)
            # Only the savepoint died with the deadlock: the transaction goes on and books another time.
            later = services.booking_create(
                **{**attempt, "starts_at": attempt["starts_at"] + timedelta(hours=1)}
            )
    finally:
        t_locked.set()
        x.join(timeout=60)
    assert not x.is_alive()
    assert isinstance(refused.value.__cause__, OperationalError)  # not an IntegrityError
    assert sqlstate(refused.value) == "40P01"
    assert x_outcome == ["rolled back"]
    assert list(Booking.objects.values_list("pk", flat=True)) == [later.pk]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_b8_a_serialisation_failure_in_the_booking_insert_still_answers_slot_no_longer_available(cast):
    # Two SERIALIZABLE transactions read the same empty morning; X books 10:30 and commits, then T books
    # 10:00. No overlap, but each read what the other wrote: PostgreSQL refuses T's insert with 40001.
    attempt = same_slot_attempts(cast)[0]
    x_outcome: list[str] = []

    def x_transaction() -> None:
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE")
                assert not Booking.objects.filter(physician=cast.physician_a).exists()
                booking_row(cast, 10, 30)
            x_outcome.append("committed")
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            x_outcome.append(f"{type(error).__name__}: {error}")
        finally:
            connection.close()

    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE")
        assert not Booking.objects.filter(physician=cast.physician_a).exists()  # T's snapshot, before X
        x = threading.Thread(target=x_transaction)
        x.start()
        x.join(timeout=60)
        assert not x.is_alive() and x_outcome == ["committed"], x_outcome
        with pytest.raises(SlotUnavailable, match="This slot is no longer available.") as refused:
            services.booking_create(**attempt)
        # Unlike a deadlock, a serialisation failure dooms the transaction: every later write fails alike.
        with pytest.raises(SlotUnavailable) as again:
            services.booking_create(**{**attempt, "starts_at": attempt["starts_at"] + timedelta(hours=3)})
        transaction.set_rollback(True)
    assert isinstance(refused.value.__cause__, OperationalError)
    assert sqlstate(refused.value) == sqlstate(again.value) == "40001"
    assert Booking.objects.count() == 1
