"""The JSON API's audit operation: the institution's signed audit tree head, for its admins to keep."""

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from medbook.api.v1.errors import READ_ERRORS, ErrorOut
from medbook.audit.selectors import tree_head_for

router = Router()


class TreeHeadOut(Schema):
    log: str
    tree_size: int
    root_hash: str
    timestamp: str | None = Field(None, description="ISO 8601 in UTC with microseconds, as signed")
    signature: str | None
    key_id: str
    public_key: str
    from_size: int | None
    consistency_proof: list[str] | None


@router.get(
    "/tree-head",
    response={200: TreeHeadOut, **READ_ERRORS, 409: ErrorOut},  # 409: a size the tree has not reached
    summary="The audit log's signed tree head (admin)",
    url_name="audit_tree_head",
    operation_id="medbook_api_audit_audit_tree_head",  # as before the module moved under v1/ (issue 21)
)
def audit_tree_head(request: HttpRequest, from_size: int | None = Query(None, ge=0, le=2**62)):
    """The latest signed head of the institution's audit tree (Ed25519 over log, size, root hash and time;
    docs/audit.md), and with `from_size` the RFC 6962 consistency proof from the head of that size kept
    earlier: keep one a day, so that not even the operator can rewrite the history unnoticed."""
    return tree_head_for(actor=request.actor, from_size=from_size)  # type: ignore[attr-defined]
