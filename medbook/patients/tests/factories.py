"""Factories for patients."""

import factory

from medbook.institutions.tests.factories import InstitutionFactory
from medbook.patients.models import Patient


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    institution = factory.SubFactory(InstitutionFactory)
    full_name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"patient{n}@example.test")
