"""Choosing the interface language (X-5): the page follows, and so do the user's emails."""

import pytest
from django.urls import reverse

from conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_x5_logged_in_user_switches_to_hungarian_and_keeps_it(cast, login):
    client = login(cast.bob)
    response = client.post(reverse("core:language-set"), {"language": "hu", "next": "/patients/"})
    assert response.status_code == 302 and response["Location"] == "/patients/"
    cast.bob.refresh_from_db()
    assert cast.bob.language == "hu"
    assert "Páciensek" in client.get("/patients/").content.decode()


def test_x5_unknown_language_changes_nothing(cast, login):
    client = login(cast.bob)
    assert client.post(reverse("core:language-set"), {"language": "xx"}).status_code == 302
    cast.bob.refresh_from_db()
    assert cast.bob.language == "en"


def test_x5_login_switches_to_the_users_language(cast, client):
    cast.bob.language = "hu"
    cast.bob.save()
    response = client.post(reverse("accounts:login"), {"username": cast.bob.email, "password": PASSWORD})
    assert response.status_code == 302
    assert client.cookies["django_language"].value == "hu"
    assert 'lang="hu"' in client.get("/patients/").content.decode()


def test_x5_anonymous_visitor_can_choose_the_language(client, db):
    page = client.get(reverse("accounts:login")).content.decode()
    assert 'name="language"' in page
    client.post(reverse("core:language-set"), {"language": "hu", "next": "/accounts/login/"})
    assert "Bejelentkezés" in client.get(reverse("accounts:login")).content.decode()


def test_x5_the_language_chosen_on_the_login_page_is_kept_at_login(cast, client):
    assert cast.bob.language == "en"
    client.post(reverse("core:language-set"), {"language": "hu", "next": "/accounts/login/"})
    response = client.post(reverse("accounts:login"), {"username": cast.bob.email, "password": PASSWORD})
    assert response.status_code == 302
    assert client.cookies["django_language"].value == "hu"
    cast.bob.refresh_from_db()
    assert cast.bob.language == "hu"  # and the e-mails follow
    assert 'lang="hu"' in client.get("/patients/").content.decode()
