"""`python manage.py api_token_create EMAIL [--organization NAME] [--read-only] [--days N]`: print a new token.

For operators and scripts: the token acts as the user for the organisation (the user's first when not
named), exactly like one made on the "API tokens" page; the act is audited as the operator's.
"""

from django.core.management.base import BaseCommand, CommandError

from medbook.accounts.actor import actor_for
from medbook.accounts.models import Membership, User
from medbook.accounts.tokens import DEFAULT_DAYS, api_token_create
from medbook.core.errors import DomainError


class Command(BaseCommand):
    help = "Create a personal API token for a user and print it (it is shown only once)."

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--organization", help="the organisation's name (default: the user's first)")
        parser.add_argument("--read-only", action="store_true")
        parser.add_argument("--days", type=int, default=DEFAULT_DAYS)
        parser.add_argument("--name", default="command line")

    def handle(self, *args, email, organization, read_only, days, name, **options):
        user = User.objects.filter(email__iexact=email.strip(), is_active=True).first()
        if user is None:
            raise CommandError(f"No active user {email}.")
        memberships = Membership.objects.filter(user=user, is_active=True, invited_at__isnull=True)
        if organization:
            memberships = memberships.filter(organization__name=organization)
        membership = memberships.order_by("organization__name").first()
        if membership is None:
            raise CommandError(
                f"{email} has no active membership{' of ' + organization if organization else ''}."
            )
        actor = actor_for(user, membership.organization_id)
        try:
            _token, secret = api_token_create(
                actor=actor, name=name, read_only=read_only, days=days, by_operator=True
            )
        except DomainError as error:
            raise CommandError(str(error.message)) from None
        self.stdout.write(secret)
