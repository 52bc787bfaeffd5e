"""The demo alliance's meetings (`seed_demo`): a history for the rotation and an upcoming meeting to prepare."""

from datetime import time, timedelta

from django.utils import timezone

from alliances.models import Alliance, Member
from meetings import agenda, rotation, services
from meetings.models import CLOSING_SEGMENTS, DEFAULT_SEGMENT_MINUTES, OPENING_SEGMENTS, AgendaSegment, Meeting
from meetings.scheduling import local_to_utc, next_slot

PAST_MEETINGS = 4
SUPPORT = "Interpretation Spanish/English; childcare in the children's room; step-free entrance on Calle Loíza."
ITEMS = [
    ("Reading buddies: this term's pairs", "information", 10),
    ("Summer reading challenge: which prizes?", "discussion", 20),
    ("Apply for the library's small grant", "decision", 15),
]


def demo_meetings(*, alliance: Alliance) -> None:
    """Past meetings with rotating roles, and the next one with a drafted agenda. Nothing twice."""
    if Meeting.objects.for_alliance(alliance).exists():
        return
    members = list(Member.objects.active().filter(alliance=alliance).order_by("joined_at", "pk"))
    steward = next(m for m in members if m.is_steward)
    now = timezone.now()
    # The meetings already held: written directly, since the services schedule only in the future.
    start = alliance.meeting_time or time(18)
    day = (now - timedelta(weeks=4 * PAST_MEETINGS + 2)).date()
    turns: list[rotation.Turn] = []
    for _ in range(PAST_MEETINGS):
        slot = next_slot(
            alliance=alliance, latest=None, latest_duration=None, now=local_to_utc(day, start, alliance.time_zone)
        )
        starts_at = local_to_utc(slot.day, start, alliance.time_zone)
        facilitator, note_taker = rotation.suggest_roles(candidates=members, turns=turns)
        meeting = Meeting.objects.create(
            alliance=alliance,
            starts_at=starts_at,
            duration_minutes=slot.duration_minutes,
            time_zone=alliance.time_zone,
            venue_address=alliance.venue_address,
            video_link=alliance.video_link,
            facilitator=facilitator,
            note_taker=note_taker,
            created_by=steward,
            created_at=starts_at - timedelta(weeks=2),
        )
        AgendaSegment.objects.bulk_create(
            AgendaSegment(meeting=meeting, kind=kind, minutes=DEFAULT_SEGMENT_MINUTES[kind])
            for kind in (*OPENING_SEGMENTS, *CLOSING_SEGMENTS)
        )
        turns.append(rotation.Turn(starts_at, meeting.facilitator_id, meeting.note_taker_id))
        day = slot.day + timedelta(weeks=3)

    latest = services.latest_meeting(alliance)
    slot = next_slot(alliance=alliance, latest=latest.starts_at if latest else None, latest_duration=None, now=now)
    facilitator, note_taker = rotation.suggest_roles(candidates=members, turns=rotation.role_history(alliance=alliance))
    meeting = services.meeting_schedule(
        alliance=alliance,
        by=steward,
        starts_at=local_to_utc(slot.day, slot.start or start, alliance.time_zone),
        duration_minutes=slot.duration_minutes,
        facilitator=facilitator,
        note_taker=note_taker,
        venue_address=alliance.venue_address,
        video_link=alliance.video_link,
        support_offered=SUPPORT,
    )
    for title, kind, minutes in ITEMS:
        agenda.agenda_item_add(meeting=meeting, by=steward, title=title, kind=kind, minutes=minutes)
    agenda.reflection_set(
        meeting=meeting,
        by=steward,
        kind="quote",
        text="Once you learn to read, you will be forever free.",
        source="Frederick Douglass",
        link="",
    )
