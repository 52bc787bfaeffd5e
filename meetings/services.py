"""Writes of the meetings app: scheduling, rescheduling and cancelling meetings, apologies, turns.

Every service is keyword-only, owns its transaction and raises `MeetingError` with a message written for
the person who tried.
"""

from datetime import datetime

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from alliances import versions
from alliances.models import Alliance, Member
from meetings import rotation
from meetings.models import (
    CLOSING_SEGMENTS,
    DEFAULT_SEGMENT_MINUTES,
    OPENING_SEGMENTS,
    AgendaSegment,
    Apology,
    Meeting,
    Role,
    RoleTurnChange,
)
from roundtable.errors import DomainError

# The database holds the same range (meetings_meeting_duration_range).
MIN_DURATION_MINUTES = 5
MAX_DURATION_MINUTES = 24 * 60


class MeetingError(DomainError):
    """A rule of meetings was broken; the message is safe to show to the user."""


# --- Who may --------------------------------------------------------------------------------------


def latest_meeting(alliance: Alliance) -> Meeting | None:
    """The alliance's latest meeting that was not cancelled, past or upcoming."""
    return Meeting.objects.for_alliance(alliance).active().order_by("-starts_at", "-pk").first()


def may_schedule(member: Member, *, latest: Meeting | None = None) -> bool:
    """A steward, or the facilitator of the alliance's latest meeting, schedules the next one."""
    if not member.is_active:
        return False
    if member.is_steward:
        return True
    latest = latest if latest is not None else latest_meeting(member.alliance)
    return latest is not None and latest.facilitator_id == member.pk


def _require_editor(meeting: Meeting, by: Member) -> None:
    if by.alliance_id != meeting.alliance_id or not meeting.can_edit(by):
        raise PermissionDenied(_("Only the meeting's facilitator and the stewards can change the meeting."))


def _lock(meeting: Meeting, *, now: datetime) -> Meeting:
    """The meeting row, locked for the change; a cancelled or past meeting no longer changes."""
    locked = Meeting.objects.select_for_update().select_related("alliance").get(pk=meeting.pk)
    if locked.is_cancelled:
        raise MeetingError(_("This meeting was cancelled."))
    # A meeting can be started a little before its time (meetings/run.py): it is under way all the same.
    if locked.starts_at <= now or locked.status in (Meeting.Status.IN_PROGRESS, Meeting.Status.ENDED):
        raise MeetingError(_("This meeting has already started or taken place."))
    return locked


# --- Checks shared by scheduling and rescheduling -------------------------------------------------


def _check_when(starts_at: datetime, duration_minutes: int, now: datetime) -> None:
    if starts_at <= now:
        raise MeetingError(_("A meeting can only be scheduled in the future."))
    if not MIN_DURATION_MINUTES <= duration_minutes <= MAX_DURATION_MINUTES:
        raise MeetingError(_("Enter a duration between 5 and 1440 minutes."))


def _check_roles(
    alliance: Alliance, facilitator: Member | None, note_taker: Member | None, *, meeting: Meeting | None = None
) -> None:
    for holder in (facilitator, note_taker):
        if holder is not None and (holder.alliance_id != alliance.pk or not holder.is_active):
            raise MeetingError(_("The facilitator and the note taker must be active members of the alliance."))
    if facilitator is not None and note_taker is not None and facilitator.pk == note_taker.pk:
        raise MeetingError(_("One person cannot be both facilitator and note taker of a meeting."))
    if meeting is not None:
        holders = [h.pk for h in (facilitator, note_taker) if h is not None]
        if Apology.objects.filter(meeting=meeting, member_id__in=holders).exists():
            raise MeetingError(_("Someone who sent apologies for this meeting cannot take a role in it."))


def _bump(meeting: Meeting, *, sequence: bool = False) -> None:
    # F() so that two changes committed one after the other each count, whatever copy each one held.
    changes = {"revision": F("revision") + 1}
    if sequence:
        changes["sequence"] = F("sequence") + 1
    Meeting.objects.filter(pk=meeting.pk).update(**changes)
    versions.bump(meeting.alliance_id)  # update() sends no signal
    meeting.refresh_from_db(fields=["revision", "sequence"])


# --- Scheduling, rescheduling, cancelling ----------------------------------------------------------


@transaction.atomic
def meeting_schedule(
    *,
    alliance: Alliance,
    by: Member,
    starts_at: datetime,
    duration_minutes: int,
    facilitator: Member | None,
    note_taker: Member | None,
    venue_address: str = "",
    video_link: str = "",
    support_offered: str = "",
    now: datetime | None = None,
) -> Meeting:
    """Schedule a meeting with its six standard agenda segments."""
    now = now or timezone.now()
    if by.alliance_id != alliance.pk or not may_schedule(by):
        raise PermissionDenied(_("Only a steward or the facilitator of the latest meeting can schedule a meeting."))
    _check_when(starts_at, duration_minutes, now)
    _check_roles(alliance, facilitator, note_taker)
    meeting = Meeting.objects.create(
        alliance=alliance,
        starts_at=starts_at,
        duration_minutes=duration_minutes,
        time_zone=alliance.time_zone,
        venue_address=venue_address,
        video_link=video_link,
        support_offered=support_offered,
        facilitator=facilitator,
        note_taker=note_taker,
        created_by=by,
        created_at=now,
    )
    AgendaSegment.objects.bulk_create(
        AgendaSegment(meeting=meeting, kind=kind, minutes=DEFAULT_SEGMENT_MINUTES[kind])
        for kind in (*OPENING_SEGMENTS, *CLOSING_SEGMENTS)
    )
    # Items deferred at an earlier meeting while none was scheduled join this one's agenda. Imported
    # here: the consensus module builds on this one.
    from meetings.consensus import carry_deferred_items

    carry_deferred_items(meeting=meeting, now=now)
    return meeting


@transaction.atomic
def meeting_reschedule(
    *,
    meeting: Meeting,
    by: Member,
    starts_at: datetime,
    duration_minutes: int,
    facilitator: Member | None,
    note_taker: Member | None,
    venue_address: str = "",
    video_link: str = "",
    support_offered: str = "",
    now: datetime | None = None,
) -> Meeting:
    """Change a meeting; a new time or place also goes, as an updated invitation, to whoever got the agenda."""
    now = now or timezone.now()
    _require_editor(meeting, by)
    meeting = _lock(meeting, now=now)
    _check_when(starts_at, duration_minutes, now)
    _check_roles(meeting.alliance, facilitator, note_taker, meeting=meeting)
    moved = (
        meeting.starts_at != starts_at
        or meeting.duration_minutes != duration_minutes
        or meeting.venue_address != venue_address
        or meeting.video_link != video_link
    )
    meeting.starts_at, meeting.duration_minutes = starts_at, duration_minutes
    meeting.venue_address, meeting.video_link, meeting.support_offered = venue_address, video_link, support_offered
    meeting.facilitator, meeting.note_taker = facilitator, note_taker
    meeting.save(
        update_fields=[
            "starts_at",
            "duration_minutes",
            "venue_address",
            "video_link",
            "support_offered",
            "facilitator",
            "note_taker",
        ]
    )
    # Calendars ignore an update whose SEQUENCE is not higher: a new time or place raises it.
    _bump(meeting, sequence=moved)
    if moved:
        # Imported here: sending builds on the agenda, which raises this module's MeetingError.
        from meetings import sending

        sending.meeting_notify_rescheduled(meeting=meeting)
    return meeting


@transaction.atomic
def meeting_cancel(*, meeting: Meeting, by: Member, now: datetime | None = None) -> Meeting:
    """Cancel an upcoming meeting; whoever got the agenda gets a cancellation that removes the event."""
    now = now or timezone.now()
    _require_editor(meeting, by)
    meeting = _lock(meeting, now=now)
    meeting.status = Meeting.Status.CANCELLED
    meeting.cancelled_at, meeting.cancelled_by = now, by
    meeting.save(update_fields=["status", "cancelled_at", "cancelled_by"])
    _bump(meeting, sequence=True)
    # Imported here, as in meeting_reschedule.
    from meetings import sending

    sending.meeting_notify_cancelled(meeting=meeting)
    return meeting


# --- Apologies ------------------------------------------------------------------------------------


def _active_members(alliance: Alliance) -> list[Member]:
    return list(Member.objects.active().filter(alliance=alliance).order_by("joined_at", "pk"))


def _hand_on(meeting: Meeting, *, role: str, by: Member | None, kind: str) -> Member | None:
    """Give `role` of `meeting` to the fairest other available member, recorded as a change of turn.

    Its holder keeps their place in the rotation: they did not hold the role, so they are still the
    one who held it least (a skipped turn stays theirs next time).
    """
    holder = meeting.holder(role)
    other = meeting.note_taker if role == Role.FACILITATOR else meeting.facilitator
    away = set(Apology.objects.filter(meeting=meeting).values_list("member_id", flat=True))
    away |= {m.pk for m in (holder, other) if m is not None}
    replacement = rotation.fairest_for(
        role=role,
        candidates=_active_members(meeting.alliance),
        turns=rotation.role_history(alliance=meeting.alliance, before=meeting.starts_at, exclude=meeting),
        unavailable=away,
    )
    if role == Role.FACILITATOR:
        meeting.facilitator = replacement
    else:
        meeting.note_taker = replacement
    meeting.save(update_fields=["facilitator" if role == Role.FACILITATOR else "note_taker"])
    if holder is not None and replacement is not None:
        RoleTurnChange.objects.create(
            meeting=meeting, role=role, kind=kind, from_member=holder, to_member=replacement, changed_by=by
        )
    return replacement


@transaction.atomic
def apology_send(*, meeting: Meeting, member: Member, now: datetime | None = None) -> Apology:
    """A member cannot attend; a role they held passes to the fairest other member (their turn stays theirs)."""
    now = now or timezone.now()
    if member.alliance_id != meeting.alliance_id or not member.is_active:
        raise PermissionDenied
    meeting = _lock(meeting, now=now)
    apology, created = Apology.objects.get_or_create(meeting=meeting, member=member, defaults={"created_at": now})
    if not created:
        raise MeetingError(_("You have already sent apologies for this meeting."))
    for role in (Role.FACILITATOR, Role.NOTE_TAKER):
        holder = meeting.holder(role)
        if holder is not None and holder.pk == member.pk:
            _hand_on(meeting, role=role, by=member, kind=RoleTurnChange.Kind.SKIP)
    _bump(meeting)
    return apology


@transaction.atomic
def apology_withdraw(*, meeting: Meeting, member: Member, now: datetime | None = None) -> None:
    """Take apologies back: the member can attend after all (a role handed on stays with its new holder)."""
    now = now or timezone.now()
    if member.alliance_id != meeting.alliance_id or not member.is_active:
        raise PermissionDenied
    meeting = _lock(meeting, now=now)
    deleted, _rows = Apology.objects.filter(meeting=meeting, member=member).delete()
    if not deleted:
        raise MeetingError(_("You have not sent apologies for this meeting."))
    _bump(meeting)


# --- Changes of turn ------------------------------------------------------------------------------


def _require_holder_or_editor(meeting: Meeting, role: str, by: Member) -> Member:
    holder = meeting.holder(role)
    if holder is None:
        raise MeetingError(_("Nobody holds this role yet."))
    if by.alliance_id != meeting.alliance_id or not (holder.pk == by.pk or meeting.can_edit(by)):
        raise PermissionDenied(_("Only the member whose turn it is, the facilitator and the stewards can change it."))
    return holder


@transaction.atomic
def role_turn_skip(*, meeting: Meeting, role: str, by: Member, now: datetime | None = None) -> Meeting:
    """The holder skips their turn: the fairest other member takes it, and it stays the holder's next time."""
    now = now or timezone.now()
    _require_holder_or_editor(meeting, role, by)
    meeting = _lock(meeting, now=now)
    if _hand_on(meeting, role=role, by=by, kind=RoleTurnChange.Kind.SKIP) is None:
        raise MeetingError(_("There is nobody else available to take this turn."))
    _bump(meeting)
    return meeting


@transaction.atomic
def role_turn_swap(
    *, meeting: Meeting, role: str, with_member: Member, by: Member, now: datetime | None = None
) -> Meeting:
    """Two members swap: `with_member` takes the role; if they held the other role, the holder takes that."""
    now = now or timezone.now()
    _require_holder_or_editor(meeting, role, by)
    meeting = _lock(meeting, now=now)
    holder = meeting.holder(role)
    if holder is None:
        raise MeetingError(_("Nobody holds this role yet."))
    if with_member.pk == holder.pk:
        raise MeetingError(_("Choose another member to swap with."))
    if with_member.alliance_id != meeting.alliance_id or not with_member.is_active:
        raise MeetingError(_("The facilitator and the note taker must be active members of the alliance."))
    facilitator: Member | None
    note_taker: Member | None
    if role == Role.FACILITATOR:
        facilitator, note_taker = with_member, meeting.note_taker
        if note_taker is not None and note_taker.pk == with_member.pk:
            note_taker = holder
    else:
        facilitator, note_taker = meeting.facilitator, with_member
        if facilitator is not None and facilitator.pk == with_member.pk:
            facilitator = holder
    _check_roles(meeting.alliance, facilitator, note_taker, meeting=meeting)
    meeting.facilitator, meeting.note_taker = facilitator, note_taker
    meeting.save(update_fields=["facilitator", "note_taker"])
    RoleTurnChange.objects.create(
        meeting=meeting,
        role=role,
        kind=RoleTurnChange.Kind.SWAP,
        from_member=holder,
        to_member=with_member,
        changed_by=by,
        changed_at=now,
    )
    _bump(meeting)
    return meeting


def member_roles_hand_on(*, member: Member, now: datetime | None = None) -> list[Meeting]:
    """A member who left holds no role in an upcoming meeting: each passes to the fairest other member.

    Called inside the transaction that ends the membership (alliances.services), after it ended, so the
    rotation no longer counts them among the candidates.
    """
    now = now or timezone.now()
    held = (
        Meeting.objects.upcoming(now)
        .filter(Q(facilitator=member) | Q(note_taker=member))
        # Only the meeting rows: PostgreSQL cannot lock the nullable side of the role joins.
        .select_for_update(of=("self",))
        .select_related("alliance", "facilitator", "note_taker")
    )
    meetings = list(held)
    for meeting in meetings:
        for role in (Role.FACILITATOR, Role.NOTE_TAKER):
            holder = meeting.holder(role)
            if holder is not None and holder.pk == member.pk:
                _hand_on(meeting, role=role, by=None, kind=RoleTurnChange.Kind.SKIP)
        _bump(meeting)
    return meetings
