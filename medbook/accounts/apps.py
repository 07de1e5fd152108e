from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "medbook.accounts"
    label = "accounts"

    def ready(self) -> None:
        """Connect the login signals (session times, the delay after a wrong password)."""
        from medbook.accounts import security  # noqa: F401
