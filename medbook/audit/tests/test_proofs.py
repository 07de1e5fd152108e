"""Issue 20: an institution's admin sees each entry's inclusion proof and fetches the signed tree head with a
consistency proof; the public key is published; another institution's entry answers 404."""

import base64
import os
import subprocess
import sys

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.conf import settings
from django.urls import reverse
from django.utils.dateparse import parse_datetime

from medbook.accounts.actor import actor_for
from medbook.accounts.tokens import api_token_create
from medbook.audit import merkle, signing
from medbook.audit.actions import AuditAction
from medbook.audit.sealer import audit_seal
from medbook.audit.services import audit_record

pytestmark = pytest.mark.django_db
HEAD = "/api/v1/audit/tree-head"


def _record(actor, obj, **details):
    return audit_record(actor=actor, action=AuditAction.BOOKING_NOTE, obj=obj, **details)


def _head(client, user, **params):
    token = api_token_create(actor=actor_for(user), name="audit")[1]
    return client.get(HEAD, params, HTTP_AUTHORIZATION=f"Bearer {token}")


def test_x3_admin_sees_an_entrys_inclusion_proof_that_verifies(cast, login):
    alice = cast.actor(cast.alice)
    entries = [_record(alice, cast.location_a1, n=n) for n in range(5)]
    audit_seal()
    client = login(cast.alice)
    assert (
        reverse("audit:entry-proof", args=[entries[2].pk])
        in client.get(reverse("audit:entry-list")).content.decode()
    )
    response = client.get(reverse("audit:entry-proof", args=[entries[2].pk]))
    content = response.content.decode()
    assert response.status_code == 200 and 'data-testid="audit-proof-verified"' in content
    path = [bytes.fromhex(node) for node in response.context["proof"].path]
    head = response.context["proof"].head
    assert len(path) == 3 and head.size == 5 and head.root_hash in content and head.signature in content
    assert merkle.verify_inclusion(
        2, 5, bytes.fromhex(entries[2].leaf_hash), path, bytes.fromhex(head.root_hash)
    )


def test_x3_an_unsealed_entry_says_so(cast, login):
    entry = _record(cast.actor(cast.alice), cast.location_a1)
    response = login(cast.alice).get(reverse("audit:entry-proof", args=[entry.pk]))
    assert response.status_code == 200 and 'data-testid="audit-unsealed"' in response.content.decode()


def test_x3_another_institutions_entry_proof_answers_404_and_staff_403(cast, login):
    a_entry = _record(cast.actor(cast.alice), cast.location_a1)
    platform_entry = audit_record(actor=None, action=AuditAction.FEED_RENEW, obj=None)
    audit_seal()
    charlie = login(cast.charlie)
    assert charlie.get(reverse("audit:entry-proof", args=[a_entry.pk])).status_code == 404
    assert charlie.get(reverse("audit:entry-proof", args=[platform_entry.pk])).status_code == 404
    assert login(cast.bob).get(reverse("audit:entry-proof", args=[a_entry.pk])).status_code == 403


def test_x3_the_public_key_page_is_public_and_matches_the_signing_key(client):
    response = client.get(reverse("audit:public-key"))
    assert response.status_code == 200
    assert signing.public_key_base64() in response.content.decode()
    assert "BEGIN PUBLIC KEY" in response.content.decode()


def test_x3_admins_get_the_signed_tree_head_and_a_consistency_proof_through_the_api(client, cast):
    alice = cast.actor(cast.alice)
    _record(alice, cast.location_a1)
    _record(alice, cast.location_a1)
    _record(alice, cast.location_a1)
    audit_seal()
    kept = _head(client, cast.alice).json()  # yesterday's head, kept by the admin
    for n in range(4):
        _record(alice, cast.location_a1, n=n)
    audit_seal()
    answer = _head(client, cast.alice, from_size=kept["tree_size"])
    today = answer.json()
    first, second = kept["tree_size"], today["tree_size"]
    assert answer.status_code == 200 and first == 3 and second >= 7  # (+ the audited token creations)
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(today["public_key"]))
    message = signing.head_message(
        log=f"medbook-audit/institution/{cast.institution_a.pk}",
        size=second,
        root_hash=today["root_hash"],
        timestamp=parse_datetime(today["timestamp"]),  # as signed: microseconds kept
    )
    assert signing.signature_valid(message, today["signature"], key)
    proof = [bytes.fromhex(node) for node in today["consistency_proof"]]
    assert merkle.verify_consistency(
        3, 7, bytes.fromhex(kept["root_hash"]), bytes.fromhex(today["root_hash"]), proof
    )


def test_x3_the_tree_head_api_is_each_admins_own_institutions(client, cast, partners):
    _record(cast.actor(cast.alice), cast.location_a1)
    audit_seal()
    assert _head(client, cast.alice).json()["tree_size"] == 1
    b_head = _head(client, cast.charlie)
    assert b_head.status_code == 200 and b_head.json()["tree_size"] == 0
    assert b_head.json()["log"] == f"medbook-audit/institution/{cast.institution_b.pk}"
    assert _head(client, cast.bob).status_code == 403
    assert _head(client, partners.paula).status_code == 403
    assert _head(client, cast.alice, from_size=2).status_code == 409  # larger than the tree, so far


def test_x3_without_an_audit_signing_key_production_refuses_to_start(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "AUDIT_", "DEBUG"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        SECRET_KEY="a-production-key-" + "x7Qm" * 12,
        DATABASE_URL=f"sqlite:///{tmp_path / 'deploy.sqlite3'}",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0 and "AUDIT_SIGNING_KEY is not set" in result.stderr
