from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "medbook.scheduling"
    label = "scheduling"

    def ready(self) -> None:
        """Have the outbox worker ask, before sending a patient's reminder, whether its booking still holds."""
        from medbook.notifications.services import outbox_send_check_register
        from medbook.scheduling.patient_mail import REMINDER_KIND, reminder_still_wanted

        outbox_send_check_register(kind=REMINDER_KIND, check=reminder_still_wanted)
