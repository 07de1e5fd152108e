from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "medbook.notifications"
    label = "notifications"
