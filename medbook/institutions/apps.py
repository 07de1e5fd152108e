from django.apps import AppConfig


class InstitutionsConfig(AppConfig):
    name = "medbook.institutions"
    label = "institutions"
