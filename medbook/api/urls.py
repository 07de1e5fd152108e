"""The API's root: the JSON API under /api/v1/, its OpenAPI schema at /api/openapi.json, docs at /api/docs."""

from django.http import HttpRequest
from ninja import NinjaAPI
from ninja.security import HttpBearer

from medbook.accounts.models import ApiToken
from medbook.api import v1
from medbook.api.access import token_actor
from medbook.api.v1 import audit, errors


class TokenAuth(HttpBearer):
    """`Authorization: Bearer <token>`, checked by the one check of FHIR's too (`access.token_actor`)."""

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        return token_actor(request, token)


api = NinjaAPI(
    title="MedBook API",
    version="1",
    description=(
        "Everything a partner user or an institution's staff do on the pages, for their own software. "
        'Authenticate with a personal token (`Authorization: Bearer <token>`, made on the "API tokens" '
        "page or with `manage.py api_token_create`). Errors share one shape: "
        '`{"error": {"status", "code", "message", "fields"}}`. Times are ISO 8601 in UTC.'
    ),
    auth=TokenAuth(),
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
)
errors.install(api)
api.add_router("/v1/", v1.router, tags=["v1"])
api.add_router("/v1/audit/", audit.router, tags=["v1"])
