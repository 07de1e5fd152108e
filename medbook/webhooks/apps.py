from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "medbook.webhooks"
    label = "webhooks"
    verbose_name = "Webhooks"
