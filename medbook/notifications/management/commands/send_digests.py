"""`python manage.py send_digests`: write the digest e-mails whose window has ended (the worker does it too)."""

from django.core.management.base import BaseCommand

from medbook.notifications.digest import digests_send


class Command(BaseCommand):
    help = "Write one digest e-mail per recipient and frequency whose window has ended, to the outbox."

    def handle(self, *args, **options) -> None:
        self.stdout.write(f"digests: {digests_send()} written")
