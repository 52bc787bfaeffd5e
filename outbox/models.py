import uuid
from urllib.parse import urlsplit

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Message(models.Model):
    """One request to send an email to one or more people, recorded with the action that causes it."""

    template = models.CharField(_("template"), max_length=100)
    alliance = models.ForeignKey(
        "alliances.Alliance", on_delete=models.CASCADE, null=True, blank=True, related_name="messages"
    )
    # When true, a recipient who is no longer an active member of the alliance by the time the
    # delivery is sent gets nothing (they left or were deactivated in between).
    members_only = models.BooleanField(_("members only"), default=False)
    reply_to = models.EmailField(_("reply-to"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.template} #{self.pk}"


class Attachment(models.Model):
    """A file sent with every delivery of a message (a calendar invitation, say)."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    filename = models.CharField(_("file name"), max_length=200)
    mimetype = models.CharField(_("content type"), max_length=100)
    content = models.BinaryField(_("content"))

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.filename


class DeliveryQuerySet(models.QuerySet):
    def due(self, now):
        return self.filter(status=Delivery.Status.PENDING, next_attempt_at__lte=now)

    def for_alliance(self, alliance):
        return self.filter(message__alliance=alliance)


class Delivery(models.Model):
    """One recipient's copy of a message, rendered in their language and time zone.

    The status moves pending → sending (claimed by one worker) → sent, failed or skipped. Only the
    worker holding the claim token may record the outcome, so a job that runs twice sends once.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Skipped")

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="deliveries")
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="deliveries",
    )
    to_email = models.EmailField(_("to"))
    to_name = models.CharField(_("name"), max_length=150, blank=True)
    language = models.CharField(_("language"), max_length=8)
    subject = models.CharField(_("subject"), max_length=255)
    body_text = models.TextField(_("text"))
    body_html = models.TextField(_("HTML"))
    header_message_id = models.CharField(_("Message-ID"), max_length=255, unique=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now)
    claim_token = models.UUIDField(null=True, blank=True)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    objects = DeliveryQuerySet.as_manager()

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The sweeper and the send job look for due pending rows, and stale claims.
            models.Index(fields=["status", "next_attempt_at"], name="outbox_delivery_due_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="sending") | models.Q(claim_token__isnull=False),
                name="outbox_delivery_sending_has_claim",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject} → {self.to_email}"

    @staticmethod
    def new_message_id() -> str:
        domain = urlsplit(settings.SITE_URL).hostname or "localhost"
        return f"<{uuid.uuid4()}@{domain}>"
