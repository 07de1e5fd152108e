"""A booking checks what it books (issue 20): the check of one offer reads that offer only, by the same rule
as the partner's whole offer list (`medbook.partners.offers._meetings`), and agrees with the list in every
case the rule knows: a service not ticked for the partner, a location outside the partnership, a physician
not giving the service there, a partnership not active, a GTC not accepted, another institution's service."""

from datetime import timedelta
from itertools import product

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import actor_of
from medbook.core.errors import NotPermitted
from medbook.partners.models import Partnership
from medbook.partners.offers import bookable_offers, offer_for
from medbook.partners.tests.factories import gtc_publish, partnership_make

pytestmark = pytest.mark.django_db

STATUSES = [Partnership.Status.ACTIVE, Partnership.Status.ENDED, Partnership.Status.PENDING_APPROVAL]
# What may change between the cast's one offer (A Central, Dr. Alpha, Cardiology check) and any other.
CASE = st.fixed_dictionaries(
    {
        "service_ticked": st.booleans(),  # Traffic Channels: the service authorised for the partner
        "second_location_in_partnership": st.booleans(),
        "physician_works_at_second": st.booleans(),
        "service_at_second": st.booleans(),
        "physician_gives_service": st.booleans(),
        "status_a": st.sampled_from(STATUSES),
        "ended_at_set": st.booleans(),
        "status_b": st.sampled_from([None, *STATUSES]),  # P's partnership with B, if any
        "foreign_service_ticked": st.booleans(),  # B's service on P's partnership with A
        "location_active": st.booleans(),
        "physician_active": st.booleans(),
        "service_active": st.booleans(),
        "new_gtc_unaccepted": st.booleans(),
    }
)


def _arrange(cast, partners, case: dict) -> None:
    """Change the cast as the case says (rolled back after the example)."""
    a, p = partners.partnership_p, partners.partner_p
    Partnership.objects.filter(pk=a.pk).update(status=case["status_a"])
    if case["ended_at_set"]:
        Partnership.objects.filter(pk=a.pk).update(ended_at=a.created_at)
    if not case["service_ticked"]:
        a.services.remove(cast.service_a)
    if case["second_location_in_partnership"]:
        a.locations.add(cast.location_a2)
    if not case["physician_works_at_second"]:
        cast.physician_a.locations.remove(cast.location_a2)
    if not case["service_at_second"]:
        cast.service_a.locations.remove(cast.location_a2)
    if not case["physician_gives_service"]:
        cast.service_a.physicians.remove(cast.physician_a)
    if case["foreign_service_ticked"]:
        a.services.add(cast.service_b)
    if case["status_b"] is not None:
        partnership_make(
            cast.institution_b,
            p,
            status=case["status_b"],
            locations=[cast.location_b],
            services=[cast.service_b],
        )
    for item, active in (
        (cast.location_a2, case["location_active"]),
        (cast.physician_a, case["physician_active"]),
        (cast.service_a, case["service_active"]),
    ):
        type(item).objects.filter(pk=item.pk).update(is_active=active)
    if case["new_gtc_unaccepted"]:
        gtc_publish("2026-2", ago=timedelta(hours=1))


def _triples(cast) -> list[tuple[int, int, int]]:
    locations = [cast.location_a1, cast.location_a2, cast.location_b]
    physicians = [cast.physician_a, cast.physician_b]
    services = [cast.service_a, cast.service_b]
    return [(loc.pk, doc.pk, svc.pk) for loc, doc, svc in product(locations, physicians, services)]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=CASE)
def test_p9_one_offer_check_agrees_with_the_offer_list(cast, partners, case):
    with transaction.atomic():
        _arrange(cast, partners, case)
        actor = actor_of(partners.peter)
        listed = {
            (o.location.pk, o.physician.pk, o.service.pk): o.partnership.pk
            for o in bookable_offers(actor=actor)
        }
        for location_id, physician_id, service_id in _triples(cast):
            try:
                offer = offer_for(
                    actor=actor, location_id=location_id, physician_id=physician_id, service_id=service_id
                )
            except NotPermitted:
                found = None
            else:
                assert (offer.location.pk, offer.physician.pk, offer.service.pk) == (
                    location_id,
                    physician_id,
                    service_id,
                )
                found = offer.partnership.pk
            assert found == listed.get((location_id, physician_id, service_id)), (case, location_id)
        transaction.set_rollback(True)


def test_p9_one_offer_check_reads_that_offer_only(cast, partners):
    """The GTC gate, then the pair, the partnership and the location by their keys: four queries, none of
    the list's join."""
    actor = actor_of(partners.peter)
    assert actor.partner == partners.partner_p  # the actor as a request resolves it
    with CaptureQueriesContext(connection) as queries:
        offer = offer_for(
            actor=actor,
            location_id=cast.location_a1.pk,
            physician_id=cast.physician_a.pk,
            service_id=cast.service_a.pk,
        )
        terms = offer.terms()
        assert offer.institution == cast.institution_a and offer.partnership.channel.pk
    assert len(queries) == 4, [q["sql"][:150] for q in queries.captured_queries]
    assert terms is not None and terms.authorised and terms.physician_id == cast.physician_a.pk
    where = queries.captured_queries[1]["sql"].split("WHERE", 1)[1]
    assert (
        f'"service_id" = {cast.service_a.pk}' in where and f'"physician_id" = {cast.physician_a.pk}' in where
    )
