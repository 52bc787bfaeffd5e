"""The meetings of the benchmark's data set (`seed_bench`): a history for every alliance, bulk inserted.

Every alliance gets `past` meetings held, one a fortnight, with rotating roles and `items` agenda items
each; the alliances the benchmark reads also get an upcoming meeting prepared through the real services.
"""

import random
from datetime import timedelta

from django.utils import timezone

from alliances.models import Alliance, Member
from meetings import agenda, services
from meetings.models import (
    CLOSING_SEGMENTS,
    DEFAULT_SEGMENT_MINUTES,
    OPENING_SEGMENTS,
    AgendaItem,
    AgendaSegment,
    Apology,
    Meeting,
    Reflection,
)

TITLES = [
    "Reading buddies: this term's pairs",
    "Summer reading challenge",
    "The library's small grant",
    "Volunteer training dates",
    "Book drive at the clinic",
    "Report from the school board",
    "Family literacy night",
    "Budget for new books",
]
DESCRIPTION = "Background in the **shared folder**; bring one question.\n\n- what we know\n- what we need"


def bench_meetings(
    *, members_by_alliance: dict[Alliance, list[Member]], past: int, items: int, rng: random.Random
) -> None:
    now = timezone.now()
    kinds = [kind for kind, _label in AgendaItem.Kind.choices]
    meetings = []
    for alliance, members in members_by_alliance.items():
        for number in range(past):
            meetings.append(
                Meeting(
                    alliance=alliance,
                    starts_at=(now - timedelta(weeks=2 * (past - number))).replace(minute=0, second=0, microsecond=0),
                    duration_minutes=90,
                    time_zone=alliance.time_zone,
                    venue_address=alliance.venue_address,
                    video_link=alliance.video_link,
                    # Round robin, the note taker one step ahead of the facilitator: what the rotation gives.
                    facilitator=members[number % len(members)],
                    note_taker=members[(number + 1) % len(members)],
                    sequence=1,
                    revision=items + 1,
                )
            )
    Meeting.objects.bulk_create(meetings, batch_size=2000)
    AgendaSegment.objects.bulk_create(
        (
            AgendaSegment(meeting=meeting, kind=kind, minutes=DEFAULT_SEGMENT_MINUTES[kind])
            for meeting in meetings
            for kind in (*OPENING_SEGMENTS, *CLOSING_SEGMENTS)
        ),
        batch_size=5000,
    )
    AgendaItem.objects.bulk_create(
        (
            AgendaItem(
                meeting=meeting,
                title=rng.choice(TITLES),
                description=DESCRIPTION,
                kind=rng.choice(kinds),
                minutes=rng.choice([5, 10, 15, 20]),
                position=position,
            )
            for meeting in meetings
            for position in range(1, items + 1)
        ),
        batch_size=5000,
    )
    Reflection.objects.bulk_create(
        (
            Reflection(
                meeting=meeting, text="Alone we can do so little; together we can do so much.", source="Helen Keller"
            )
            for meeting in meetings
        ),
        batch_size=5000,
    )


def bench_upcoming_meeting(*, alliance: Alliance, steward: Member, items: int) -> Meeting:
    """The next meeting of a measured alliance, prepared as a facilitator would: items, a reflection, apologies."""
    members = list(Member.objects.active().filter(alliance=alliance).order_by("joined_at", "pk"))
    meeting = services.meeting_schedule(
        alliance=alliance,
        by=steward,
        starts_at=timezone.now() + timedelta(days=5),
        duration_minutes=120,
        facilitator=steward,
        note_taker=next(m for m in members if m.pk != steward.pk),
        venue_address=alliance.venue_address,
        video_link=alliance.video_link,
        support_offered="Interpretation Spanish/English; childcare; step-free entrance.",
    )
    for position in range(items):
        agenda.agenda_item_add(
            meeting=meeting,
            by=steward,
            title=TITLES[position % len(TITLES)],
            description=DESCRIPTION,
            minutes=10,
            presenter=members[position % len(members)],
        )
    agenda.reflection_set(
        meeting=meeting,
        by=steward,
        kind="quote",
        text="Once you learn to read, you will be forever free.",
        source="Frederick Douglass",
        link="",
    )
    holders = (meeting.facilitator_id, meeting.note_taker_id)
    away = [m for m in members if m.pk not in holders][-3:]
    Apology.objects.bulk_create(Apology(meeting=meeting, member=m) for m in away)
    return meeting
