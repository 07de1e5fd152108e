"""Issue 19: a superscript digit in an id ("¹": a digit to str.isdigit(), not to int()) answered 500 on a page
and on FHIR URLs. One parser of ids (medbook.core.ids) reads ASCII digits only: anything else is not an id."""

import pytest
from django.http import Http404
from django.urls import reverse

from medbook.core.ids import MAX_ID, parse_id, parse_id_or_none

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("text", ["¹", "²³", "1¹", "١٢", "１", " 7\n", str(MAX_ID + 1), "0", "-3", "", "1e3"])
def test_finding_superscript_digits_are_not_ids(text):
    if text.strip() == "7":
        assert parse_id(text) == 7
        return
    with pytest.raises(Http404):
        parse_id(text)
    assert parse_id_or_none(text) is None


def test_finding_superscript_id_in_a_form_of_ids_is_a_form_error_not_a_500(cast, login):
    client = login(cast.alice)
    body = {"full_name": "Dr. Gamma", "specialty": "x", "locations": ["¹"], "is_active": "on"}
    answer = client.post(reverse("institutions:physician-create"), body)
    assert answer.status_code == 422 and "Dr. Gamma" in answer.content.decode()  # shown again, with the error
    body["locations"] = ["9" * 19]  # past the largest id
    assert client.post(reverse("institutions:physician-create"), body).status_code == 422


def test_finding_superscript_id_in_a_partners_booking_page_is_a_4xx(cast, partners, login):
    client = login(partners.peter)
    answer = client.get(
        reverse("partners:book-slot"),
        {"slot_location": "¹", "slot_physician": "²", "slot_service": "³", "starts_at": "x"},
    )
    assert answer.status_code == 404  # not an offer of P, as an unknown id
