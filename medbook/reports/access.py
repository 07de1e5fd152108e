"""Who may open the reports: the institution's side, and the partner's own statements (X-4).

A partner's user never learns that an institution report exists: every institution report answers 404
to an actor acting for a partner, like a missing page.
"""

from medbook.core.decorators import page
from medbook.core.permissions import Perm


def institution_report(perm: Perm):
    """Let through logged-in institution actors with the permission; partners get 404, others 403."""
    return page(perm, audience="institution", hidden=True)


# The administrators of a partner (who settle with the institutions); others get 403.
partner_statements = page(Perm.VIEW_STATEMENTS, audience="partner")
