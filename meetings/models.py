"""Meetings of an alliance, their rotating roles, and the agenda prepared before them.

Times are stored in UTC (`starts_at`) with the zone the meeting is held in (`time_zone`, the alliance's
at scheduling): the form reads and shows the wall-clock time in that zone, so a meeting at 18:00 stays at
18:00 across a daylight-saving change.
"""

import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import models
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts import time_zones
from alliances.models import Alliance, Member


class Role(models.TextChoices):
    """The two roles that rotate among the members, one of each per meeting."""

    FACILITATOR = "facilitator", _("Facilitator")
    NOTE_TAKER = "note_taker", _("Note taker")


class MeetingQuerySet(models.QuerySet):
    def for_alliance(self, alliance: Alliance) -> "MeetingQuerySet":
        return self.filter(alliance=alliance)

    def active(self) -> "MeetingQuerySet":
        """Meetings that are (or were) going to happen: not cancelled."""
        return self.exclude(status=Meeting.Status.CANCELLED)

    def upcoming(self, now: datetime | None = None) -> "MeetingQuerySet":
        return self.active().filter(starts_at__gte=now or timezone.now()).order_by("starts_at")

    def past(self, now: datetime | None = None) -> "MeetingQuerySet":
        return self.filter(starts_at__lt=now or timezone.now()).order_by("-starts_at")


class Meeting(models.Model):
    """One meeting of an alliance: when and where, who facilitates and takes notes, and its agenda."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        CANCELLED = "cancelled", _("Cancelled")
        # The run of show (issue 10) adds "in progress" and "ended".

    alliance = models.ForeignKey(Alliance, on_delete=models.CASCADE, related_name="meetings")
    starts_at = models.DateTimeField(_("starts at"))
    duration_minutes = models.PositiveSmallIntegerField(_("duration (minutes)"))
    # The zone the meeting is held in: the alliance's when it was scheduled.
    time_zone = models.CharField(_("time zone"), max_length=64)
    venue_address = models.TextField(_("venue address"), blank=True)
    video_link = models.URLField(_("video-call link"), blank=True)
    support_offered = models.TextField(
        _("support offered"),
        blank=True,
        help_text=_("What makes the meeting inclusive: interpretation, childcare, step-free access, a call-in number…"),
    )
    facilitator = models.ForeignKey(
        Member, on_delete=models.PROTECT, null=True, blank=True, related_name="facilitated_meetings"
    )
    note_taker = models.ForeignKey(
        Member, on_delete=models.PROTECT, null=True, blank=True, related_name="noted_meetings"
    )
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.SCHEDULED)

    # The calendar event: a stable UID, and a SEQUENCE raised with every update that is sent
    # (calendars ignore an update whose SEQUENCE is not higher than the one they hold).
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    sequence = models.PositiveIntegerField(default=0)
    # Raised by every change to the meeting or its agenda: the version the live pages poll and the
    # agenda that was sent are compared against.
    revision = models.PositiveIntegerField(default=0)

    # The agenda as last sent (a snapshot of what the email showed), so the next send can say what
    # changed, and the page can say which version people have.
    agenda_sent_at = models.DateTimeField(_("agenda sent at"), null=True, blank=True)
    agenda_sent_revision = models.PositiveIntegerField(null=True, blank=True)
    agenda_sent_count = models.PositiveIntegerField(default=0)
    agenda_sent_snapshot = models.JSONField(default=dict, blank=True)
    # The daily reminder to the facilitator claims the meeting with a conditional update on this.
    agenda_reminder_sent_at = models.DateTimeField(null=True, blank=True)

    created_by = models.ForeignKey(Member, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancelled_by = models.ForeignKey(Member, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    objects = MeetingQuerySet.as_manager()

    class Meta:
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")
        ordering = ["-starts_at"]
        indexes = [models.Index(fields=["alliance", "starts_at"], name="meetings_meeting_alliance_time")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(duration_minutes__gte=5) & models.Q(duration_minutes__lte=24 * 60),
                name="meetings_meeting_duration_range",
            ),
            models.CheckConstraint(
                condition=models.Q(facilitator__isnull=True)
                | models.Q(note_taker__isnull=True)
                | ~models.Q(facilitator=models.F("note_taker")),
                name="meetings_meeting_two_people_for_two_roles",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.alliance} — {self.starts_at:%Y-%m-%d %H:%M} UTC"

    def get_absolute_url(self) -> str:
        return reverse("meetings:meeting_detail", kwargs={"slug": self.alliance.slug, "pk": self.pk})

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.duration_minutes)

    @property
    def when_display(self) -> str:
        """Its date and times in its own zone, the zone named: "March 16, 2027, 6 p.m. to 7:30 p.m. (…)"."""
        zone = ZoneInfo(self.time_zone)
        start, end = self.starts_at.astimezone(zone), self.ends_at.astimezone(zone)
        return gettext("%(day)s, %(start)s to %(end)s (%(zone)s)") % {
            "day": formats.date_format(start, "DATE_FORMAT"),
            "start": formats.time_format(start, "TIME_FORMAT"),
            "end": formats.time_format(end, "TIME_FORMAT"),
            "zone": time_zones.label(self.time_zone),
        }

    @property
    def is_cancelled(self) -> bool:
        return self.status == self.Status.CANCELLED

    def holder(self, role: str) -> Member | None:
        return self.facilitator if role == Role.FACILITATOR else self.note_taker

    def can_edit(self, member: Member) -> bool:
        """Its facilitator and the alliance's stewards prepare a meeting."""
        return member.is_active and (member.is_steward or member.pk == self.facilitator_id)


class Segment(models.TextChoices):
    """The standard opening and closing of every agenda, in the order the process runs them."""

    BONDING = "bonding", _("Bonding social moment")
    REFLECTION = "reflection", _("Opening reflection")
    AGENDA_REVIEW = "agenda_review", _("Agenda review")
    # The agenda items come here, between the opening and the closing.
    DECISIONS_REVIEW = "decisions_review", _("Review of decisions and to-dos")
    NEXT_MEETING = "next_meeting", _("Next meeting's logistics")
    EVALUATION = "evaluation", _("Closing evaluation round")


OPENING_SEGMENTS = [Segment.BONDING, Segment.REFLECTION, Segment.AGENDA_REVIEW]
CLOSING_SEGMENTS = [Segment.DECISIONS_REVIEW, Segment.NEXT_MEETING, Segment.EVALUATION]
DEFAULT_SEGMENT_MINUTES = {
    Segment.BONDING: 10,
    Segment.REFLECTION: 5,
    Segment.AGENDA_REVIEW: 5,
    Segment.DECISIONS_REVIEW: 10,
    Segment.NEXT_MEETING: 5,
    Segment.EVALUATION: 10,
}


class AgendaSegment(models.Model):
    """One standard segment of a meeting's agenda; every meeting has all six, with editable minutes."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="segments")
    kind = models.CharField(_("segment"), max_length=20, choices=Segment.choices)
    minutes = models.PositiveSmallIntegerField(_("minutes"))

    class Meta:
        verbose_name = _("agenda segment")
        verbose_name_plural = _("agenda segments")
        constraints = [
            models.UniqueConstraint(fields=["meeting", "kind"], name="meetings_agendasegment_once_per_meeting"),
            models.CheckConstraint(condition=models.Q(minutes__lte=24 * 60), name="meetings_agendasegment_minutes"),
        ]

    def __str__(self) -> str:
        return self.get_kind_display()


class AgendaItemQuerySet(models.QuerySet):
    def on_agenda(self) -> "AgendaItemQuerySet":
        return self.filter(status=AgendaItem.Status.ACCEPTED).order_by("position", "pk")

    def proposals(self) -> "AgendaItemQuerySet":
        return self.filter(status=AgendaItem.Status.PROPOSED).order_by("created_at", "pk")


class AgendaItem(models.Model):
    """An item of the agenda. A member's proposal is an item waiting to be accepted or declined."""

    class Kind(models.TextChoices):
        INFORMATION = "information", _("Information")
        DISCUSSION = "discussion", _("Discussion")
        DECISION = "decision", _("Decision")

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("Proposed")
        ACCEPTED = "accepted", _("On the agenda")
        DECLINED = "declined", _("Declined")

    TITLE_MAX_LENGTH = 200

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="items")
    title = models.CharField(_("title"), max_length=TITLE_MAX_LENGTH)
    # Markdown, rendered to sanitised HTML when shown.
    description = models.TextField(_("description"), blank=True)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.DISCUSSION)
    presenter = models.ForeignKey(Member, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    minutes = models.PositiveSmallIntegerField(_("time box (minutes)"))
    position = models.PositiveIntegerField(default=0)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ACCEPTED)
    proposed_by = models.ForeignKey(Member, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    decline_reason = models.TextField(_("why it was declined"), blank=True)
    decided_by = models.ForeignKey(Member, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    objects = AgendaItemQuerySet.as_manager()

    class Meta:
        verbose_name = _("agenda item")
        verbose_name_plural = _("agenda items")
        ordering = ["position", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(minutes__gte=1) & models.Q(minutes__lte=24 * 60), name="meetings_agendaitem_minutes"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class Reflection(models.Model):
    """The opening reflection a facilitator chooses for a meeting: a quote, a poem, a video…"""

    class Kind(models.TextChoices):
        QUOTE = "quote", _("Quote")
        POEM = "poem", _("Poem")
        VIDEO = "video", _("Video")
        OTHER = "other", _("Other")

    meeting = models.OneToOneField(Meeting, on_delete=models.CASCADE, related_name="reflection")
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices, default=Kind.QUOTE)
    text = models.TextField(_("text"), blank=True)
    source = models.CharField(_("author or source"), max_length=200, blank=True)
    # Shown as a plain link: no third-party embeds or scripts.
    link = models.URLField(_("link"), blank=True)
    chosen_by = models.ForeignKey(Member, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    chosen_at = models.DateTimeField(_("chosen at"), default=timezone.now)

    class Meta:
        verbose_name = _("opening reflection")
        verbose_name_plural = _("opening reflections")

    def __str__(self) -> str:
        return self.source or self.get_kind_display()


class Apology(models.Model):
    """A member's word that they cannot attend a meeting; they can take it back."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="apologies")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="apologies")
    created_at = models.DateTimeField(_("sent at"), default=timezone.now)

    class Meta:
        verbose_name = _("apology")
        verbose_name_plural = _("apologies")
        constraints = [
            models.UniqueConstraint(fields=["meeting", "member"], name="meetings_apology_once_per_member"),
        ]

    def __str__(self) -> str:
        return f"{self.member} — {self.meeting}"


class RoleTurnChange(models.Model):
    """A swap or a skipped turn, kept so that the roles page can show why the rotation went as it did."""

    class Kind(models.TextChoices):
        SKIP = "skip", _("Skipped their turn")
        SWAP = "swap", _("Swapped turns")

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="turn_changes")
    role = models.CharField(_("role"), max_length=12, choices=Role.choices)
    kind = models.CharField(_("change"), max_length=4, choices=Kind.choices)
    from_member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+")
    to_member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+")
    changed_by = models.ForeignKey(Member, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    changed_at = models.DateTimeField(_("changed at"), default=timezone.now)

    class Meta:
        verbose_name = _("change of turn")
        verbose_name_plural = _("changes of turn")
        ordering = ["-changed_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.from_member} → {self.to_member}"
