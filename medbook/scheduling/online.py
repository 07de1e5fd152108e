"""What an institution offers on its "Online" channel (issue 22, B-13): the one home of that rule.

An institution takes online bookings when its setting `online_booking` is on and its built-in "online"
channel is active; it offers online the active services ticked in that channel's column of Traffic
Channels (`TrafficChannel.services`), at the active locations and with the active physicians that give
them. The public booking pages list by these functions, and the booking and hold services ask
`require_online_offer` for a logged-out patient (`Actor.online`), so the pages and the services cannot
disagree. Whatever an institution does not offer online answers 404, as if it did not exist.
"""

from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from medbook.audit.actions import AuditAction
from medbook.audit.services import audit_record
from medbook.core.errors import DomainError
from medbook.core.permissions import Perm, require
from medbook.core.sql import Compiled, columns, loaded
from medbook.core.tenancy import Actor, acting
from medbook.institutions.models import Institution, Location, Service
from medbook.scheduling.models import TrafficChannel

ONLINE = "online"  # the built-in channel's code (models.BUILTIN_CHANNEL_NAMES)


def online_institutions() -> QuerySet[Institution]:
    """The institutions that take online bookings now, by name."""
    return Institution.objects.filter(
        online_booking=True, channels__code=ONLINE, channels__is_active=True
    ).order_by("name")


def online_institution(pk: int) -> Institution:
    """The institution with this id if it takes online bookings; any other (or none) is 404."""
    found = online_institutions().filter(pk=pk).first()
    if found is None:
        raise Http404()
    return found


def online_services(institution: Institution) -> QuerySet[Service]:
    """The institution's active services ticked in its Online column (none when it takes no online
    bookings)."""
    if not institution.online_booking:
        return Service.objects.none()
    return _offered_online().filter(institution=institution).order_by("name")


def online_service(*, institution_id: int, service_id: int) -> Service:
    """The service with this id if that institution offers it online, read with its institution in one
    query; any other (or none) is 404."""
    rows = _ONLINE_SERVICE.rows(institution_id=institution_id, service_id=service_id)
    if not rows:
        raise Http404()
    service, institution = loaded(rows[0], Service, Institution)
    service.institution = institution
    return service


def _offered_online() -> QuerySet[Service]:
    """Every active service ticked in its institution's active Online column, where the institution takes
    online bookings: the rule `online_services` and `online_service` read."""
    ticked = TrafficChannel.services.through.objects.filter(
        service_id=OuterRef("pk"),
        trafficchannel__institution_id=OuterRef("institution_id"),
        trafficchannel__code=ONLINE,
        trafficchannel__is_active=True,
    )
    return Service.objects.filter(Exists(ticked), is_active=True, institution__online_booking=True)


# The public free-time search reads it on every page: compiled once (`core.sql.Compiled`).
_ONLINE_SERVICE = Compiled(
    Service,
    lambda institution_id, service_id: (
        _offered_online()
        .filter(institution_id=institution_id, pk=service_id)
        .values_list(*columns(Service), *columns(Institution, "institution__"))
    ),
)


def require_online_offer(*, location: Location, service: Service) -> None:
    """Refuse (404) a service or location the institution does not offer online."""
    institution = online_institutions().filter(pk=location.institution_id).first()
    if (
        institution is None
        or not location.is_active
        or service.institution_id != location.institution_id
        or not online_services(institution).filter(pk=service.pk).exists()
    ):
        raise Http404()


def online_channel(institution: Institution) -> TrafficChannel:
    """The institution's built-in "online" channel."""
    return TrafficChannel.objects.get(institution=institution, code=ONLINE)


def online_service_ids(*, actor: Actor) -> frozenset[int]:
    """The services ticked in the actor's institution's Online column (Traffic Channels)."""
    institution = acting(actor.institution)
    ids = TrafficChannel.objects.filter(institution=institution, code=ONLINE).values_list(
        "services", flat=True
    )
    return frozenset(pk for pk in ids if pk is not None)


@transaction.atomic
def online_service_set(*, actor: Actor, service: Service, enabled: bool) -> None:
    """Offer the service online or stop offering it (one cell of the Online column); audited."""
    require(actor, Perm.ADMINISTER, service)
    channel = online_channel(acting(actor.institution))
    if enabled and not service.is_active:
        raise DomainError(_("An inactive service cannot be offered online."), field="service")
    if enabled:
        channel.services.add(service)
    else:
        channel.services.remove(service)
    audit_record(
        actor=actor,
        action=AuditAction.CHANNEL_SERVICE_SET,
        obj=channel,
        channel=ONLINE,
        service=service.name,
        service_id=service.pk,
        enabled=enabled,
    )
