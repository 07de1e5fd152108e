"""The report pages: parse the filters, call one selector (or the one service), render.

The pages that only read are replica-readable (medbook/core/replica.py); the ones that write are not."""

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from medbook.core.errors import DomainError
from medbook.core.forms import REFUSED_STATUS, add_refusal, form_status
from medbook.core.permissions import Perm
from medbook.core.replica import replica_readable
from medbook.core.tenancy import ActorRequest, acting
from medbook.reports import charts, exports, selectors, services, statements, summaries
from medbook.reports.access import institution_report, partner_statements
from medbook.reports.forms import (
    BookingReportForm,
    PartnerBookingCancelForm,
    PartnerBookingsForm,
    PeriodForm,
    TrafficForm,
    last_month,
)

PAGE_SIZE = 50


def _page(request: ActorRequest, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def _query_without_page(request: ActorRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@institution_report(Perm.VIEW_CALENDAR)
@replica_readable
def booking_report(request: ActorRequest) -> HttpResponse:
    """R-1: every booking of the period with its booking source, filtered."""
    form = BookingReportForm(request.GET, actor=request.actor)
    bookings = selectors.booking_report(actor=request.actor, period=form.period(), **form.filters())
    context = {"form": form, "page": _page(request, bookings), "query": _query_without_page(request)}
    return render(request, "reports/booking_report.html", context)


@institution_report(Perm.ADMINISTER)
@replica_readable
def traffic(request: ActorRequest) -> HttpResponse:
    """R-2: traffic statistics per channel and per partner, with the commission due and two charts."""
    form = TrafficForm(request.GET, time_zone=acting(request.actor.institution).time_zone)
    period = form.period()
    report = selectors.traffic_report(
        actor=request.actor,
        period=period,
        partners_only=form.is_valid() and form.cleaned_data["partners_only"],
    )
    names = {
        row.key: row.name for row in report.channels if row.key is not None
    }  # a channel's row has its key
    context = {
        "form": form,
        "period": period,
        "report": report,
        "currency": acting(request.actor.institution).currency,
        "over_time": charts.bookings_over_time(
            buckets=report.buckets, series=report.series, names=names, per_week=report.per_week
        ),
        "per_partner": charts.commission_per_partner(rows=report.partners),
    }
    return render(request, "reports/traffic.html", context)


@institution_report(Perm.ADMINISTER)
@replica_readable
def partner_bookings(request: ActorRequest) -> HttpResponse:
    """R-3: "Partner-submitted statistics": the bookings partners made, filtered, with "Cancel"."""
    form = PartnerBookingsForm(request.GET, actor=request.actor)
    bookings = selectors.partner_bookings(actor=request.actor, period=form.period(), **form.filters())
    page = _page(request, bookings)
    page.object_list = selectors.partner_booking_lines(page.object_list)
    context = {"form": form, "page": page, "query": _query_without_page(request)}
    return render(request, "reports/partner_bookings.html", context)


@institution_report(Perm.ADMINISTER)
@require_http_methods(["GET", "POST"])
def partner_booking_cancel(request: ActorRequest, pk: int) -> HttpResponse:
    """Ask for confirmation (and an optional reason), then cancel the partner's booking and go back to the
    filtered list."""
    booking = selectors.partner_booking_for_cancel(actor=request.actor, pk=pk)
    back = request.POST.get("next") or request.GET.get("next") or ""
    if not back.startswith(reverse("reports:partner-bookings")):
        back = reverse("reports:partner-bookings")
    form = PartnerBookingCancelForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            services.partner_booking_cancel(
                actor=request.actor, booking=booking, reason=form.cleaned_data["reason"]
            )
        except DomainError as error:  # refused (already cancelled, or started): say so, change nothing
            add_refusal(form, error)
            context = {"booking": booking, "next": back, "form": form}
            return render(request, "reports/booking_cancel.html", context, status=error.status_code)
        messages.success(request, _("The booking was cancelled and the partner notified."))
        return redirect(back)
    context = {"booking": booking, "next": back, "form": form}
    return render(request, "reports/booking_cancel.html", context, status=form_status(form))


def _closed_page(request: ActorRequest, closings):
    """A page of closed statements, each with its frozen figures."""
    page = _page(request, closings)
    page.object_list = summaries.closed_lines(page.object_list)
    return page


def _settlement_context(request: ActorRequest, form: PeriodForm, period: selectors.Period) -> dict:
    return {
        "form": form,
        "period": period,
        "lines": summaries.settlement_summary(actor=request.actor, period=period),
        "closings": _closed_page(request, summaries.institution_closings(actor=request.actor)),
        "query": _period_query(period),
        "last_month": _period_query(selectors.Period(*last_month(period.time_zone), period.time_zone)),
    }


@institution_report(Perm.ADMINISTER)
@replica_readable
def settlement(request: ActorRequest) -> HttpResponse:
    """X-4, R-4: per partner, the figures of the period (what is owed each way, the net and its direction),
    the downloads, "Close period", and the closed statements."""
    form = PeriodForm(request.GET, time_zone=acting(request.actor.institution).time_zone)
    return render(request, "reports/settlement.html", _settlement_context(request, form, form.period()))


@institution_report(Perm.ADMINISTER)
@require_POST
def settlement_close(request: ActorRequest, pk: int) -> HttpResponse:
    """R-4: close the partner's statement of the posted period, then show the settlement of that period."""
    partner = summaries.institution_statement_partner(actor=request.actor, pk=pk)
    form = PeriodForm(request.POST, time_zone=acting(request.actor.institution).time_zone)
    period = form.period()  # the posted one (the current month when it is invalid), before any refusal
    if form.is_valid():
        try:
            closing = services.statement_close(actor=request.actor, partner=partner, period=period)
        except DomainError as error:
            add_refusal(form, error)
        else:
            note = _("Statement %(number)s of %(partner)s is closed: its figures are frozen.")
            messages.success(request, note % {"number": closing.number, "partner": partner.name})
            return redirect(reverse("reports:settlement") + "?" + _period_query(period))
    context = _settlement_context(request, form, period)
    return render(request, "reports/settlement.html", context, status=REFUSED_STATUS)


@institution_report(Perm.ADMINISTER)
@replica_readable
def settlement_download(request: ActorRequest, pk: int, fmt: str) -> HttpResponse:
    """X-4: the institution's copy of a partner's statement of the period as CSV or XLSX."""
    partner = summaries.institution_statement_partner(actor=request.actor, pk=pk)
    institution = acting(request.actor.institution)
    form = PeriodForm(request.GET, time_zone=institution.time_zone)
    statement = statements.statement(institution=institution, partner=partner, period=form.period())
    return _download(request, statement, fmt)


@institution_report(Perm.ADMINISTER)
@replica_readable
def settlement_closed_download(request: ActorRequest, pk: int, fmt: str) -> HttpResponse:
    """R-4: a closed statement of the institution, with its frozen figures."""
    closing = summaries.institution_closing(actor=request.actor, pk=pk)
    return _download(request, statements.closed_statement(closing), fmt)


@partner_statements
@replica_readable
def partner_statement_list(request: ActorRequest) -> HttpResponse:
    """X-4, R-4, partner side: per institution the figures of the period and the downloads, and the
    partner's closed statements (read only)."""
    form = PeriodForm(request.GET, time_zone=settings.TIME_ZONE)
    period = form.period()
    context = {
        "form": form,
        "period": period,
        "lines": summaries.partner_summary(
            actor=request.actor, date_from=period.date_from, date_until=period.date_until
        ),
        "closings": _closed_page(request, summaries.partner_closings(actor=request.actor)),
        "query": _period_query(period),
        "last_month": _period_query(selectors.Period(*last_month(period.time_zone), period.time_zone)),
    }
    return render(request, "reports/partner_statements.html", context)


@partner_statements
@replica_readable
def partner_statement_download(request: ActorRequest, pk: int, fmt: str) -> HttpResponse:
    """X-4, partner side: the same statement, for the partner's own bookings at one institution."""
    institution = summaries.partner_statement_institution(actor=request.actor, pk=pk)
    form = PeriodForm(request.GET, time_zone=institution.time_zone)
    statement = statements.statement(
        institution=institution, partner=acting(request.actor.partner), period=form.period()
    )
    return _download(request, statement, fmt)


@partner_statements
@replica_readable
def partner_statement_closed_download(request: ActorRequest, pk: int, fmt: str) -> HttpResponse:
    """R-4, partner side: one of the partner's closed statements, with its frozen figures."""
    closing = summaries.partner_closing(actor=request.actor, pk=pk)
    return _download(request, statements.closed_statement(closing), fmt)


def _period_query(period: selectors.Period) -> str:
    return f"date_from={period.date_from.isoformat()}&date_until={period.date_until.isoformat()}"


def _download(request: ActorRequest, statement: statements.Statement, fmt: str) -> HttpResponse:
    content_types = {"csv": "text/csv; charset=utf-8", "xlsx": exports.XLSX_TYPE}
    if fmt not in content_types:
        raise Http404()
    content = services.statement_export(actor=request.actor, statement=statement, fmt=fmt)
    response = HttpResponse(content, content_type=content_types[fmt])
    filename = exports.statement_filename(statement, fmt)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
