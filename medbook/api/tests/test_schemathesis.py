"""schemathesis against the running API (pytest-django's live server) with a partner's and a clerk's token,
with every check it has: no server error; only declared status codes, content types and headers; every
answer valid under its schema; a request the schema admits is accepted (or answered 401/403/404/409/429 —
what depends on who asks and on the present state, never 400 or 422), and one it does not admit is refused.
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.core.parameters import ParameterLocation

from medbook.accounts.actor import actor_for
from medbook.accounts.tokens import api_token_create

EXAMPLES = 12  # per operation and token: bounded, so that `make test` stays quick


@pytest.fixture
def api_schema(live_server):
    return schemathesis.openapi.from_url(f"{live_server.url}/api/openapi.json")


schema = schemathesis.pytest.from_fixture("api_schema")


def _call(case, bearer: dict) -> None:
    """Call with the token, every check on; but a case whose negative part is the missing Authorization
    header (the bearer scheme's, which schemathesis takes for a required header) goes without it: adding the
    token back would make schemathesis expect a refusal of a request that is then valid."""
    meta = case.meta
    dropped = (
        meta is not None
        and meta.is_negative_at(ParameterLocation.HEADER)
        and "Authorization" not in (case.headers or {})
    )
    case.call_and_validate(headers=None if dropped else bearer)  # every check, the defaults


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
    _call(case, staff_bearer)


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_x1_the_api_keeps_its_schema_for_a_partner(case, partner_bearer):
    _call(case, partner_bearer)
