"""The records of processing (GDPR Art. 30; issue 24, G-4): an institution's, and a partner's side of it,
drawn from the live configuration (partnerships, the institution's settings, the platform's settings and
retention windows), never written per institution. One home: the pages and their downloads call these.

The institution is the controller and each partner a recipient and controller of what it keeps (the roles of
docs/privacy.md). A partner is listed once its partnership was activated (it could book, and see what it
booked): as a current recipient while it may book, as a former one after the partnership ended. An
invitation never accepted, or declined, disclosed nothing and is not listed.
"""

from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from medbook.accounts.models import Membership
from medbook.core.permissions import Perm, require, require_audience
from medbook.core.tenancy import Actor, acting
from medbook.institutions.models import Institution
from medbook.online.services import KEPT_AFTER_EXPIRY
from medbook.partners.models import Partner, Partnership
from medbook.privacy.rights import ACCOUNTING_YEARS
from medbook.scheduling.holds import HOLD_MINUTES
from medbook.scheduling.models import Booking

SCHEMA = "medbook.processing-record/1"
PARTNER_SCHEMA = "medbook.partner-processing-record/1"


def institution_for_record(actor: Actor) -> Institution:
    """The institution whose record the actor may read: its own, for its admins (403 for anyone else)."""
    require_audience(actor, "institution")
    require(actor, Perm.VIEW_PROCESSING_RECORD)
    return acting(actor.institution)


def partner_for_record(actor: Actor) -> Partner:
    """The partner whose side the actor may read: its own, for its admins (403 for anyone else)."""
    require_audience(actor, "partner")
    require(actor, Perm.VIEW_PROCESSING_RECORD)
    return acting(actor.partner)


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def _row(code: str, text: str, **more) -> dict:
    return {"code": code, "text": text, **more}


def _names(items) -> list[str]:
    return sorted(item.name for item in items)


# --- The institution's record ----------------------------------------------------------------------------


def processing_record(institution: Institution) -> dict:
    """The institution's record of processing (schema `SCHEMA`, docs/privacy.md), in its language."""
    partnerships = list(
        Partnership.objects.filter(institution=institution, activated_at__isnull=False)
        .select_related("partner")
        .prefetch_related("locations", "services")
        .order_by("partner__name", "-activated_at", "pk")
    )
    current = any(p.is_bookable for p in partnerships)
    with translation.override(institution.language):
        return {
            "schema": SCHEMA,
            "generated_at": timezone.now().isoformat(),
            "language": institution.language,
            "controller": {
                "name": institution.name,
                "registration_number": institution.registration_number,
                "tax_number": institution.tax_number,
                "address": institution.address,
                "country": institution.country,
                "phone": institution.phone,
            },
            "purposes": _purposes(institution, partners=current),
            "data_subjects": _data_subjects(partners=bool(partnerships)),
            "personal_data": _personal_data(),
            "recipients": [_recipient(p) for p in partnerships],
            "processors": _processors(),
            "transfers": list(settings.PRIVACY_TRANSFERS),
            "retention": _retention(institution),
            "security": _security(institution),
        }


def _purposes(institution: Institution, *, partners: bool) -> list[dict]:
    rows = [
        _row("care", _("Booking appointments with the institution's physicians and receiving the patients.")),
        _row(
            "notify", _("Telling patients about their bookings by e-mail: confirmations, changes, reminders.")
        ),
    ]
    if institution.online_booking:
        rows.append(_row("online", _("Online booking by patients on the public booking pages.")))
    if partners:
        rows.append(
            _row("partners", _("Bookings made by partners for their patients, and the partners' statements."))
        )
    rows += [
        _row("reports", _("The institution's statistics and reports.")),
        _row("accountability", _("Accountability and security: the audit log of who saw or changed what.")),
        _row("rights", _("Answering the patients' data-protection requests.")),
        _row(
            "users", _("The accounts of the institution's users: logins, roles, two-factor authentication.")
        ),
    ]
    return rows


def _data_subjects(*, partners: bool) -> list[dict]:
    rows = [
        _row("patients", _("Patients in the register, and people booking online.")),
        _row("staff", _("The institution's users: administrators and reception.")),
    ]
    if partners:
        rows.append(_row("partner_agents", _("Partners' users who book for the institution.")))
    return rows


def _personal_data() -> list[dict]:
    return [
        _row("identity", _("Identity: name, birth date; users' name."), special=False),
        _row("contact", _("Contact: e-mail address, phone number."), special=False),
        _row("taj", _("TAJ number (health-insurance id)."), special=False),
        _row(
            "health",
            _(
                "Bookings: which service, with which physician, where and when — data concerning health (Art. 9)."
            ),
            special=True,
        ),
        _row("attendance", _("Attendance: whether the patient came."), special=True),
        _row("notes", _("Booking notes and cancellation reasons (free text)."), special=True),
        _row("payment", _("Payment: price, payment status, partners' commission."), special=False),
        _row("emails", _("The e-mails sent to patients."), special=False),
        _row("usage", _("Users' logins, actions and IP addresses (audit log)."), special=False),
    ]


def _recipient(partnership: Partnership) -> dict:
    role = _("Recipient; controller of what it keeps in its own systems. Books for its patients.")
    if partnership.patient_data_access:
        role += " " + _("With access to patient data: may search and open the register.")
    return {
        "kind": "partner",
        "id": partnership.partner_id,
        "name": partnership.partner.name,
        "role": "recipient",
        "role_text": role,
        **_terms(partnership),
    }


def _terms(partnership: Partnership) -> dict:
    """What the partnership lets the partner see and do, and from when until when (both records' rows)."""
    return {
        "current": partnership.is_bookable,
        "since": _iso(partnership.activated_at),
        "until": _iso(partnership.ended_at),
        "patient_data_access": partnership.patient_data_access,
        "locations": _names(partnership.locations.all()),
        "services": _names(partnership.services.all()),
    }


def _processors() -> list[dict]:
    rows = [
        {
            "kind": "processor",
            "code": "operator",
            "name": settings.PRIVACY_OPERATOR or _("The platform operator"),
            "role": "processor",
            "role_text": _(
                "Processor (Art. 28): runs the platform on the institution's instructions, sends its e-mails,"
                " keeps the audit log's signing key."
            ),
        }
    ]
    if settings.PRIVACY_HOSTING:
        rows.append(
            {
                "kind": "processor",
                "code": "hosting",
                "name": settings.PRIVACY_HOSTING,
                "role": "sub-processor",
                "role_text": _("Sub-processor: hosts the platform's servers and database."),
            }
        )
    email = settings.PRIVACY_EMAIL_PROVIDER or (settings.EMAIL_URL and getattr(settings, "EMAIL_HOST", ""))
    if email:
        rows.append(
            {
                "kind": "processor",
                "code": "email",
                "name": email,
                "role": "sub-processor",
                "role_text": _("Sub-processor: delivers the platform's e-mails."),
            }
        )
    return rows


def _days(count: int) -> str:
    return translation.ngettext("%(count)s day", "%(count)s days", count) % {"count": count}


def _hours(count: int) -> str:
    return translation.ngettext("%(count)s hour", "%(count)s hours", count) % {"count": count}


def _retention(institution: Institution) -> list[dict]:
    hours = KEPT_AFTER_EXPIRY // timedelta(hours=1)
    return [
        _row(
            "patients",
            _("The patient's record"),
            period=_(
                "%(years)s years after the last visit (the institution's setting), then erased by itself"
            )
            % {"years": institution.retention_years},
        ),
        _row(
            "bookings",
            _("Bookings"),
            period=_(
                "Their personal part with the patient's record; the anonymous row for %(years)s years after the"
                " year of the visit (accounting act)"
            )
            % {"years": ACCOUNTING_YEARS},
        ),
        _row(
            "online_requests",
            _("Online booking requests"),
            period=_("Held %(minutes)s minutes; deleted %(hours)s after the hold expired")
            % {"minutes": HOLD_MINUTES, "hours": _hours(hours)},
        ),
        _row(
            "manage_links",
            _("Patients' manage links"),
            period=_("%(days)s after the booking ended or the link was revoked")
            % {"days": _days(settings.RETENTION_MANAGE_LINK_DAYS)},
        ),
        _row(
            "email_bodies",
            _("Texts of the e-mails sent"),
            period=_("%(days)s after sending (to, subject and time stay with the patient's record)")
            % {"days": _days(settings.RETENTION_EMAIL_BODY_DAYS)},
        ),
        _row(
            "sessions",
            _("Login sessions"),
            period=_("At most %(hours)s; deleted once expired")
            % {"hours": _hours(settings.SESSION_COOKIE_AGE // 3600)},
        ),
        _row(
            "throttle_records",
            _("Records of login and booking attempts"),
            period=_days(settings.RETENTION_THROTTLE_DAYS),
        ),
        _row(
            "audit",
            _("Audit log"),
            period=_("Its personal part until the patient's erasure; the rest as long as the log"),
        ),
        _row("requests", _("Data-protection requests log"), period=_("As long as the audit log")),
    ]


def _security(institution: Institution) -> list[dict]:
    rows = [
        _row(
            "access",
            _(
                "Access by role: administrators, reception and partners' users see only what their role and"
                " partnership allow; another organisation's data is never shown."
            ),
        ),
        _row("two_factor", _two_factor_text(institution)),
        _row(
            "passwords",
            _(
                "Passwords hashed with Argon2id, at least 12 characters; logins refused for a while after"
                " %(count)s wrong passwords."
            )
            % {"count": settings.AXES_FAILURE_LIMIT},
        ),
        _row(
            "sessions",
            _(
                "Sessions end %(hours)s after login and after %(minutes)s minutes without use; the password"
                " again before erasures and role changes."
            )
            % {
                "hours": _hours(settings.SESSION_COOKIE_AGE // 3600),
                "minutes": settings.SESSION_IDLE_TIMEOUT // 60,
            },
        ),
        _row("transit", _transit_text()),
        _row(
            "audit",
            _(
                "An append-only audit log of reads and changes of personal data, in a Merkle tree per"
                " institution with signed tree heads that anyone holding one can verify."
            ),
        ),
        _row(
            "rate_limits",
            _(
                "Rate limits on logins, password resets, online booking and the API (%(api)s per user);"
                " partners' patient searches limited to %(hour)s an hour per user."
            )
            % {"api": settings.API_RATE_LIMIT, "hour": settings.PATIENT_SEARCH_QUOTA_USER_HOUR},
        ),
    ]
    return rows


def _two_factor_text(institution: Institution) -> str:
    if institution.require_two_factor:
        return _("Two-factor authentication (TOTP) required of every user of the institution.")
    if settings.REQUIRE_2FA_FOR_ADMINS:
        return _("Two-factor authentication (TOTP) required of administrators, available to every user.")
    return _("Two-factor authentication (TOTP) available to every user.")


def _transit_text() -> str:
    if settings.SECURE_SSL_REDIRECT or settings.SECURE_HSTS_SECONDS:
        return _("Encryption in transit: HTTPS only (TLS), with HSTS.")
    return _("Encryption in transit is not enforced by the platform's settings: it is left to the proxy.")


# --- The partner's side ----------------------------------------------------------------------------------


def partner_processing_record(partner: Partner) -> dict:
    """The processing the partner does for each institution it works with (schema `PARTNER_SCHEMA`), in the
    partner's language: the institutions whose partnership was activated, what each authorised, how many of
    their bookings and patients the partner made or booked for."""
    partnerships = list(
        Partnership.objects.filter(partner=partner, activated_at__isnull=False)
        .select_related("institution")
        .prefetch_related("locations", "services")
        .order_by("institution__name", "-activated_at", "pk")
    )
    booked = _booked_during(partner, partnerships)
    agents = Membership.objects.filter(organization=partner, is_active=True).count()
    language = partner.contact_language or settings.LANGUAGE_CODE
    with translation.override(language):
        return {
            "schema": PARTNER_SCHEMA,
            "generated_at": timezone.now().isoformat(),
            "language": language,
            "partner": {
                "name": partner.name,
                "registration_number": partner.registration_number,
                "tax_number": partner.tax_number,
                "address": partner.address,
                "country": partner.country,
                "contact": partner.contact_email,
            },
            "role_text": _(
                "For each institution below, the partner receives the institution's data of the patients it"
                " books for, and is the controller of what it keeps in its own systems; the institution is the"
                " controller of its register and bookings."
            ),
            "institutions": [_institution_row(p, booked) for p in partnerships],
            "data_subjects": [
                _row("patients", _("The patients it booked for, at each institution below.")),
                _row("agents", _("Its own users: %(count)s.") % {"count": agents}, count=agents),
            ],
            "personal_data": [
                row
                for row in _personal_data()
                if row["code"] in {"identity", "contact", "taj", "health", "notes"}
            ]
            + [_row("attendance", _("Attendance and payment of its bookings (statements)."), special=True)],
        }


def _booked_during(partner: Partner, partnerships: list[Partnership]) -> dict[str, int]:
    """The partner's bookings at each partnership's institution made while that partnership lasted, and their
    patients (`bookings_<id>`, `patients_<id>`), in one query: a partnership ended and a later one with the
    same institution each count their own."""
    counts = {}
    for partnership in partnerships:
        made = Q(institution_id=partnership.institution_id, created_at__gte=partnership.activated_at)
        if partnership.ended_at is not None:
            made &= Q(created_at__lt=partnership.ended_at)
        counts[f"bookings_{partnership.pk}"] = Count("pk", filter=made)
        counts[f"patients_{partnership.pk}"] = Count("patient_id", filter=made, distinct=True)
    return Booking.objects.filter(partner=partner).aggregate(**counts) if counts else {}


def _institution_row(partnership: Partnership, booked: dict[str, int]) -> dict:
    institution = partnership.institution
    return {
        "id": institution.pk,
        "name": institution.name,
        "address": institution.address,
        **_terms(partnership),
        "bookings": booked[f"bookings_{partnership.pk}"],
        "patients": booked[f"patients_{partnership.pk}"],
    }
