"""Every act the audit log records (X-3): one name per act, used by the services that perform it."""

from enum import StrEnum


class AuditAction(StrEnum):
    """What was done."""

    BOOKING_CREATE = "booking.create"
    BOOKING_MOVE = "booking.move"
    BOOKING_CANCEL = "booking.cancel"
    BOOKING_NOTE = "booking.note"
    PATIENT_CREATE = "patient.create"
    PATIENT_UPDATE = "patient.update"
    PATIENT_PARTNER_SEARCH = "patient.partner_search"
    PATIENT_PARTNER_OPEN = "patient.partner_open"
    PARTNER_INVITE = "partner.invite"
    PARTNER_INVITATION_RESEND = "partner.invitation_resend"
    PARTNER_REGISTER = "partner.register"
    PARTNER_LINK_RENEW = "partner.link_renew"
    PARTNERSHIP_UPDATE = "partnership.update"
    PARTNERSHIP_END = "partnership.end"
    PARTNERSHIP_SERVICE_SET = "partnership.service_set"
    PARTNERSHIP_APPROVE = "partnership.approve"
    PARTNERSHIP_DECLINE = "partnership.decline"
    GTC_ACCEPT = "gtc.accept"
    MEMBER_INVITE = "member.invite"
    MEMBER_PERMISSIONS_SET = "member.permissions_set"
    MEMBER_ACTIVATE = "member.activate"
    MEMBER_DEACTIVATE = "member.deactivate"
    FEED_RENEW = "feed.renew"
    FEED_REVOKE = "feed.revoke"
    TWO_FACTOR_ENABLE = "account.two_factor_enable"
    TWO_FACTOR_DISABLE = "account.two_factor_disable"
