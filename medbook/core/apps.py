from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "medbook.core"
    label = "core"
