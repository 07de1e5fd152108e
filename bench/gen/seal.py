"""The audit trees of the generated log, built by the application's own sealer after the load.

COPY fires the queue trigger (audit_auditentry_enqueue) for every entry it inserts, so after the load every
generated entry waits in audit_auditpending, as entries written by the application would. Here the sealer
(`medbook.audit.sealer`, what `run_worker` runs) integrates them in large batches in this process, each leaf
hash computed from the entry's content, and the heads the sealer's once-a-second rule left unsigned are
signed, so that `audit_verify` finds every tree whole and every leaf covered by a signed head.
"""

from django.db import transaction
from django.db.models import F

BATCH_SIZE = 50_000  # entries appended to one tree per transaction (the sealer's own default is 2,000)


def seal_generated(*, batch_size: int = BATCH_SIZE) -> dict[str, int]:
    """Seal every queued entry and sign every tree's final head; the counts of entries, trees and heads."""
    from medbook.audit import sealer
    from medbook.audit.models import AuditPending, AuditTree, AuditTreeHead

    appended = sealer.audit_seal(batch_size=batch_size)
    for pk in AuditTree.objects.filter(size__gt=F("signed_size")).values_list("pk", flat=True):
        with transaction.atomic():
            tree = AuditTree.objects.select_for_update().get(pk=pk)
            if tree.size > tree.signed_size:
                sealer.head_sign(tree=tree)
    left = AuditPending.objects.count()
    if left:
        raise RuntimeError(
            f"{left} generated audit entries were left unsealed (their content or tree is wrong)"
        )
    return {
        "entries": appended,
        "trees": AuditTree.objects.count(),
        "heads": AuditTreeHead.objects.count(),
    }
