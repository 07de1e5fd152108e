"""Integrate the queued audit entries into their Merkle trees and sign the new heads (run_worker does it
every round; this is the same, once)."""

from django.core.management.base import BaseCommand

from medbook.audit import signing
from medbook.audit.sealer import audit_seal


class Command(BaseCommand):
    help = "Seal the queued audit entries into their institution's Merkle tree and sign the new tree heads."

    def add_arguments(self, parser):
        parser.add_argument(
            "--public-key", action="store_true", help="print the signing key's public half only"
        )

    def handle(self, *args, public_key: bool, **options):
        if public_key:
            self.stdout.write(f"{signing.public_key_base64()} (key id {signing.key_id()})")
            return
        self.stdout.write(f"Audit entries sealed: {audit_seal()}.")
