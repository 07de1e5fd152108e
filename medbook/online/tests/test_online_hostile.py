"""Hostile input on the public booking pages never answers 5xx (X, as test_no_server_errors for every URL):
garbage in every parameter, beside valid ids of an institution that takes online bookings and alone."""

import pytest
from django.test import Client
from django.urls import reverse

from conftest import local, next_weekday
from medbook.core.tests.test_no_server_errors import GARBAGE, HUGE, PARAMETERS
from medbook.online.tests.helpers import online_on, person

pytestmark = pytest.mark.django_db


def test_x_hostile_input_on_the_public_booking_pages_never_answers_a_server_error(cast, settings):
    settings.ONLINE_BOOKING_LIMIT_HOUR = settings.ONLINE_BOOKING_LIMIT_DAY = (
        settings.ONLINE_UNCONFIRMED_MAX
    ) = 0
    settings.ONLINE_CODE_ATTEMPTS = 10**6  # every garbage code is compared, none refused for the count
    online_on(cast.institution_a, cast.service_a)
    a, service = cast.institution_a.pk, cast.service_a.pk
    valid = {
        "location": cast.location_a1.pk,
        "physician": cast.physician_a.pk,
        "at": int(local(next_weekday(2), 10).timestamp()),
        **person(),
    }
    client = Client(raise_request_exception=False)
    token = client.post(f"{reverse('online:details', args=[a, service])}", valid)["Location"].split("/")[-2]
    urls = [
        reverse("online:home"),
        reverse("online:institution", args=[a]),
        reverse("online:institution", args=[HUGE]),
        reverse("online:times", args=[a, service]),
        reverse("online:times", args=[a, cast.service_b.pk]),
        reverse("online:details", args=[a, service]),
        reverse("online:details", args=[HUGE, HUGE]),
        reverse("online:verify", args=[token]),
        reverse("online:verify", args=["x" * 300]),
    ]
    failures = []
    for url in urls:
        for garbage in GARBAGE:
            everything = dict.fromkeys(PARAMETERS, garbage)
            for data in (
                everything,
                {**everything, **{k: v for k, v in valid.items() if k in ("location", "physician", "at")}},
            ):
                for method in (client.get, client.post):
                    response = method(url, data)
                    if response.status_code >= 500:
                        failures.append(
                            f"{method.__name__.upper()} {url} {str(garbage)[:20]!r} -> {response.status_code}"
                        )
    assert not failures, "\n".join(failures)
