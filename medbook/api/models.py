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
