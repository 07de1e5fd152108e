from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "medbook.accounts"
    label = "accounts"

    def ready(self) -> None:
        """Connect the login signals (the audit of logins, session times, the delay after a wrong password)."""
        from medbook.accounts import security, signals  # noqa: F401
