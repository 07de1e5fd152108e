"""`/healthz` (the process answers) and `/readyz` (the database answers and every migration is applied), for
a load balancer or an orchestrator: plain text, no session, no login, never cached."""

from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache


@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok\n", content_type="text/plain")


@never_cache
def readyz(request: HttpRequest) -> HttpResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError:
        return HttpResponse("database unavailable\n", status=503, content_type="text/plain")
    if pending:
        return HttpResponse(f"{len(pending)} migrations pending\n", status=503, content_type="text/plain")
    return HttpResponse("ready\n", content_type="text/plain")
