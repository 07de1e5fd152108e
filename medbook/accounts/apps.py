from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "medbook.accounts"
    label = "accounts"

    def ready(self) -> None:
        from medbook.accounts import signals  # noqa: F401  (connects the login receivers)
