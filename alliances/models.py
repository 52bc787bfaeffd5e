import re
import secrets
from dataclasses import dataclass
from datetime import time, timedelta
from enum import Enum

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts import time_zones

# The to-do nudge intervals a steward may choose (Alliance.nudge_days_before, nudge_overdue_every_days).
NUDGE_DAYS_BEFORE_MAX = 14
NUDGE_OVERDUE_EVERY_MAX = 30


class AllianceQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Alliances the user is an active member of: the scope of every alliance page."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(members__user=user, members__is_active=True)


class Alliance(models.Model):
    """A group of peers working on a shared purpose. Its charter: purpose, norms and logistics."""

    class Cadence(models.TextChoices):
        WEEKLY = "weekly", _("Weekly")
        BIWEEKLY = "biweekly", _("Every two weeks")
        MONTHLY = "monthly", _("Monthly")
        CUSTOM = "custom", _("Other (describe)")

    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")
        SATURDAY = 5, _("Saturday")
        SUNDAY = 6, _("Sunday")

    name = models.CharField(_("name"), max_length=150)
    slug = models.SlugField(_("web address"), max_length=60, unique=True)
    purpose = models.TextField(_("shared purpose"), blank=True)
    purpose_agreed_on = models.DateField(_("purpose agreed on"), null=True, blank=True)

    # Logistics: how and when the alliance meets and shares information.
    cadence = models.CharField(_("how often we meet"), max_length=10, choices=Cadence.choices, blank=True)
    cadence_custom = models.CharField(_("other cadence"), max_length=200, blank=True)
    meeting_weekday = models.PositiveSmallIntegerField(_("usual day"), choices=Weekday.choices, null=True, blank=True)
    meeting_time = models.TimeField(_("usual start time"), null=True, blank=True)
    meeting_duration_minutes = models.PositiveSmallIntegerField(_("usual duration (minutes)"), null=True, blank=True)
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC")
    # The language an invitation is written in by default: the invited person has no account yet,
    # so there is no preference of theirs to follow.
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE)
    # The facilitator is reminded when a meeting this close has no agenda sent yet.
    agenda_reminder_days = models.PositiveSmallIntegerField(_("agenda reminder (days before)"), default=3)
    # The owner of an open to-do is nudged this many days before its due date (0: not before), on the
    # day, and then every so many days while it is overdue (tasks/nudges.py).
    nudge_days_before = models.PositiveSmallIntegerField(
        _("to-do reminder (days before the due date)"),
        default=3,
        validators=[MaxValueValidator(NUDGE_DAYS_BEFORE_MAX)],
        help_text=_("0 for no reminder before the due date."),
    )
    nudge_overdue_every_days = models.PositiveSmallIntegerField(
        _("overdue to-do reminder (every so many days)"),
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(NUDGE_OVERDUE_EVERY_MAX)],
    )
    venue_address = models.TextField(_("usual venue address"), blank=True)
    video_link = models.URLField(_("video-call link"), blank=True)
    info_sharing = models.TextField(_("how we share information"), blank=True)
    info_link = models.URLField(_("information link"), blank=True)

    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = AllianceQuerySet.as_manager()

    class Meta:
        verbose_name = _("alliance")
        verbose_name_plural = _("alliances")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(meeting_weekday__isnull=True) | models.Q(meeting_weekday__lte=6),
                name="alliances_alliance_weekday_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(nudge_days_before__lte=NUDGE_DAYS_BEFORE_MAX)
                & models.Q(nudge_overdue_every_days__gte=1)
                & models.Q(nudge_overdue_every_days__lte=NUDGE_OVERDUE_EVERY_MAX),
                name="alliances_alliance_nudge_intervals_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("alliances:alliance_detail", kwargs={"slug": self.slug})

    @property
    def mail_scope(self) -> str:
        """How the outbox knows this alliance's emails (it imports no domain app, so no foreign key)."""
        return f"alliance:{self.pk}"

    @property
    def cadence_display(self) -> str:
        if self.cadence == self.Cadence.CUSTOM:
            return self.cadence_custom
        return self.get_cadence_display()

    @property
    def time_zone_name(self) -> str:
        """The meeting time zone as the reader names it ("Estados Unidos — Nueva York")."""
        return time_zones.label(self.time_zone)

    @property
    def has_logistics(self) -> bool:
        return bool(self.cadence or self.meeting_time or self.venue_address or self.video_link or self.info_sharing)


class MemberQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)

    def stewards(self):
        return self.filter(is_active=True, is_steward=True)


class Member(models.Model):
    """A person's membership of an alliance. Kept after they leave, so that history stays whole."""

    class EndReason(models.TextChoices):
        LEFT = "left", _("Left")
        DEACTIVATED = "deactivated", _("Deactivated by a steward")

    alliance = models.ForeignKey(Alliance, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    organisation = models.CharField(_("organisation represented"), max_length=200, blank=True)
    is_steward = models.BooleanField(_("steward"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    joined_at = models.DateTimeField(_("joined at"), default=timezone.now)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    end_reason = models.CharField(_("why it ended"), max_length=12, choices=EndReason.choices, blank=True)

    objects = MemberQuerySet.as_manager()

    class Meta:
        verbose_name = _("member")
        verbose_name_plural = _("members")
        ordering = ["user__display_name", "user__email"]
        constraints = [
            models.UniqueConstraint(fields=["alliance", "user"], name="alliances_member_once_per_alliance"),
            # A former member cannot hold the steward role.
            models.CheckConstraint(
                condition=models.Q(is_active=True) | models.Q(is_steward=False),
                name="alliances_member_steward_is_active",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.alliance})"


# Long enough for a norm with a sentence of explanation. The form states the limit and refuses more: a
# silent cut by the browser's maxlength would change what the members agreed.
NORM_TEXT_MAX_LENGTH = 1000


def norm_too_long_message(length: int) -> str:
    return gettext(
        "A norm can be at most %(limit)s characters long; this one has %(length)s. "
        "Shorten it, or split it into two norms."
    ) % {
        "limit": formats.number_format(NORM_TEXT_MAX_LENGTH, force_grouping=True),
        "length": formats.number_format(length, force_grouping=True),
    }


class NormQuerySet(models.QuerySet):
    def current(self):
        return self.filter(retired_at__isnull=True).order_by("position", "pk")


class Norm(models.Model):
    """One of the alliance's shared agreements. Retired norms are kept and shown in the history."""

    TEXT_MAX_LENGTH = NORM_TEXT_MAX_LENGTH

    alliance = models.ForeignKey(Alliance, on_delete=models.CASCADE, related_name="norms")
    text = models.TextField(_("norm"))
    position = models.PositiveIntegerField(_("position"), default=0)
    agreed_on = models.DateField(_("agreed on"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    retired_at = models.DateTimeField(_("retired at"), null=True, blank=True)
    retired_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = NormQuerySet.as_manager()

    class Meta:
        verbose_name = _("norm")
        verbose_name_plural = _("norms")
        ordering = ["position", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("text"), NORM_TEXT_MAX_LENGTH), name="alliances_norm_text_length"
            ),
        ]

    def __str__(self) -> str:
        return self.text

    @property
    def is_retired(self) -> bool:
        return self.retired_at is not None


class CharterChange(models.Model):
    """Who changed what in the charter, and when: the charter's history."""

    class Kind(models.TextChoices):
        PURPOSE = "purpose", _("Purpose changed")
        NORM_ADDED = "norm_added", _("Norm added")
        NORM_EDITED = "norm_edited", _("Norm edited")
        NORM_MOVED = "norm_moved", _("Norms reordered")
        NORM_RETIRED = "norm_retired", _("Norm retired")
        LOGISTICS = "logistics", _("Logistics changed")

    alliance = models.ForeignKey(Alliance, on_delete=models.CASCADE, related_name="charter_changes")
    kind = models.CharField(_("change"), max_length=20, choices=Kind.choices)
    norm = models.ForeignKey(Norm, on_delete=models.SET_NULL, null=True, blank=True, related_name="changes")
    # Text the members wrote (a purpose, a norm) or a norm's positions, kept as typed. Logistics changes
    # from before values were stored keep their old "label: value" lines here, shown as they are.
    before = models.TextField(_("before"), blank=True)
    after = models.TextField(_("after"), blank=True)
    # Logistics as raw values ({"cadence": "monthly", "meeting_time": "18:30"}): labels and choices are
    # rendered when the history is read, in the reader's language, not the saving steward's.
    before_values = models.JSONField(_("settings before"), default=dict, blank=True)
    after_values = models.JSONField(_("settings after"), default=dict, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    changed_at = models.DateTimeField(_("changed at"), default=timezone.now)

    class Meta:
        verbose_name = _("charter change")
        verbose_name_plural = _("charter changes")
        ordering = ["-changed_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.alliance})"

    @property
    def has_values(self) -> bool:
        return bool(self.before_values or self.after_values)

    def setting_changes(self) -> list["SettingChange"]:
        """The settings this change touched, labelled and shown in the active language, in form order."""
        changes = []
        for field in Alliance._meta.concrete_fields:
            before = self.before_values.get(field.name)
            after = self.after_values.get(field.name)
            if (_is_empty(before) and _is_empty(after)) or before == after:
                continue
            changes.append(
                SettingChange(
                    label=str(capfirst(field.verbose_name)),
                    before=setting_display(field, before),
                    after=setting_display(field, after),
                )
            )
        return changes


@dataclass(frozen=True)
class SettingChange:
    label: str
    before: str
    after: str


def _is_empty(value: object) -> bool:
    return value is None or value == ""


def setting_value(value: object) -> object:
    """An alliance setting as the JSON value a charter change stores."""
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, time):
        return value.isoformat(timespec="minutes" if not value.second else "seconds")
    return value


def setting_display(field: models.Field, value: object) -> str:
    """One stored value of an alliance field as a reader sees it, in the active language and format."""
    if _is_empty(value):
        return gettext("(not set)")
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(field, models.TimeField):
        return formats.time_format(time.fromisoformat(str(value)), "TIME_FORMAT")
    if field.name == "time_zone":
        return time_zones.label(str(value))
    return str(value)


def new_invitation_token() -> str:
    return secrets.token_urlsafe(32)


# What new_invitation_token() makes (token_urlsafe: letters, digits, "-" and "_"). Anything else in a link is
# refused before the database sees it: PostgreSQL rejects a NUL in a query with an error, not a miss.
INVITATION_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")


class InvitationQuerySet(models.QuerySet):
    def pending(self):
        return self.filter(status=Invitation.Status.PENDING, expires_at__gt=timezone.now())

    def with_token(self, token: str):
        if not INVITATION_TOKEN.fullmatch(token):
            return self.none()
        return self.filter(token=token)


class Invitation(models.Model):
    """A steward's invitation to join, by email: a single-use link that expires."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        ACCEPTED = "accepted", _("Accepted")
        CANCELLED = "cancelled", _("Cancelled")

    # An EmailField's column holds 254 characters, fewer than the 320 the address syntax allows: the form
    # and the service check it, or PostgreSQL refuses the row with an error.
    EMAIL_MAX_LENGTH = 254

    alliance = models.ForeignKey(Alliance, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(_("email address"), max_length=EMAIL_MAX_LENGTH)
    token = models.CharField(max_length=64, unique=True, default=new_invitation_token)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    # Chosen by the steward who invites (default: the alliance's language); the email and the
    # invitation page use it until the person has an account with a language of their own.
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(_("sent at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["alliance", "email"],
                condition=models.Q(status="pending"),
                name="alliances_invitation_one_pending_per_email",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} → {self.alliance}"

    def get_absolute_url(self) -> str:
        return reverse("invitation_accept", kwargs={"token": self.token})

    @staticmethod
    def default_expiry():
        return timezone.now() + timedelta(days=settings.INVITATION_MAX_AGE_DAYS)

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()

    def is_for(self, user) -> bool:
        """Whether `user` holds the invited address: only they may accept (addresses compare lower-cased)."""
        return user.is_authenticated and user.email.strip().lower() == self.email
