"""Production serving: the probes a load balancer asks, and structured logs carrying the request id."""

import json
import logging

import pytest
from django.db import DatabaseError
from django.db.migrations.executor import MigrationExecutor

from medbook.core.logs import JsonFormatter, RequestIdFilter

pytestmark = pytest.mark.django_db


def test_healthz_and_readyz_answer_without_a_login(client):
    assert client.get("/healthz").content == b"ok\n"
    ready = client.get("/readyz")
    assert (ready.status_code, ready.content) == (200, b"ready\n")
    assert "no-cache" in ready["Cache-Control"] or "max-age=0" in ready["Cache-Control"]


def test_readyz_is_503_with_a_pending_migration_or_without_the_database(client, monkeypatch):
    monkeypatch.setattr(MigrationExecutor, "migration_plan", lambda self, targets: [("scheduling", "9999")])
    answer = client.get("/readyz")
    assert (answer.status_code, answer.content) == (503, b"1 migrations pending\n")
    monkeypatch.undo()

    def broken(self, targets):
        raise DatabaseError("connection refused")

    monkeypatch.setattr(MigrationExecutor, "migration_plan", broken)
    assert client.get("/readyz").status_code == 503


def test_a_request_carries_its_id_into_the_response_and_every_log_line(client, caplog):
    with caplog.at_level(logging.WARNING, logger="django.request"):
        answer = client.get("/no-such-page/", HTTP_X_REQUEST_ID="req-42abc")
    ours = answer["X-Request-ID"]
    assert answer.status_code == 404 and len(ours) == 32 and ours != "req-42abc"  # the server's own id
    record = next(r for r in caplog.records if r.name == "django.request")
    RequestIdFilter().filter(record)
    line = json.loads(JsonFormatter().format(record))
    assert (line["request_id"], line["level"], line["status"]) == (ours, "WARNING", 404)
    assert line["message"] == "Not Found: /no-such-page/"
