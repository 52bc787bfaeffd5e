"""Meetings of an alliance, their rotating roles, and the agenda prepared before them.

Times are stored in UTC (`starts_at`) with the zone the meeting is held in (`time_zone`, the alliance's
at scheduling): the form reads and shows the wall-clock time in that zone, so a meeting at 18:00 stays at
18:00 across a daylight-saving change.
"""

import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db import connections, models
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
        """Meetings still to be held: scheduled from `now` on. A meeting started before its scheduled time
        (groups may begin early, meetings/run.py) is no longer upcoming, nor once it has ended."""
        return self.filter(status=Meeting.Status.SCHEDULED, starts_at__gte=now or timezone.now()).order_by("starts_at")

    def past(self, now: datetime | None = None) -> "MeetingQuerySet":
        """Meetings whose time has come, and those already started or held (even before their time)."""
        held = models.Q(status__in=[Meeting.Status.IN_PROGRESS, Meeting.Status.ENDED])
        return self.filter(models.Q(starts_at__lt=now or timezone.now()) | held).order_by("-starts_at")

    def awaiting_notes(self) -> "MeetingQuerySet":
        """Ended meetings whose notes have not been sent yet, most recently ended first."""
        return self.filter(status=Meeting.Status.ENDED, notes_sent_at__isnull=True).order_by("-ended_at", "-pk")


class Meeting(models.Model):
    """One meeting of an alliance: when and where, who facilitates and takes notes, and its agenda."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        CANCELLED = "cancelled", _("Cancelled")
        IN_PROGRESS = "in_progress", _("In progress")
        ENDED = "ended", _("Ended")

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

    # The run of show (meetings/run.py). Every write of the run of show raises `revision` in its own
    # transaction, so the live pages see each change through that one number.
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    started_by = models.ForeignKey(Member, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    ended_by = models.ForeignKey(Member, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # The key of the step everyone is on (meetings/steps.py: "bonding", "item:42", "evaluation"…), and
    # when the meeting arrived there; the time of the steps already left is in StepTime.
    current_step = models.CharField(_("current step"), max_length=40, blank=True)
    step_started_at = models.DateTimeField(_("step started at"), null=True, blank=True)
    # The meeting set during this one's "next meeting's logistics" step.
    next_meeting = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("next meeting")
    )

    # The notes (meetings/notes.py): sent once, final from then on (corrections are NoteAmendments). The
    # reminders to send them claim the meeting with a conditional update on `notes_reminder_count`.
    notes_sent_at = models.DateTimeField(_("notes sent at"), null=True, blank=True)
    notes_sent_by = models.ForeignKey(Member, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    notes_reminder_count = models.PositiveSmallIntegerField(default=0)
    notes_reminded_at = models.DateTimeField(null=True, blank=True)

    objects = MeetingQuerySet.as_manager()

    class Meta:
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")
        ordering = ["-starts_at"]
        indexes = [
            models.Index(fields=["alliance", "starts_at"], name="meetings_meeting_alliance_time"),
            # The hourly reminder's scan: the few ended meetings whose notes are not sent yet.
            models.Index(
                fields=["ended_at"],
                condition=models.Q(status="ended", notes_sent_at__isnull=True),
                name="meetings_meeting_notes_unsent",
            ),
        ]
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

    @property
    def is_in_progress(self) -> bool:
        return self.status == self.Status.IN_PROGRESS

    @property
    def is_ended(self) -> bool:
        return self.status == self.Status.ENDED

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
    # The open discussion after the round robin, typed live by the note taker; `discussion_version` is
    # raised by every save, so that a second editor's stale save is refused (meetings/texts.py).
    discussion = models.TextField(_("discussion"), blank=True)
    discussion_version = models.PositiveIntegerField(default=0)
    # A decision deferred at one meeting is carried to the next one's agenda as a new item that
    # continues it; `deferred_at` is set on the item that was deferred.
    carried_from = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="carried_to",
        verbose_name=_("continues"),
    )
    deferred_at = models.DateTimeField(_("deferred at"), null=True, blank=True)

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


# --- The run of show (issue 10) -----------------------------------------------------------------------


class StepTime(models.Model):
    """The time a meeting spent on one step of its run of show, added to each time the step is left.

    The step the meeting is on counts live on top: `spent_seconds + (now - meeting.step_started_at)`.
    """

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="step_times")
    key = models.CharField(_("step"), max_length=40)
    spent_seconds = models.PositiveIntegerField(_("time spent (seconds)"), default=0)

    class Meta:
        verbose_name = _("time spent on a step")
        verbose_name_plural = _("time spent on steps")
        constraints = [
            models.UniqueConstraint(fields=["meeting", "key"], name="meetings_steptime_once_per_step"),
        ]

    def __str__(self) -> str:
        return f"{self.key}: {self.spent_seconds} s"


class Attendance(models.Model):
    """Whether a member was at a meeting: present, absent or excused (an apology pre-fills "excused")."""

    class Status(models.TextChoices):
        PRESENT = "present", _("Present")
        ABSENT = "absent", _("Absent")
        EXCUSED = "excused", _("Excused")

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attendance")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="attendance")
    status = models.CharField(_("attendance"), max_length=8, choices=Status.choices, default=Status.ABSENT)
    # Set when a member is marked present after the meeting started: a late arrival.
    arrived_at = models.DateTimeField(_("arrived at"), null=True, blank=True)
    marked_by = models.ForeignKey(Member, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    marked_at = models.DateTimeField(_("marked at"), default=timezone.now)

    class Meta:
        verbose_name = _("attendance")
        verbose_name_plural = _("attendance")
        constraints = [
            models.UniqueConstraint(fields=["meeting", "member"], name="meetings_attendance_once_per_member"),
        ]

    def __str__(self) -> str:
        return f"{self.member}: {self.get_status_display()}"


class RoundRobin(models.Model):
    """A round robin: every present participant takes a turn to speak, or passes, in a set order.

    Held on an agenda item, or as the closing evaluation (no item), where each turn's thought is the
    member's takeaway. The first speaker rotates from one round robin of the alliance to the next.
    """

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="round_robins")
    item = models.ForeignKey(
        AgendaItem,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="round_robins",
        verbose_name=_("agenda item"),
    )
    is_evaluation = models.BooleanField(_("closing evaluation"), default=False)
    # The members' pks in speaking order, fixed at the start (the turns repeat it, one row each).
    order = models.JSONField(_("speaking order"), default=list)
    # SET_NULL rather than CASCADE: a deleted account must not take a whole round robin with it.
    first_speaker = models.ForeignKey(
        Member, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("first speaker")
    )
    current_position = models.PositiveSmallIntegerField(default=0)
    turn_seconds = models.PositiveSmallIntegerField(_("time box per turn (seconds)"), null=True, blank=True)
    started_by = models.ForeignKey(Member, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)

    class Meta:
        verbose_name = _("round robin")
        verbose_name_plural = _("round robins")
        ordering = ["started_at", "pk"]
        indexes = [models.Index(fields=["meeting", "started_at"], name="meetings_roundrobin_meeting")]
        constraints = [
            # An evaluation round has no item; every other round robin is on one.
            models.CheckConstraint(
                condition=models.Q(is_evaluation=True, item__isnull=True)
                | models.Q(is_evaluation=False, item__isnull=False),
                name="meetings_roundrobin_item_or_evaluation",
            ),
            # One round robin at a time in a meeting.
            models.UniqueConstraint(
                fields=["meeting"], condition=models.Q(ended_at__isnull=True), name="meetings_roundrobin_one_open"
            ),
        ]

    def __str__(self) -> str:
        return gettext("Closing evaluation") if self.is_evaluation else str(self.item)

    @property
    def is_open(self) -> bool:
        return self.ended_at is None


class Turn(models.Model):
    """One member's turn in a round robin: when they spoke, or that they passed, and the thought noted.

    In the closing evaluation the thought is the member's takeaway, with an optional 1 to 5 rating.
    """

    round_robin = models.ForeignKey(RoundRobin, on_delete=models.CASCADE, related_name="turns")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="turns")
    position = models.PositiveSmallIntegerField(_("position"))
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    passed = models.BooleanField(_("passed"), default=False)
    thought = models.TextField(_("thought"), blank=True)
    rating = models.PositiveSmallIntegerField(_("rating of the meeting"), null=True, blank=True)
    # Raised by every save of the thought: a stale save is refused (meetings/texts.py).
    version = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("turn")
        verbose_name_plural = _("turns")
        ordering = ["round_robin", "position"]
        constraints = [
            models.UniqueConstraint(fields=["round_robin", "member"], name="meetings_turn_once_per_member"),
            models.UniqueConstraint(fields=["round_robin", "position"], name="meetings_turn_one_per_position"),
            models.CheckConstraint(
                condition=models.Q(rating__isnull=True) | models.Q(rating__gte=1, rating__lte=5),
                name="meetings_turn_rating_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.position + 1}. {self.member}"

    @property
    def speaking_seconds(self) -> int | None:
        """How long the member held the floor; None until the turn is over."""
        if self.started_at is None or self.ended_at is None:
            return None
        return int((self.ended_at - self.started_at).total_seconds())


class Proposal(models.Model):
    """A proposal put to a consensus check on an agenda item. An amendment is a new proposal (number 2,
    3, …), so every version and its stances are kept."""

    class Outcome(models.TextChoices):
        OPEN = "open", _("Open")
        CONSENSUS = "consensus", _("Consensus")
        BLOCKED = "blocked", _("Blocked")

    item = models.ForeignKey(AgendaItem, on_delete=models.CASCADE, related_name="proposals")
    number = models.PositiveSmallIntegerField(_("version"))
    text = models.TextField(_("proposal"))
    # Raised by every save of the text: a stale save is refused (meetings/texts.py).
    version = models.PositiveIntegerField(default=0)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices, default=Outcome.OPEN)
    written_by = models.ForeignKey(Member, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(_("written at"), default=timezone.now)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)

    class Meta:
        verbose_name = _("proposal")
        verbose_name_plural = _("proposals")
        ordering = ["item", "number"]
        constraints = [
            models.UniqueConstraint(fields=["item", "number"], name="meetings_proposal_number_per_item"),
            # One proposal under check at a time: a blocked one is amended by writing the next.
            models.UniqueConstraint(
                fields=["item"], condition=models.Q(outcome="open"), name="meetings_proposal_one_open_per_item"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item} #{self.number}"


class Stance(models.Model):
    """A member's stance in a consensus check: agree, stand aside or block (the last two with a reason)."""

    class Kind(models.TextChoices):
        AGREE = "agree", _("Agree")
        STAND_ASIDE = "stand_aside", _("Stand aside")
        BLOCK = "block", _("Block")

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="stances")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="stances")
    kind = models.CharField(_("stance"), max_length=12, choices=Kind.choices)
    reason = models.TextField(_("reason"), blank=True)
    recorded_by = models.ForeignKey(Member, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        verbose_name = _("stance")
        verbose_name_plural = _("stances")
        constraints = [
            models.UniqueConstraint(fields=["proposal", "member"], name="meetings_stance_once_per_member"),
            models.CheckConstraint(
                condition=models.Q(kind="agree") | ~models.Q(reason=""), name="meetings_stance_reason_unless_agree"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member}: {self.get_kind_display()}"


# The text-search configuration PostgreSQL has for each of our languages (stemming, stop words): a search
# in Spanish finds "biblioteca" for "bibliotecas". A language without one reads words as they are.
SEARCH_CONFIGS = {"en": "english", "es": "spanish"}
SEARCH_CONFIG_OTHERWISE = "simple"


def search_config(language: str | None) -> str:
    """The text-search configuration for a reader's language ("es-mx" reads as "es")."""
    base = (language or "").lower().split("-")[0]
    return SEARCH_CONFIGS.get(base, SEARCH_CONFIG_OTHERWISE)


def _decision_search_vector(config: str) -> SearchVector:
    # The expression of the GIN indexes (migrations/0003_decision_search.py), repeated exactly: PostgreSQL
    # uses a functional index only for a query on the same expression.
    return SearchVector("text", config=config)


class DecisionQuerySet(models.QuerySet):
    def for_alliance(self, alliance: Alliance) -> "DecisionQuerySet":
        return self.filter(alliance=alliance).order_by("-decided_at", "-pk")

    def matching(self, query: str, *, language: str | None) -> "DecisionQuerySet":
        """Decisions whose text matches `query` (a search box's words).

        On PostgreSQL, full-text search in the reader's language (stems, stop words, "quoted phrases",
        -excluded words: websearch syntax, which accepts any input), read from a GIN index per language.
        Elsewhere (SQLite in development), the text contains the words as typed, case aside.
        """
        if connections[self.db].vendor != "postgresql":
            return self.filter(text__icontains=query)
        config = search_config(language)
        return self.alias(search=_decision_search_vector(config)).filter(
            search=SearchQuery(query, config=config, search_type="websearch")
        )


class Decision(models.Model):
    """A decision reached by consensus on an agenda item: the proposal that nobody blocked.

    The alliance is kept on the row so that the decision log reads one index (alliance, newest first).
    """

    alliance = models.ForeignKey(Alliance, on_delete=models.CASCADE, related_name="decisions")
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="decisions")
    item = models.OneToOneField(AgendaItem, on_delete=models.CASCADE, related_name="decision")
    proposal = models.OneToOneField(Proposal, on_delete=models.CASCADE, related_name="decision")
    text = models.TextField(_("decision"))
    decided_at = models.DateTimeField(_("decided at"), default=timezone.now)

    objects = DecisionQuerySet.as_manager()

    class Meta:
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")
        ordering = ["-decided_at", "-pk"]
        # The search has a GIN index per text-search configuration, on PostgreSQL only (migration 0003
        # makes them): declared here, SQLite would be asked to build them too.
        indexes = [models.Index(fields=["alliance", "-decided_at"], name="meetings_decision_log")]

    def __str__(self) -> str:
        return self.text[:80]


class NoteAmendment(models.Model):
    """A correction to notes already sent: the notes stay as sent, and the amendment says what changed."""

    class Section(models.TextChoices):
        ATTENDANCE = "attendance", _("Attendance")
        REFLECTION = "reflection", _("Opening reflection")
        ITEMS = "items", _("Items and decisions")
        TODOS = "todos", _("To-dos")
        TAKEAWAYS = "takeaways", _("Takeaways")
        NEXT_MEETING = "next_meeting", _("Next meeting")

    TEXT_MAX_LENGTH = 5_000

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="note_amendments")
    section = models.CharField(_("section"), max_length=20, choices=Section.choices, blank=True)
    text = models.TextField(_("what changed"))
    author = models.ForeignKey(Member, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(_("amended at"), default=timezone.now)

    class Meta:
        verbose_name = _("amendment to the notes")
        verbose_name_plural = _("amendments to the notes")
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(text=""), name="meetings_noteamendment_text_not_empty"),
        ]

    def __str__(self) -> str:
        return self.text[:80]
