from django.apps import AppConfig


class OnlineConfig(AppConfig):
    name = "medbook.online"
    label = "online"
