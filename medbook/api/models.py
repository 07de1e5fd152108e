"""What the API keeps of its own: the first answer to each Idempotency-Key."""

from django.db import models

from medbook.accounts.models import ApiToken


class IdempotentAnswer(models.Model):
    """The answer to the first create sent with an Idempotency-Key by one token (kept for a day)."""

    token = models.ForeignKey(ApiToken, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField()
    body = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["token", "key"], name="idempotent_answer_unique")]

    def __str__(self) -> str:
        return f"{self.token_id}:{self.key}"


class RateCount(models.Model):
    """How many API and FHIR requests one user made in the current window (API_RATE_LIMIT): one row per
    user, counted in the database so every web process shares it; no row every tenant's request touches."""

    subject = models.CharField(max_length=100, unique=True)  # "user:<id>"
    window_number = models.BigIntegerField()  # Unix time // the window's length in seconds
    requests = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.subject}: {self.requests} in window {self.window_number}"
