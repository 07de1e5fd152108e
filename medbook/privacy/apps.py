from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "medbook.privacy"
    label = "privacy"
