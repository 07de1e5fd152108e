from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo data of the quick start (`seed_demo`): on top of every other app, used by none."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "medbook.demo"
    label = "demo"
