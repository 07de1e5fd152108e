"""A patient's online booking while the e-mail address is being proved (issue 22, B-13)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from medbook.core.timefmt import when
from medbook.institutions.models import Institution, Location, Physician, Service
from medbook.scheduling.models import Booking


class OnlineRequest(models.Model):
    """The details a logged-out patient entered for one held slot, until the e-mailed code or link proves
    the address and the booking is made (`services.online_request_confirm`).

    It is known by its hold's token (`hold_key` is the SHA-256 the hold keeps too, `hold_rules`): the token
    is in the address of the patient's code page and of the e-mailed link, and stored nowhere. The code is
    kept as a keyed hash and allows `ONLINE_CODE_ATTEMPTS` tries. The personal details are kept only until
    the booking is made or the request has expired (`services.online_requests_sweep` then deletes it).
    """

    institution = models.ForeignKey(Institution, on_delete=models.CASCADE, related_name="+")
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="+")
    physician = models.ForeignKey(Physician, on_delete=models.CASCADE, related_name="+")
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="+")
    starts_at = models.DateTimeField(_("starts at"))
    hold_key = models.CharField(max_length=64, unique=True, editable=False)
    full_name = models.CharField(_("name"), max_length=200)
    birth_date = models.DateField(_("birth date"))
    email = models.EmailField(_("email"))
    email_key = models.CharField(max_length=254, editable=False)  # the address as the limits count it
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    insurance_id = models.CharField(_("health-insurance id (TAJ)"), max_length=16, blank=True)
    code_hash = models.CharField(max_length=64, editable=False)
    attempts = models.PositiveSmallIntegerField(default=0)
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    expires_at = models.DateTimeField(_("expires"))
    created_at = models.DateTimeField(auto_now_add=True)
    booking = models.ForeignKey(Booking, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("online booking request")
        verbose_name_plural = _("online booking requests")
        indexes = [
            models.Index(fields=["client_ip", "expires_at"], name="online_request_ip"),
            models.Index(fields=["email_key", "expires_at"], name="online_request_email"),
            models.Index(fields=["expires_at"], name="online_request_expiry"),
        ]

    def __str__(self) -> str:
        return f"{self.service} {when(self.starts_at, self.institution)}"
