"""The API's root: the JSON API under /api/v1/, its OpenAPI schema at /api/openapi.json, docs at /api/docs."""

from ninja import NinjaAPI

from medbook.api import audit, errors, v1
from medbook.api.auth import TokenAuth

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
