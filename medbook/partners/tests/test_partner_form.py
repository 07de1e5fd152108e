"""P-1, P-4 … P-7: adding a partner validates legal details and settings; bad input is a clear message."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from medbook.audit.models import AuditEntry
from medbook.notifications.models import OutboxMessage
from medbook.partners import validators
from medbook.partners.models import Partner, Partnership
from medbook.partners.tests.factories import partnership_make
from medbook.partners.tests.helpers import ADD, LIST, partner_form

pytestmark = pytest.mark.django_db


def errors_of(response) -> str:
    assert response.status_code == 422  # a submitted form shown again with its errors
    return response.content.decode()


def test_p1_admin_adds_a_partner_with_normalised_legal_details(cast, gtc, login):
    response = login(cast.alice).post(ADD, partner_form(cast))
    assert response.status_code == 302 and response["Location"] == LIST
    partner = Partner.objects.get()
    assert (partner.kind, partner.registration_number, partner.tax_number) == (
        "partner",
        "01-09-333333",
        "21234505-2-42",
    )
    assert partner.contact_email == "wanda@west.test" and partner.contact_phone == "+36 30 123 4567"
    partnership = Partnership.objects.get()
    assert partnership.status == Partnership.Status.PENDING_REGISTRATION
    assert partnership.commission_percent == Decimal("12.50") and partnership.commission_fixed is None
    assert partnership.payment_location == "partner" and partnership.patient_data_access is False
    assert list(partnership.locations.all()) == [cast.location_a1]
    assert (
        partnership.channel.code == f"partner-{partner.pk}" and partnership.channel.partner_id == partner.pk
    )
    listing = login(cast.alice).get(LIST).content.decode()
    assert "Westside Physicians Kft." in listing and "Pending registration" in listing


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("tax_number", "12345678-2-41", "not valid (check digit)"),
        ("tax_number", "1234", "Enter the Hungarian tax number as 23456787-2-13."),
        ("tax_number", "", "This field is required."),
        ("tax_number", "21234505-2-99", "not a county code"),
        ("registration_number", "", "This field is required."),
        ("registration_number", "123456", "Cg. 01-09-123456"),
        ("registration_number", "99-09-123456", "Cg. 01-09-123456"),
        ("contact_phone", "12", "Enter a valid phone number"),
        ("contact_email", "not-an-email", "Enter a valid email address."),
    ],
)
def test_p1_invalid_legal_details_are_refused_with_a_clear_message(cast, login, field, value, message):
    content = errors_of(login(cast.alice).post(ADD, partner_form(cast, **{field: value})))
    assert message in content
    assert not Partner.objects.exists() and not OutboxMessage.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("tax_number", "80000008-1-41"),  # starts with 8: a private person
        ("tax_number", "8123456789"),  # ten-digit adóazonosító jel
        ("name", "Dr. Kovács János"),
        ("name", "Kovács János e.v."),
        ("name", "Anna Smith"),
    ],
)
def test_p1_natural_person_is_refused(cast, login, field, value):
    content = errors_of(login(cast.alice).post(ADD, partner_form(cast, **{field: value})))
    assert "Only legal entities can be partners" in content
    assert not Partner.objects.exists()


@pytest.mark.parametrize(
    "name", ["CallCenter Ltd", "Westside Physicians Kft.", "Alpha Zrt.", "Beta Bt", "Gamma GmbH", "Delta LLC"]
)
def test_p1_company_names_with_a_legal_form_are_accepted(name):
    assert validators.validate_company_name(name) == name


def test_p1_tax_numbers_of_other_countries_are_checked_with_stdnum():
    assert validators.validate_tax_number("ATU 1358 5627", "AT") == "U13585627"
    with pytest.raises(ValidationError):
        validators.validate_tax_number("ATU13585626", "AT")


def test_p1_duplicate_partner_is_refused(cast, gtc, login):
    client = login(cast.alice)
    assert client.post(ADD, partner_form(cast)).status_code == 302
    content = errors_of(client.post(ADD, partner_form(cast, contact_email="other@west.test")))
    assert "Westside Physicians Kft. is already a partner of your institution." in content
    assert Partnership.objects.count() == 1 and Partner.objects.count() == 1


def test_p1_same_registration_number_with_another_tax_number_is_refused(cast, gtc, login):
    client = login(cast.alice)
    client.post(ADD, partner_form(cast))
    content = errors_of(
        login(cast.charlie).post(
            ADD, partner_form(cast, tax_number="21234512-2-42", locations=[cast.location_b.pk])
        )
    )
    assert "registered with another tax number" in content
    assert Partnership.objects.count() == 1


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"commission_percent": "100.01"}, "The percentage must be between 0 and 100."),
        ({"commission_percent": "-1"}, "The percentage must be between 0 and 100."),
        ({"commission_fixed": "1500"}, "Enter either a percentage or a fixed amount, not both."),
        ({"commission_percent": ""}, "Enter either a percentage or a fixed amount per booking."),
        ({"commission_percent": "", "commission_fixed": "-5"}, "The fixed amount cannot be negative."),
        ({"commission_percent": "10.123"}, "Ensure that there are no more than 2 decimal places."),
    ],
)
def test_p5_commission_must_be_one_valid_rule(cast, login, overrides, message):
    content = errors_of(login(cast.alice).post(ADD, partner_form(cast, **overrides)))
    assert message in content
    assert not Partnership.objects.exists()


def test_p5_fixed_commission_is_saved_and_no_commission_clears_both(cast, gtc, login):
    client = login(cast.alice)
    client.post(ADD, partner_form(cast, commission_percent="", commission_fixed="1500.00"))
    assert Partnership.objects.get().commission_fixed == Decimal("1500.00")
    client.post(
        ADD,
        partner_form(
            cast,
            name="Other Kft.",
            registration_number="01-09-444444",
            tax_number="21234512-2-42",
            commission_enabled="False",
            commission_percent="50",
        ),
    )
    other = Partnership.objects.get(partner__name="Other Kft.")
    assert (other.commission_enabled, other.commission_percent, other.commission_fixed) == (False, None, None)


def test_p5_database_refuses_two_commission_rules(cast, partners):
    with pytest.raises(IntegrityError), transaction.atomic():
        Partnership.objects.filter(pk=partners.partnership_p.pk).update(commission_fixed=Decimal("10"))
    with pytest.raises(IntegrityError), transaction.atomic():
        Partnership.objects.filter(pk=partners.partnership_p.pk).update(commission_percent=Decimal("100.5"))


def test_p4_another_institutions_location_cannot_be_chosen(cast, login):
    content = errors_of(login(cast.alice).post(ADD, partner_form(cast, locations=[cast.location_b.pk])))
    assert "Select a valid choice" in content
    assert not Partnership.objects.exists()


def test_p4_at_least_one_location_is_required(cast, login):
    content = errors_of(login(cast.alice).post(ADD, partner_form(cast, locations=[])))
    assert "This field is required." in content


def test_p4_p6_p7_modify_changes_settings_and_is_audited(cast, partners, login):
    partnership = partners.partnership_p
    url = f"/administration/partners/{partnership.pk}/"
    client = login(cast.alice)
    assert "CallCenter Ltd" in client.get(url).content.decode()
    data = partner_form(
        cast,
        locations=[cast.location_a1.pk, cast.location_a2.pk],
        payment_location="partner",
        patient_data_access="True",
        commission_percent="",
        commission_fixed="2000",
    )
    response = client.post(url, data)
    assert response.status_code == 302
    partnership.refresh_from_db()
    assert set(partnership.locations.all()) == {cast.location_a1, cast.location_a2}
    assert partnership.payment_location == "partner" and partnership.patient_data_access is True
    assert (partnership.commission_percent, partnership.commission_fixed) == (None, Decimal("2000.00"))
    # A registered partner keeps its own legal details.
    assert partnership.partner.name == "CallCenter Ltd"
    entry = AuditEntry.objects.get(action="partnership.update")
    assert entry.user == cast.alice and entry.institution == cast.institution_a
    assert entry.details["changes"]["payment_location"] == ["institution", "partner"]


def test_p8_p14_institution_changes_its_own_contact_never_the_partners_legal_record(cast, gtc, login):
    client = login(cast.alice)
    client.post(ADD, partner_form(cast))
    partnership = Partnership.objects.get()
    response = client.post(
        f"/administration/partners/{partnership.pk}/",
        partner_form(cast, name="Westside Medical Kft.", contact_email="new@west.test"),
    )
    assert response.status_code == 302
    partnership.refresh_from_db()
    partnership.partner.refresh_from_db()
    assert partnership.partner.name == "Westside Physicians Kft."  # the partner's own record
    assert partnership.contact_email == "new@west.test"
    assert partnership.partner.contact_email == "wanda@west.test"
    # The new contact gets a new link; the old one stops working.
    assert OutboxMessage.objects.filter(to_email="new@west.test").count() == 1
    assert AuditEntry.objects.get(action="partnership.update").details["changes"]["contact_email"] == [
        "wanda@west.test",
        "new@west.test",
    ]


def test_p8_another_institutions_partner_is_not_found(cast, partners, login):
    client = login(cast.charlie)
    pk = partners.partnership_p.pk
    for url in (f"/administration/partners/{pk}/", f"/administration/partners/{pk}/delete/"):
        assert client.get(url).status_code == 404
        assert client.post(url, {"future_bookings": "cancel"}).status_code == 404
    assert client.post(f"/administration/partners/{pk}/resend/").status_code == 404
    partners.partnership_p.refresh_from_db()
    assert partners.partnership_p.status == Partnership.Status.ACTIVE


def test_p8_ended_partnership_cannot_be_modified(cast, partners, login):
    p = partnership_make(cast.institution_a, partners.partner_q, status=Partnership.Status.ENDED)
    response = login(cast.alice).post(f"/administration/partners/{p.pk}/", partner_form(cast))
    assert "has ended and can no longer be changed" in errors_of(response)


def test_p1_the_tax_number_hint_passes_the_forms_own_check():
    from medbook.partners.forms.module import PartnerForm
    from medbook.partners.validators import validate_tax_number

    hint = str(PartnerForm.base_fields["tax_number"].help_text).split(": ", 1)[1]
    assert validate_tax_number(hint, "HU")
