"""R-4: closing a partner's statement for an ended period freezes its figures under a number; a later
correction of one of its bookings is an adjustment of the next statement, and only until that is closed."""

import threading
from calendar import monthrange
from collections import Counter
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse

from conftest import BUDAPEST, actor_of, local
from medbook.audit.models import AuditEntry
from medbook.core.errors import DomainError
from medbook.reports import services, statements
from medbook.reports.models import StatementClosing, StatementLine
from medbook.reports.selectors import Period
from medbook.reports.tests.readers import page_figures, read
from medbook.scheduling.models import Booking, TrafficChannel
from medbook.scheduling.tests.test_race_postgres import WAIT_SECONDS, connections_for_every_thread  # noqa: F401

pytestmark = pytest.mark.django_db
PRICE = Decimal("10000.00")  # 10 % commission: 1000.00


def month(offset: int) -> tuple[date, date]:
    """The first and last day of the month `offset` months from this one (in Budapest)."""
    this = datetime.now(BUDAPEST).date().replace(day=1)
    years, index = divmod(this.month - 1 + offset, 12)
    first = date(this.year + years, index + 1, 1)
    return first, first.replace(day=monthrange(first.year, first.month)[1])


EARLIER, LAST, THIS = month(-2), month(-1), month(0)


def query(period: tuple) -> dict:
    return {"date_from": str(period[0]), "date_until": str(period[1])}


def book(cast, partners, day: date, hour: int, status: str, payment: str = "paid") -> Booking:
    """P's booking at A on the day, as the desk left it."""
    starts_at = local(day, hour)
    return Booking.objects.create(
        institution=cast.institution_a,
        location=cast.location_a1,
        physician=cast.physician_a,
        service=cast.service_a,
        patient=cast.patient_a,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=30),
        status=status,
        payment_status=payment,
        channel=TrafficChannel.objects.get(partner=partners.partner_p),
        partner=partners.partner_p,
        price=PRICE,
        currency="HUF",
        commission_percent=Decimal("10.00"),
    )


def close(client, partners, period):
    return client.post(reverse("reports:settlement-close", args=[partners.partner_p.pk]), query(period))


def settlement_row(client, period) -> dict:
    html = client.get(reverse("reports:settlement"), query(period)).content.decode()
    return page_figures(html, "settlement-partners", "partner")["CallCenter Ltd"]


@pytest.fixture
def earlier(cast, partners) -> dict[str, Booking]:
    """Bookings of P in the earlier month: a completed visit, one not recorded yet, a cancelled one."""
    day = EARLIER[0] + timedelta(days=9)
    return {
        "completed": book(cast, partners, day, 9, "completed"),
        "unrecorded": book(cast, partners, day, 10, "booked", "unpaid"),
        "cancelled": book(cast, partners, day, 11, "cancelled", "unpaid"),
    }


def test_r4_closing_freezes_the_figures_under_the_next_number(cast, partners, earlier, login):
    client = login(cast.alice)
    before = settlement_row(client, EARLIER)
    assert before["bookings"] == 1 and before["unsettled"] == 2 and before["to_partner"] == Decimal("1000.00")
    html = client.get(reverse("reports:settlement"), query(EARLIER)).content.decode()
    assert "Yes, close the statement" in html  # an ended period can be closed, after a confirmation

    response = close(client, partners, EARLIER)
    assert response.status_code == 302 and response["Location"].endswith(
        "?" + "&".join(f"{k}={v}" for k, v in query(EARLIER).items())
    )
    closing = StatementClosing.objects.get()
    assert (closing.number, closing.partner_id, closing.closed_by) == (1, partners.partner_p.pk, cast.alice)
    assert (closing.bookings, closing.unsettled, closing.to_partner_cents) == (1, 2, 100000)
    assert StatementLine.objects.filter(closing=closing).count() == 3  # the unsettled ones too, as they were
    entry = AuditEntry.objects.get(action="statement.close")
    assert entry.institution_id == cast.institution_a.pk and entry.details["number"] == 1
    assert entry.details["to_partner"] == "1000.00"

    page = client.get(reverse("reports:settlement"), query(EARLIER)).content.decode()
    assert 'data-closed="1"' in page and "Statement 1 of CallCenter Ltd is closed" in page
    assert page_figures(page, "settlement-partners", "partner")["CallCenter Ltd"] == before
    listed = page_figures(page, "closed-statements", "closing")["1"]
    assert listed["to_partner"] == Decimal("1000.00")


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_r4_a_later_correction_is_an_adjustment_of_the_next_statement_once(
    cast, partners, earlier, login, fmt
):
    client = login(cast.alice)
    assert close(client, partners, EARLIER).status_code == 302
    first = StatementClosing.objects.get()
    closed_url = reverse("reports:settlement-closed-download", args=[first.pk, fmt])
    frozen = read(client.get(closed_url).content, fmt)
    last_month = book(cast, partners, LAST[0] + timedelta(days=4), 9, "completed")

    # Afterwards the desk records the visit that was not recorded, and refunds the completed one.
    Booking.objects.filter(pk=earlier["unrecorded"].pk).update(status="completed", payment_status="paid")
    Booking.objects.filter(pk=earlier["completed"].pk).update(payment_status="refunded")

    assert read(client.get(closed_url).content, fmt).lines == frozen.lines  # the closed one never changes
    assert settlement_row(client, EARLIER)["to_partner"] == Decimal("1000.00")
    row = settlement_row(client, LAST)
    assert (row["bookings"], row["adjustments"]) == (1, 2)
    assert row["to_partner"] == Decimal("1000.00")  # + 1000 (last month) + 1000 (recorded) − 1000 (refund)
    assert row["value"] == PRICE
    url = reverse("reports:settlement-download", args=[partners.partner_p.pk, fmt])
    document = read(client.get(url, query(LAST)).content, fmt)
    assert set(document.lines) == {
        ("Booking", last_month.pk),
        ("Adjustment", earlier["unrecorded"].pk),
        ("Adjustment", earlier["completed"].pk),
    }
    assert document.amounts(document.lines[("Adjustment", earlier["completed"].pk)]) == {
        "value": -PRICE,
        "commission": Decimal("-1000.00"),
        "to_partner": Decimal("-1000.00"),
        "to_institution": Decimal("0.00"),
    }
    assert document.amounts(document.lines[("Adjustment", earlier["unrecorded"].pk)])[
        "to_partner"
    ] == Decimal("1000.00")

    assert close(client, partners, LAST).status_code == 302
    second = StatementClosing.objects.get(number=2)
    assert second.adjustments == 2 and second.to_partner_cents == 100000
    closed_second = read(
        client.get(reverse("reports:settlement-closed-download", args=[second.pk, fmt])).content, fmt
    )
    assert closed_second.lines.keys() == document.lines.keys()
    # Frozen into statement 2: the next statement carries them no more.
    assert settlement_row(client, THIS)["adjustments"] == 0

    # A second change of the same booking is the difference to all that was frozen of it.
    Booking.objects.filter(pk=earlier["completed"].pk).update(payment_status="paid")
    this_month = settlement_row(client, THIS)
    assert (this_month["adjustments"], this_month["to_partner"]) == (1, Decimal("1000.00"))


def test_r4_the_partner_reads_its_closed_statements(cast, partners, earlier, login):
    close(login(cast.alice), partners, EARLIER)
    closing = StatementClosing.objects.get()
    client = login(partners.paula)
    html = client.get(reverse("reports:partner-statements"), query(EARLIER)).content.decode()
    assert 'data-closed="1"' in html
    assert page_figures(html, "closed-statements", "closing")["1"]["to_partner"] == Decimal("1000.00")
    mine = client.get(reverse("reports:partner-statement-closed-download", args=[closing.pk, "csv"]))
    theirs = login(cast.alice).get(reverse("reports:settlement-closed-download", args=[closing.pk, "csv"]))
    assert read(mine.content, "csv").lines == read(theirs.content, "csv").lines
    assert b"Statement number" in mine.content
    client.force_login(partners.quentin)
    url = reverse("reports:partner-statement-closed-download", args=[closing.pk, "csv"])
    assert client.get(url).status_code == 404
    assert b"Close period" not in client.get(reverse("reports:partner-statements")).content


def test_r4_an_open_download_of_the_closed_period_is_the_frozen_statement(cast, partners, earlier, login):
    client = login(cast.alice)
    close(client, partners, EARLIER)
    Booking.objects.filter(pk=earlier["unrecorded"].pk).update(status="completed")
    url = reverse("reports:settlement-download", args=[partners.partner_p.pk, "csv"])
    document = read(client.get(url, query(EARLIER)).content, "csv")
    assert set(document.lines) == {("Booking", earlier["completed"].pk)}
    assert "statement-1-" in client.get(url, query(EARLIER))["Content-Disposition"]


def test_r4_a_change_of_the_no_show_setting_alone_reopens_nothing(cast, partners, login):
    no_show = book(cast, partners, EARLIER[0] + timedelta(days=3), 9, "no_show", "unpaid")
    client = login(cast.alice)
    close(client, partners, EARLIER)
    cast.institution_a.no_show_earns_commission = True
    cast.institution_a.save()
    assert settlement_row(client, LAST)["adjustments"] == 0  # nothing happened to the booking itself
    Booking.objects.filter(pk=no_show.pk).update(status="completed")
    assert settlement_row(client, LAST)["adjustments"] == 1


@pytest.mark.parametrize(
    ("period", "message"),
    [
        (THIS, "A period can be closed once it has ended"),
        ((EARLIER[0] + timedelta(days=5), LAST[1]), "Statement 1 already settles"),
        (EARLIER, "Statement 1 already settles"),
        (("2026-02-30", "2026-03-01"), "Enter a valid date."),
        ((LAST[1], LAST[0]), "The period must end on or after its first day."),
    ],
    ids=["not_ended", "overlapping", "twice", "bad_date", "backwards"],
)
def test_r4_a_close_that_is_not_allowed_says_why_and_writes_nothing(
    cast, partners, earlier, login, period, message
):
    client = login(cast.alice)
    close(client, partners, EARLIER)
    count = AuditEntry.objects.count()
    response = close(client, partners, period)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert StatementClosing.objects.count() == 1 and AuditEntry.objects.count() == count


def test_r4_a_partner_of_another_institution_cannot_be_closed(cast, partners, login):
    client = login(cast.alice)
    url = reverse("reports:settlement-close", args=[partners.partner_q.pk])
    assert client.post(url, query(EARLIER)).status_code == 404
    client.force_login(cast.charlie)  # B's admin: P is no partner of B
    assert (
        client.post(
            reverse("reports:settlement-close", args=[partners.partner_p.pk]), query(EARLIER)
        ).status_code
        == 404
    )
    assert not StatementClosing.objects.exists()


def test_r4_another_institutions_closing_is_not_found(cast, partners, earlier, login):
    close(login(cast.alice), partners, EARLIER)
    closing = StatementClosing.objects.get()
    client = login(cast.charlie)
    for fmt in ("csv", "xlsx"):
        assert (
            client.get(reverse("reports:settlement-closed-download", args=[closing.pk, fmt])).status_code
            == 404
        )
    client.force_login(cast.alice)
    assert (
        client.get(reverse("reports:settlement-closed-download", args=[closing.pk, "pdf"])).status_code == 404
    )
    assert client.get(reverse("reports:settlement-closed-download", args=[2**63, "csv"])).status_code == 404
    assert b"CallCenter Ltd" not in login(cast.charlie).get(reverse("reports:settlement")).content


def test_r4_numbers_run_per_institution_across_partners(cast, partners, login):
    other = partners.partner_q
    from medbook.partners.tests.factories import partnership_make

    partnership_make(cast.institution_a, other, locations=[cast.location_a1])
    client = login(cast.alice)
    close(client, partners, EARLIER)
    client.post(reverse("reports:settlement-close", args=[other.pk]), query(EARLIER))
    close(client, partners, LAST)
    assert list(StatementClosing.objects.order_by("number").values_list("number", "partner_id")) == [
        (1, partners.partner_p.pk),
        (2, other.pk),
        (3, partners.partner_p.pk),
    ]


def test_r4_a_close_that_lost_a_race_is_a_clear_refusal(cast, partners, earlier, login, monkeypatch):
    """Between the checks and the insert, another admin's closing of the same period got in first: the
    database's unique constraint refuses the second, which the admin reads as a message, not a 500."""
    period = Period(EARLIER[0], EARLIER[1], cast.institution_a.time_zone)
    open_statement = statements.open_statement

    def meanwhile(**kwargs):
        start, end = period.bounds()
        StatementClosing.objects.create(
            institution=cast.institution_a,
            partner=partners.partner_p,
            number=1,
            date_from=period.date_from,
            date_until=period.date_until,
            time_zone=period.time_zone,
            period_start=start,
            period_end=end,
            currency="HUF",
        )
        return open_statement(**kwargs)

    monkeypatch.setattr(services.statements, "open_statement", meanwhile)
    response = close(login(cast.alice), partners, EARLIER)
    assert response.status_code == 422
    assert "Someone closed a statement of your institution at the same moment" in response.content.decode()
    # Here the competitor wrote in the same transaction, so it went back with the refusal; what matters is
    # that the refused close left no line and no audit entry of its own.
    assert not StatementLine.objects.exists()
    assert not AuditEntry.objects.filter(action="statement.close").exists()


@pytest.mark.django_db(transaction=True)
def test_r4_simultaneous_closes_of_one_period_give_one_closing(cast, partners, connections_for_every_thread):  # noqa: F811
    if connection.vendor == "sqlite" and connection.creation.is_in_memory_db(
        connection.settings_dict["NAME"]
    ):
        pytest.skip("SQLite's in-memory test database cannot queue writers; give it a file name")
    book(cast, partners, EARLIER[0] + timedelta(days=2), 9, "completed")
    threads, outcomes = 6, []
    barrier = threading.Barrier(threads, timeout=WAIT_SECONDS)
    lock = threading.Lock()
    periods = [EARLIER, (EARLIER[0], EARLIER[0] + timedelta(days=20))]

    def attempt(n: int) -> None:
        try:
            connection.ensure_connection()
            barrier.wait()
            first, last = periods[n % 2]
            services.statement_close(
                actor=actor_of(cast.alice),
                partner=partners.partner_p,
                period=Period(first, last, "Europe/Budapest"),
            )
            outcome = "closed"
        except DomainError:
            outcome = "refused"
        except Exception as error:  # noqa: BLE001 - any other failure is what the test reports
            barrier.abort()
            outcome = f"{type(error).__name__}: {error}"
        finally:
            connection.close()
        with lock:
            outcomes.append(outcome)

    workers = [threading.Thread(target=attempt, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=WAIT_SECONDS)
    assert Counter(outcomes) == Counter({"closed": 1, "refused": threads - 1})
    assert StatementClosing.objects.count() == 1


@pytest.mark.postgres
def test_r4_the_database_itself_refuses_overlapping_closings(cast, partners):
    from django.db import IntegrityError, transaction

    def closing(number: int, first: date, last: date) -> StatementClosing:
        start, end = Period(first, last, "Europe/Budapest").bounds()
        return StatementClosing.objects.create(
            institution=cast.institution_a,
            partner=partners.partner_p,
            number=number,
            date_from=first,
            date_until=last,
            time_zone="Europe/Budapest",
            period_start=start,
            period_end=end,
            currency="HUF",
        )

    closing(1, *EARLIER)
    with pytest.raises(IntegrityError), transaction.atomic():
        closing(2, EARLIER[1], LAST[1])  # shares the last day
    closing(3, *LAST)  # back to back is fine
