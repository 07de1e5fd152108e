"""Issue 19: the iCalendar feed token was stored in plain text. Only its SHA-256 is kept; the address is shown
once, when it is made; the addresses given before the change keep working."""

import importlib
import re

import pytest
from django.apps import apps
from django.urls import reverse

from medbook.accounts.models import Membership
from medbook.partners.models import CalendarFeed

pytestmark = pytest.mark.django_db

FEED_SETTINGS = reverse("partners:feed-settings")
LIST = reverse("partners:booking-list")


def _shown_path(page: str) -> str | None:
    found = re.search(r'data-testid="feed-url">https?://[^/]+(/[^<]+)<', page)
    return found.group(1) if found else None


def test_finding_feed_token_is_hashed_at_rest_and_shown_once(cast, partners, login, client):
    peter = login(partners.peter)
    peter.post(FEED_SETTINGS, {"action": "renew"})
    first = peter.get(LIST).content.decode()
    path = _shown_path(first)
    assert path is not None and "shown only this once" in first
    token = path.rsplit("/", 1)[-1].removesuffix(".ics")
    stored = CalendarFeed.objects.get()
    assert stored.token_hash == CalendarFeed.hash_of(token) and token not in stored.token_hash
    assert len(token) >= 43  # 256 random bits
    # A copy of the database opens nothing: the stored value is no address.
    assert client.get(reverse("partners:feed", args=[stored.token_hash])).status_code == 404
    assert client.get(path).status_code == 200
    again = peter.get(LIST).content.decode()
    assert _shown_path(again) is None and token not in again
    assert "cannot be shown again" in again and "Make a new address" in again


def test_finding_feed_addresses_made_before_hashing_keep_working(cast, partners, client):
    membership = Membership.objects.get(user=partners.peter)
    old_token = "plain-token-from-before-issue-19-aaaaaaaaaaaaaaaa"
    # A row as the rename leaves it: the plain token in the column that becomes the hash.
    CalendarFeed.objects.create(membership=membership, token_hash=old_token)
    migration = importlib.import_module("medbook.partners.migrations.0006_calendar_feed_token_hash")
    migration.hash_tokens(apps, None)
    assert CalendarFeed.objects.get().token_hash == CalendarFeed.hash_of(old_token)
    assert client.get(reverse("partners:feed", args=[old_token])).status_code == 200


def test_finding_feed_page_in_hungarian_says_the_address_is_shown_once(cast, partners, login):
    peter = login(partners.peter)
    peter.post(reverse("core:language-set"), {"language": "hu"})
    peter.post(FEED_SETTINGS, {"action": "renew"})
    first, again = peter.get(LIST).content.decode(), peter.get(LIST).content.decode()
    assert "csak ez az egy alkalommal látható" in first and "shown only this once" not in first
    assert "többé nem jeleníthető meg" in again and "cannot be shown again" not in again
