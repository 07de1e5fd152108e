"""Factories for institutions, locations, physicians and services."""

from datetime import date, time, timedelta
from decimal import Decimal

import factory

from medbook.accounts.models import Membership, Organization, User
from medbook.institutions.models import Institution, Location, Physician, Service
from medbook.scheduling.models import ScheduleException, WorkingHours
from medbook.scheduling.services import institution_create

PASSWORD = "Test-pass-2026"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("email",)
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    full_name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def saved(obj, create, extracted, **kwargs):  # noqa: N805
        if create:
            obj.save()


class InstitutionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Institution

    kind = Organization.Kind.INSTITUTION
    name = factory.Sequence(lambda n: f"Clinic {n}")
    time_zone = "Europe/Budapest"
    registration_number = "01-09-123456"
    tax_number = "12345676-2-41"
    address = "Budapest"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        kwargs.pop("kind", None)
        return institution_create(**kwargs)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(InstitutionFactory)
    role = Membership.Role.STAFF


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location

    institution = factory.SubFactory(InstitutionFactory)
    name = factory.Sequence(lambda n: f"Site {n}")
    address = "1 Main Street"


class PhysicianFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Physician
        skip_postgeneration_save = True

    institution = factory.SubFactory(InstitutionFactory)
    full_name = factory.Sequence(lambda n: f"Dr. Physician {n}")
    specialty = "Cardiology"

    @factory.post_generation
    def locations(self, create, extracted, **kwargs):
        if create and extracted:
            self.locations.set(extracted)


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service
        skip_postgeneration_save = True

    institution = factory.SubFactory(InstitutionFactory)
    name = factory.Sequence(lambda n: f"Examination {n}")
    duration_minutes = 30
    price = Decimal("12000.00")
    currency = "HUF"

    @factory.post_generation
    def locations(self, create, extracted, **kwargs):
        if create and extracted:
            self.locations.set(extracted)

    @factory.post_generation
    def physicians(self, create, extracted, **kwargs):
        if create and extracted:
            self.physicians.set(extracted)


def weekly_hours(physician, location, start=time(8), end=time(16), weekdays=range(7)) -> None:
    """Give a physician the same working hours at a location on the given weekdays."""
    WorkingHours.objects.bulk_create(
        WorkingHours(physician=physician, location=location, weekday=d, start_time=start, end_time=end)
        for d in weekdays
    )


class WorkingHoursFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WorkingHours

    physician = factory.SubFactory(PhysicianFactory)
    location = factory.SubFactory(
        LocationFactory, institution=factory.SelfAttribute("..physician.institution")
    )
    weekday = WorkingHours.Weekday.MONDAY
    start_time = time(8)
    end_time = time(12)


class ScheduleExceptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ScheduleException

    physician = factory.SubFactory(PhysicianFactory)
    location = None
    kind = ScheduleException.Kind.LEAVE
    date_from = factory.LazyFunction(lambda: date.today() + timedelta(days=30))
    date_until = factory.LazyAttribute(lambda exception: exception.date_from + timedelta(days=4))
