"""schemathesis against the running API (pytest-django's live server) with a partner's, a clerk's and an
institution administrator's token,
with every check it has: no server error; only declared status codes, content types and headers; every
answer valid under its schema; a request the schema admits is accepted (or answered 401/403/404/409/429 —
what depends on who asks and on the present state, never 400 or 422), and one it does not admit is refused.
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import positive_data_acceptance

from medbook.accounts.actor import actor_for
from medbook.accounts.tokens import api_token_create

EXAMPLES = 12  # per operation and token: bounded, so that `make test` stays quick
# Inputs under a rule that joins two fields, which OpenAPI cannot state: a schema-valid request may break it,
# and is refused with a 422 naming the field. Of these alone positive data acceptance is not asked (every
# other check is, and a 422 must name the field); each rule is tested on its own where it lives.
CROSS_FIELD_RULES = {
    ("GET", "/api/v1/reports/traffic"): "date_from <= date_until, less than a year apart",
    ("GET", "/api/v1/reports/settlement"): "date_from <= date_until, less than a year apart",
    ("PUT", "/api/v1/partnerships/{partnership_id}"): "a commission percentage or a fixed amount, not both",
}


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
    cross_field = (case.method.upper(), case.path) in CROSS_FIELD_RULES
    response = case.call_and_validate(
        headers=None if dropped else bearer,
        excluded_checks=[positive_data_acceptance]
        if cross_field
        else None,  # every other check, the defaults
    )
    if cross_field and response.status_code == 422:
        assert response.json()["error"]["fields"], response.text


def _bearer(user) -> dict:
    secret = api_token_create(actor=actor_for(user), name="schemathesis")[1]
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def staff_bearer(transactional_db, cast, partners) -> dict:
    return _bearer(cast.bob)


@pytest.fixture
def admin_bearer(transactional_db, cast, partners) -> dict:
    return _bearer(cast.alice)


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


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_x1_the_api_keeps_its_schema_for_the_institutions_administrator(case, admin_bearer):
    """The administrator's own operations too (partnerships, traffic channels, reports, the audit log)."""
    _call(case, admin_bearer)
