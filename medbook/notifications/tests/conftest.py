from medbook.notifications.tests.fixtures import deliver_outbox, smtp_server

__all__ = ["deliver_outbox", "smtp_server"]
