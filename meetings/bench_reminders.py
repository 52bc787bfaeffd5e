"""What the scheduled jobs find in the benchmark's data set (`seed_bench`; measured by bench/scheduled_jobs.py).

The meetings held by every alliance had their notes sent the next day and no alliance has a meeting coming
but the two the pages read, so without this the agenda and notes reminders would find nothing. Every
alliance the benchmark's pages do not show (none of the two people who sign in belongs to it) gets:

- its reminder settings varied, as stewards set them: the agenda reminder 1, 3 or 7 days before, to-dos
  nudged 0, 1, 3 or 7 days before their due date and every 1, 3 or 7 days while overdue;
- its next meeting, the agenda unsent: every other one due its reminder at the next 07:00 run (some of
  those with the agenda sent, already reminded or cancelled: they must get none), the others later;
- a meeting that ended with its notes unsent, at each reminder stage: due during the next day (24 hours,
  3 days, 7 days after its end, the earlier reminders already sent), overdue (a run was missed), all
  reminders sent, or ended too long ago to be reminded.

Rows go in with bulk inserts, drawn from a generator of their own so that the rest of the data set is drawn
as before; made after the to-dos, which are written down at the meetings held before it.
"""

import random
from datetime import timedelta

from django.utils import timezone

from alliances.models import Alliance, Member
from meetings.models import CLOSING_SEGMENTS, DEFAULT_SEGMENT_MINUTES, OPENING_SEGMENTS, AgendaSegment, Meeting

# How long before the seed the meeting awaiting its notes ended, and how many reminders it had (stage).
NOTES_STAGES = [
    ("first reminder due in the next day", (timedelta(hours=0), timedelta(days=1)), 0),
    ("a reminder overdue", (timedelta(days=4), timedelta(days=6)), 1),
    ("second reminder due in the next day", (timedelta(days=2), timedelta(days=3)), 1),
    ("facilitator told in the next day", (timedelta(days=6), timedelta(days=7)), 2),
    ("every reminder sent", (timedelta(days=8), timedelta(days=25)), 3),
    ("ended too long ago", (timedelta(days=31), timedelta(days=40)), 0),
]


def bench_reminders(*, members_by_alliance: dict[Alliance, list[Member]], skip: set[int]) -> int:
    """Reminder settings and meetings for the alliances not in `skip` (pks); returns how many meetings."""
    rng = random.Random(12)  # noqa: S311 - not a secret: the same data set on every run
    now = timezone.now().replace(second=0, microsecond=0)
    alliances, meetings = [], []
    position = 0
    for alliance, members in members_by_alliance.items():
        if alliance.pk in skip or len(members) < 2:
            continue
        # Every other alliance's next meeting is due its agenda reminder at the next 07:00 run (whenever in
        # the next 24 hours that comes, and a benchmark starts its day up to a few hours after the seed): it
        # starts after that run and within its reminder days of it.
        due = position % 2 == 0
        alliance.agenda_reminder_days = rng.choice([3, 3, 7] if due else [1, 3, 7])
        alliance.nudge_days_before = rng.choice([0, 1, 3, 3, 7])
        alliance.nudge_overdue_every_days = rng.choice([1, 3, 3, 7])
        alliances.append(alliance)
        window = timedelta(days=alliance.agenda_reminder_days)
        earliest = now + timedelta(hours=29) if due else now + window + timedelta(hours=29)
        latest = now + window - timedelta(hours=1) if due else now + timedelta(days=11)
        starts_at = earliest + timedelta(minutes=rng.randint(0, int((latest - earliest).total_seconds() // 60)))
        facilitator, note_taker = rng.sample(members, 2)
        upcoming = Meeting(
            alliance=alliance,
            starts_at=starts_at.replace(minute=0),
            duration_minutes=90,
            time_zone=alliance.time_zone,
            venue_address=alliance.venue_address,
            video_link=alliance.video_link,
            facilitator=facilitator,
            note_taker=note_taker,
            created_by=facilitator,
            created_at=now - timedelta(days=10),
        )
        # Of those due, some must get nothing: the agenda went out, yesterday's run reminded, cancelled.
        if position % 8 == 2:
            upcoming.agenda_sent_at, upcoming.agenda_sent_revision, upcoming.agenda_sent_count = now, 0, 1
            upcoming.sequence = 1
        elif position % 8 == 4:
            upcoming.agenda_reminder_sent_at = now - timedelta(days=1)
        elif position % 16 == 6:
            upcoming.status, upcoming.cancelled_at, upcoming.cancelled_by = Meeting.Status.CANCELLED, now, facilitator
        meetings.append(upcoming)

        _label, (youngest, oldest), reminders = NOTES_STAGES[position % len(NOTES_STAGES)]
        ended_at = now - youngest - timedelta(minutes=rng.randint(1, int((oldest - youngest).total_seconds() // 60)))
        held_by, noted_by = rng.sample(members, 2)
        starts_held = ended_at - timedelta(minutes=90)
        meetings.append(
            Meeting(
                alliance=alliance,
                starts_at=starts_held,
                duration_minutes=90,
                time_zone=alliance.time_zone,
                venue_address=alliance.venue_address,
                video_link=alliance.video_link,
                facilitator=held_by,
                note_taker=noted_by,
                sequence=1,
                status=Meeting.Status.ENDED,
                started_at=starts_held,
                started_by=held_by,
                ended_at=ended_at,
                ended_by=held_by,
                created_at=starts_held - timedelta(days=14),
                notes_reminder_count=reminders,
                notes_reminded_at=ended_at + timedelta(days=1) if reminders else None,
            )
        )
        position += 1
    Alliance.objects.bulk_update(
        alliances, ["agenda_reminder_days", "nudge_days_before", "nudge_overdue_every_days"], batch_size=500
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
    return len(meetings)
