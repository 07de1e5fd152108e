"""The scheduling sections of Administration: working hours, and leave and holidays (the generic pages of
`medbook.institutions.views` serve them)."""

from django.db import transaction
from django.urls import URLPattern
from django.utils.translation import gettext_lazy

from medbook.core.tenancy import Actor
from medbook.institutions.services import tenant_object_save
from medbook.institutions.views import Column, Section, section_urls
from medbook.scheduling import forms
from medbook.scheduling.models import ScheduleException, WorkingHours
from medbook.scheduling.validators import working_hours_check


@transaction.atomic
def working_hours_save(*, actor: Actor, form) -> WorkingHours:
    """Save working hours of the actor's institution, refusing an overlap with the physician's other hours."""
    working_hours_check(form.instance)
    return tenant_object_save(actor=actor, form=form)


WORKING_HOURS = Section(
    noun="workinghours",
    slug="working-hours",
    model=WorkingHours,
    title=gettext_lazy("Working hours"),
    columns=(
        Column("location"),
        Column("weekday"),
        Column("start_time"),
        Column("end_time"),
        Column("valid_from"),
        Column("valid_until"),
    ),
    form_class=forms.WorkingHoursForm,
    save=working_hours_save,
    namespace="scheduling",
    add_title=gettext_lazy("Add working hours"),
    edit_title=gettext_lazy("Edit working hours"),
    group_by="physician",
    order_by=("physician__full_name", "physician_id", "weekday", "start_time"),
    deletable=True,
)
EXCEPTIONS = Section(
    noun="exception",
    slug="leave",
    model=ScheduleException,
    title=gettext_lazy("Leave and holidays"),
    columns=(
        Column("physician"),
        Column("location", blank=gettext_lazy("All locations")),
        Column("kind"),
        Column("date_from"),
        Column("date_until"),
        Column("note"),
    ),
    form_class=forms.ScheduleExceptionForm,
    namespace="scheduling",
    add_title=gettext_lazy("Add leave or holiday"),
    edit_title=gettext_lazy("Edit leave or holiday"),
    deletable=True,
)
SECTIONS = (WORKING_HOURS, EXCEPTIONS)


def administration_urls() -> list[URLPattern]:
    """The sections' pages under /administration/."""
    return [url for section in SECTIONS for url in section_urls(section, prefix="administration/")]
