from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "medbook.audit"
    label = "audit"
