from django.apps import AppConfig


class PartnersConfig(AppConfig):
    name = "medbook.partners"
    label = "partners"
