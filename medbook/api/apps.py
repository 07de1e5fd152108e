from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "medbook.api"
    label = "api"
    verbose_name = "API"
