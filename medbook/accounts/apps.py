from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "medbook.accounts"
    label = "accounts"
