from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "medbook.reports"
    label = "reports"
    verbose_name = "Reports"
