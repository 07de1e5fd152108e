"""P-15 under concurrency: searches released together never get past a quota (the partnership's row is
locked while its searches are counted), on PostgreSQL."""

import threading
import time
from collections import Counter

import pytest
from django.db import connection

from conftest import actor_of
from medbook.core.errors import TooManyRequests
from medbook.partners.models import PatientSearch
from medbook.partners.services.booking import partner_patient_search
from medbook.scheduling.tests.test_race_postgres import (  # noqa: F401 - the fixture
    WAIT_SECONDS,
    connections_for_every_thread,
)

THREADS = 12
LIMIT = 5


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_f3_simultaneous_searches_take_no_more_than_the_quota(
    cast,
    partners,
    settings,
    connections_for_every_thread,  # noqa: F811
):
    settings.PATIENT_SEARCH_QUOTA_USER_HOUR = LIMIT
    partnership = partners.partnership_p
    partnership.patient_data_access = True
    partnership.save()
    actors = [actor_of(partners.peter) for _n in range(THREADS)]
    barrier = threading.Barrier(THREADS, timeout=WAIT_SECONDS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt(actor) -> None:
        try:
            connection.ensure_connection()
            barrier.wait()
            partner_patient_search(actor=actor, partnership=partnership, query="Anna")
            outcome = "answered"
        except TooManyRequests:
            outcome = "refused"
        except Exception as error:  # noqa: BLE001 - any other failure is what the test reports
            barrier.abort()
            outcome = f"{type(error).__name__}: {error}"
        finally:
            connection.close()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=attempt, args=(actor,)) for actor in actors]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + WAIT_SECONDS
    for thread in threads:
        thread.join(timeout=max(0, deadline - time.monotonic()))
    assert not any(thread.is_alive() for thread in threads), outcomes
    assert Counter(outcomes) == Counter({"answered": LIMIT, "refused": THREADS - LIMIT})
    assert PatientSearch.objects.filter(refused="").count() == LIMIT
