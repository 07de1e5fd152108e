from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "medbook.scheduling"
    label = "scheduling"
