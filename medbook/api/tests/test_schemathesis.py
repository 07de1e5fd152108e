"""schemathesis against the running API (pytest-django's live server) with a partner's and a clerk's token:
no server error, no status code the schema does not declare, no answer that breaks its schema."""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from medbook.accounts.actor import actor_for
from medbook.accounts.tokens import api_token_create

# A well-formed request the domain refuses (a period over 31 days, a slot in the past) is a 422 with the
# reason, as the schema declares: not a "schema-valid request rejected".
# And a request schemathesis made "invalid" only by names it invented (unknown query parameters, which an
# API may ignore) is not a violation either. What is checked: no server error, only declared status
# codes and content types, every answer valid under its schema.
EXCLUDED = [positive_data_acceptance, negative_data_rejection]
EXAMPLES = 12  # per operation and token: bounded, so that `make test` stays quick


@pytest.fixture
def api_schema(live_server):
    return schemathesis.openapi.from_url(f"{live_server.url}/api/openapi.json")


schema = schemathesis.pytest.from_fixture("api_schema")


def _bearer(user) -> dict:
    secret = api_token_create(actor=actor_for(user), name="schemathesis")[1]
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def staff_bearer(transactional_db, cast, partners) -> dict:
    return _bearer(cast.bob)


@pytest.fixture
def partner_bearer(transactional_db, cast, partners) -> dict:
    return _bearer(partners.peter)


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_x1_the_api_keeps_its_schema_for_the_institutions_staff(case, staff_bearer):
    case.call_and_validate(headers=staff_bearer, excluded_checks=EXCLUDED)


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_x1_the_api_keeps_its_schema_for_a_partner(case, partner_bearer):
    case.call_and_validate(headers=partner_bearer, excluded_checks=EXCLUDED)
