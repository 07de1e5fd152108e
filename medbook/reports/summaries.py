"""The settlement pages (X-4, R-4): every partner's figures of a period at once (every institution's, for a
partner), the closed statements, and whose statements an actor may read.

The figures are the statements' (medbook.reports.statements) aggregated per partner in SQL, so a page costs
the same few queries however many bookings, partners, closings or corrections there are.
"""

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Q, QuerySet, Sum
from django.http import Http404

from medbook.accounts.models import Organization
from medbook.core.ids import parse_id
from medbook.core.tenancy import Actor, acting
from medbook.institutions.models import Institution
from medbook.partners.models import Partnership
from medbook.partners.selectors import NOT_YET_THE_PARTNERS
from medbook.reports.models import StatementClosing
from medbook.reports.money import held, statement_amounts
from medbook.reports.selectors import Period, report_partners
from medbook.reports.statements import (
    Figures,
    close_refusal,
    closing_figures,
    corrections,
    difference,
    open_bookings,
    overlapping,
    owed_text,
    starting_in,
)
from medbook.scheduling.models import Booking


@dataclass
class SettlementLine:
    """One partner at the institution (or one institution, for a partner) on a settlement page."""

    institution: Institution
    partner: Organization
    figures: Figures
    closing: StatementClosing | None = None
    refusal: str = ""

    @property
    def direction_text(self) -> str:
        currency = self.closing.currency if self.closing is not None else self.institution.currency
        return owed_text(
            institution=self.institution.name,
            partner=self.partner.name,
            figures=self.figures,
            currency=currency,
        )


def closed_lines(closings) -> list[SettlementLine]:
    """Closed statements with their frozen figures, for a list of them."""
    return [
        SettlementLine(
            institution=closing.institution,
            partner=closing.partner,
            figures=closing_figures(closing),
            closing=closing,
        )
        for closing in closings
    ]


def _live_figures(bookings: QuerySet[Booking], *, within: Q, before: date, key: str) -> dict[int, Figures]:
    """Per `key` (partner_id or institution_id): the open figures of the period, aggregated in SQL."""
    found: dict[int, Figures] = {}
    totals = (
        open_bookings(bookings, within)
        .order_by()
        .values(key)
        .annotate(
            held_count=Count("pk", filter=held()),
            unsettled_count=Count("pk", filter=~held()),
            **{name: Sum(expression) for name, expression in statement_amounts().items()},
        )
    )
    for line in totals:
        figures = found.setdefault(line[key], Figures())
        figures.bookings, figures.unsettled = line["held_count"], line["unsettled_count"]
        figures.add_amounts(line)
    for booking in corrections(bookings, before=before).only("pk", key):
        figures = found.setdefault(getattr(booking, key), Figures())
        figures.adjustments += 1
        figures.add_amounts(difference(booking))
    return found


def settlement_summary(*, actor: Actor, period: Period) -> list[SettlementLine]:
    """The settlement page: per partner of the actor's institution, its figures for the period (frozen
    where that very period was closed) and whether it can be closed."""
    institution = acting(actor.institution)
    bookings = Booking.objects.filter(institution=institution, partner__isnull=False)
    live = _live_figures(
        bookings, within=starting_in([period], per_zone=False), before=period.date_from, key="partner_id"
    )
    closings = list(overlapping(StatementClosing.objects.filter(institution=institution), period))
    lines = []
    for partner in report_partners(actor=actor):
        overlaps = [c for c in closings if c.partner_id == partner.pk]
        exact = next(
            (c for c in overlaps if (c.date_from, c.date_until) == (period.date_from, period.date_until)),
            None,
        )
        lines.append(
            SettlementLine(
                institution=institution,
                partner=partner,
                figures=closing_figures(exact) if exact else live.get(partner.pk, Figures()),
                closing=exact,
                refusal=close_refusal(institution=institution, period=period, overlaps=overlaps),
            )
        )
    return lines


def partner_summary(*, actor: Actor, date_from: date, date_until: date) -> list[SettlementLine]:
    """The partner's statements page: per institution it works with, its figures for the local days."""
    partner = acting(actor.partner)
    institutions = list(partner_statement_institutions(actor=actor))
    periods = {zone: Period(date_from, date_until, zone) for zone in {i.time_zone for i in institutions}}
    bookings = Booking.objects.filter(partner=partner, institution__in=[i.pk for i in institutions])
    live = _live_figures(
        bookings,
        within=starting_in(list(periods.values()), per_zone=True),
        before=date_from,
        key="institution_id",
    )
    exact = {
        closing.institution_id: closing
        for closing in StatementClosing.objects.filter(
            partner=partner, date_from=date_from, date_until=date_until
        )
    }
    return [
        SettlementLine(
            institution=institution,
            partner=partner,
            figures=closing_figures(exact[institution.pk])
            if institution.pk in exact
            else live.get(institution.pk, Figures()),
            closing=exact.get(institution.pk),
        )
        for institution in institutions
    ]


# Whose statements the actor may read.


def institution_statement_partner(*, actor: Actor, pk) -> Organization:
    """A partner of the actor's institution (for its statement); any other is 404."""
    pk = parse_id(pk)
    partner = report_partners(actor=actor).filter(pk=pk).first()
    if partner is None:
        raise Http404()
    return partner


def partner_statement_institutions(*, actor: Actor | None) -> QuerySet[Institution]:
    """The institutions the actor's partner works (or worked) with, of the partnerships it may see."""
    if actor is None or actor.partner is None:
        return Institution.objects.none()
    ids = (
        Partnership.objects.filter(partner=actor.partner)
        .exclude(status__in=NOT_YET_THE_PARTNERS)
        .values("institution_id")
    )
    return Institution.objects.filter(pk__in=ids).order_by("name")


def partner_statement_institution(*, actor: Actor, pk) -> Institution:
    """One institution the actor's partner works with; any other is 404."""
    pk = parse_id(pk)
    institution = partner_statement_institutions(actor=actor).filter(pk=pk).first()
    if institution is None:
        raise Http404()
    return institution


def institution_closings(*, actor: Actor | None) -> QuerySet[StatementClosing]:
    """The closed statements of the actor's institution, the latest first."""
    if actor is None or actor.institution is None:
        return StatementClosing.objects.none()
    return (
        StatementClosing.objects.filter(institution=actor.institution)
        .select_related("institution", "partner", "closed_by")
        .order_by("-number")
    )


def partner_closings(*, actor: Actor | None) -> QuerySet[StatementClosing]:
    """The closed statements of the actor's partner at every institution, the latest first."""
    if actor is None or actor.partner is None:
        return StatementClosing.objects.none()
    return (
        StatementClosing.objects.filter(partner=actor.partner)
        .select_related("institution", "partner")
        .order_by("-closed_at", "-pk")
    )


def _one(closings: QuerySet[StatementClosing], pk) -> StatementClosing:
    closing = closings.filter(pk=parse_id(pk)).select_related("institution", "partner").first()
    if closing is None:
        raise Http404()
    return closing


def institution_closing(*, actor: Actor, pk) -> StatementClosing:
    """One closed statement of the actor's institution; another institution's (or a bad id) is 404."""
    return _one(institution_closings(actor=actor), pk)


def partner_closing(*, actor: Actor, pk) -> StatementClosing:
    """One closed statement of the actor's partner; another partner's (or a bad id) is 404."""
    return _one(partner_closings(actor=actor), pk)
