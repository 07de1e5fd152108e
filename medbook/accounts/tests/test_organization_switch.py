"""Switching the organisation one acts for: a bad "next" never answers a server error."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("target", ["-1", "x" * 300, "https://evil.example/"])
def test_x_switch_with_a_bare_word_or_foreign_next_redirects_safely(cast, login, target):
    response = login(cast.alice).post(reverse("accounts:organization-switch"), {"next": target})
    assert response.status_code == 302
    assert response["Location"] in (target, "/") and "evil" not in response["Location"]
