from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "medbook.patients"
    label = "patients"
