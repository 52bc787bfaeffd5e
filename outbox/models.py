import re
import uuid
from urllib.parse import urlsplit

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

# An absolute link as it appears in a text or HTML body: up to the next space, quote or tag.
LINK = re.compile(r"https?://[^\s\"'<>]+")
# Where a copy's stored body shows a part kept once for the whole message (MessagePart).
PART_MARKER = re.compile(r"\[outbox-part:[0-9a-f]{32}\]")


def expand_parts(body: str, parts: dict[str, str]) -> str:
    """A copy's body with each part's marker replaced by the part (`parts`: marker → content)."""
    if "[outbox-part:" not in body:
        return body
    return PART_MARKER.sub(lambda found: parts.get(found.group(0), found.group(0)), body)


class Message(models.Model):
    """One request to send an email to one or more people, recorded with the action that causes it."""

    template = models.CharField(_("template"), max_length=100)
    # Whose email this is, in the sending app's own words ("alliance:12"): that app lists its emails
    # and skips pending ones by it. A string, not a foreign key, so that the outbox knows no domain app.
    scope = models.CharField(_("scope"), max_length=100, blank=True)
    # Unique per message when given: sending with a key already used returns the first message, so a
    # double click or a retried request emails nobody twice.
    key = models.CharField(_("idempotency key"), max_length=200, null=True, blank=True)
    # The message carries a single-use link (a password reset, an invitation): operators see it redacted.
    secret = models.BooleanField(_("carries a single-use link"), default=False)
    reply_to = models.EmailField(_("reply-to"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["scope"], name="outbox_message_scope_idx")]
        constraints = [models.UniqueConstraint(fields=["key"], name="outbox_message_key_unique")]

    def __str__(self) -> str:
        return f"{self.template} #{self.pk}"


class MessagePart(models.Model):
    """What many copies of a message show alike, kept once (outbox.services.SharedPart).

    The notes of a meeting are the same for every member who reads them in one language and time zone;
    stored in each of 500 copies they cost the click the insert of some 20 MB. A copy's body holds the
    part's marker where the part goes; the marker is replaced when the copy is sent or shown.
    """

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="parts")
    marker = models.CharField(max_length=64, unique=True)
    content = models.TextField()

    class Meta:
        verbose_name = _("shared part")
        verbose_name_plural = _("shared parts")

    def __str__(self) -> str:
        return self.marker

    @staticmethod
    def new_marker() -> str:
        return f"[outbox-part:{uuid.uuid4().hex}]"


class AttachmentQuerySet(models.QuerySet):
    def sent_with(self, message_id: int, delivery_ids: list[int]) -> "AttachmentQuerySet":
        """The files these copies of the message carry: every copy's, and each one's own."""
        return self.filter(message_id=message_id).filter(
            models.Q(delivery__isnull=True) | models.Q(delivery__in=delivery_ids)
        )


class Attachment(models.Model):
    """A file sent with a message: with every delivery, or with one recipient's copy only.

    A calendar invitation names its recipient as ATTENDEE, so each copy carries its own file
    (`delivery` set). An `alternative` is sent as one more version of the body (a
    `text/calendar; method=REQUEST` part beside the text and HTML, which calendar clients act on)
    rather than as a file to download.
    """

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    # Only this recipient's copy carries the file; none: every copy does.
    delivery = models.ForeignKey(
        "Delivery", on_delete=models.CASCADE, null=True, blank=True, related_name="attachments"
    )
    filename = models.CharField(_("file name"), max_length=200)
    mimetype = models.CharField(_("content type"), max_length=100)
    content = models.BinaryField(_("content"))
    alternative = models.BooleanField(_("sent as an alternative part of the body"), default=False)

    objects = AttachmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.filename


class DeliveryQuerySet(models.QuerySet):
    def due(self, now):
        return self.filter(status=Delivery.Status.PENDING, next_attempt_at__lte=now)

    def in_scope(self, scope: str):
        return self.filter(message__scope=scope)


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

    class SkipReason(models.TextChoices):
        LEFT = "left", _("The recipient left before it was sent.")
        REMOVED = "removed", _("The recipient was removed before it was sent.")

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
    # More headers of this copy ({"List-Unsubscribe": "<https://…>"}): some name their reader, so they are
    # kept per copy, rendered with it, and sent as they are on every attempt.
    headers = models.JSONField(_("more headers"), default=dict, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now)
    claim_token = models.UUIDField(null=True, blank=True)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    skip_reason = models.CharField(_("why skipped"), max_length=20, choices=SkipReason.choices, blank=True)
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

    @cached_property
    def _parts(self) -> dict[str, str]:
        return dict(MessagePart.objects.filter(message_id=self.message_id).values_list("marker", "content"))

    @property
    def text(self) -> str:
        """The text body as sent, with the message's shared parts in place (a query if it has markers)."""
        return expand_parts(self.body_text, self._parts) if "[outbox-part:" in self.body_text else self.body_text

    @property
    def html(self) -> str:
        """The HTML body as sent, with the message's shared parts in place (a query if it has markers)."""
        return expand_parts(self.body_html, self._parts) if "[outbox-part:" in self.body_html else self.body_html

    @property
    def text_for_operators(self) -> str:
        return self._redacted(self.text)

    @property
    def html_for_operators(self) -> str:
        return self._redacted(self.html)

    def _redacted(self, body: str) -> str:
        """The body with its links removed if the message carries a single-use link.

        An operator reading the outbox must not be able to use someone's reset or invitation link; the
        stored body stays whole, because it is what the worker sends. Every absolute link goes, not
        only those to SITE_URL: the setting may have changed since the message was recorded.
        """
        if not self.message.secret:
            return body
        return LINK.sub(str(_("[link removed]")), body)

    @staticmethod
    def new_message_id() -> str:
        domain = urlsplit(settings.SITE_URL).hostname or "localhost"
        return f"<{uuid.uuid4()}@{domain}>"
