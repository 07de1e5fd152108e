"""The benchmark data generator (bench/generate.py, issue 13) at tiny scale, into a throw-away database."""

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from bench.gen.db import database_url  # noqa: E402
from bench.gen.scale import scale_of  # noqa: E402

pytestmark = pytest.mark.postgres


def run(script: str, *arguments: str) -> str:
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), *arguments],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings_test"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.fixture
def bench_database():
    name = f"medbook_bench_test_{os.getpid()}"
    yield name
    with psycopg.connect(
        database_url("postgres", os.environ.get("DATABASE_URL")), autocommit=True
    ) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_x13_generator_fills_a_valid_network_the_app_can_book_into(bench_database):
    output = run("generate.py", "--scale", "tiny", "--database", bench_database, "--seed", "3")
    assert "Every user's password is Bench-pass-2026" in output
    found = json.loads(run("verify.py", "--database", bench_database, "--sample", "500"))
    scale = scale_of("tiny")
    counts = found["counts"]
    assert counts["institutions_institution"] == scale.institutions
    assert counts["institutions_location"] == scale.locations
    assert counts["institutions_physician"] == scale.physicians
    assert counts["institutions_service"] == scale.services
    assert counts["partners_partner"] == scale.partners
    assert counts["partners_partnership"] == scale.partnerships
    assert counts["patients_patient"] == scale.patients
    assert counts["scheduling_booking"] == scale.bookings
    assert counts["audit_auditentry"] > scale.bookings  # each booking's making, and its later changes
    assert counts["notifications_outboxmessage"] > 0
    assert 0.25 <= found["partner_share"] <= 0.35
    assert found["overlapping_active_bookings"] == 0
    assert found["partner_bookings_outside_matrix"] == 0
    assert found["partner_bookings_without_their_patient"] == 0
    assert found["partner_refusals_by_access_rule"] == []
    assert found["outside_hours_or_grid"] == []
    assert found["invalid_taj"] == 0
    assert found["audit_verify_problems"] == []  # every generated entry sealed into its tree, heads signed
    assert counts["audit_auditleaf"] == counts["audit_auditentry"]
    assert counts["audit_auditpending"] == 0
    created = found["new_booking"]
    assert created["created_id"] is not None and created["created_id"] > created["highest_generated_id"]


def test_x13_generator_refuses_to_drop_a_database_not_its_own():
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "generate.py"), "--scale", "tiny", "--database", "medbook"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "refusing to drop 'medbook'" in result.stderr
