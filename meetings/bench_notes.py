"""The data set of the benchmark's "notes sent to 500 members" scenario (bench/notes_send.py).

An alliance of `members` active members (500; a few in the smoke run) with accounts of its own, made once
and found again on a rerun (BENCH_REUSE=1); and on every run a fresh meeting held by it whose notes are
ready to send: the roll (34 present, the others excused or absent, who each get the decisions taken
without them), a round robin and a consensus decision, a closing evaluation, open to-dos for a few of those
present (each copy of their owner carries a one-click link), and the next meeting scheduled, so that every
copy carries its reader's calendar invitation. The note taker sends them.

Rows go in with bulk inserts (meetings/bench.py writes the run of show); the alliance's page version is
renewed after, as bulk inserts send no signal.
"""

import random
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from alliances import versions
from alliances.management.commands.seed_bench import STEWARD_EMAIL, TIME_ZONES
from alliances.models import Alliance, Member
from meetings.bench import bench_meetings
from meetings.models import AgendaItem, Meeting
from tasks.bench import TEXTS
from tasks.models import Todo

SLUG, NAME = "bench-notes", "Bench Notes Alliance"
MEMBERS, SMOKE_MEMBERS = 500, 12
EMAIL = "bench-notes-{:04d}@example.org"
TODOS = 30  # open to-dos written down at the meeting, for as many of those present


def notes_alliance(*, members: int) -> tuple[Alliance, list[Member]]:
    """The alliance of `members` active members, made on the first run and found on a rerun."""
    alliance = Alliance.objects.filter(slug=SLUG).first()
    if alliance is None:
        alliance = _create_alliance(members)
    active = list(Member.objects.active().filter(alliance=alliance).select_related("user").order_by("pk"))
    if len(active) != members:
        raise ValueError(f"{SLUG} has {len(active)} active members, not {members}: reseed the benchmark's database.")
    return alliance, active


@transaction.atomic
def _create_alliance(members: int) -> Alliance:
    rng = random.Random(12)  # noqa: S311 - not a secret: the same data set on every run
    # Every bench account shares one password hash (seed_bench): the note taker signs in with it.
    password = User.objects.get(email=STEWARD_EMAIL).password
    now = timezone.now()
    users = User.objects.bulk_create(
        User(
            email=EMAIL.format(number),
            display_name=f"Notes Reader {number:04d}",
            # Copies in both languages and several zones: each copy is rendered in its reader's.
            language="es" if number % 3 == 2 else "en",
            time_zone=TIME_ZONES[number % len(TIME_ZONES)],
            password=password,
            email_confirmed_at=now - timedelta(days=400),
        )
        for number in range(members)
    )
    alliance = Alliance.objects.create(
        slug=SLUG,
        name=NAME,
        created_by=users[0],
        created_at=now - timedelta(days=365),
        time_zone="America/Puerto_Rico",
        venue_address="Biblioteca Municipal, Calle Loíza 100, San Juan",
        video_link=f"https://meet.example.org/{SLUG}",
    )
    Member.objects.bulk_create(
        Member(
            alliance=alliance,
            user=user,
            is_steward=number < 3,
            joined_at=now - timedelta(days=rng.randint(30, 360)),
        )
        for number, user in enumerate(users)
    )
    return alliance


@transaction.atomic
def notes_meeting(*, alliance: Alliance, members: list[Member], rng: random.Random) -> Meeting:
    """A fresh meeting of `alliance` held two weeks ago, its notes unsent, the next meeting scheduled."""
    bench_meetings(members_by_alliance={alliance: members}, past=1, items=8, rng=rng, detailed={alliance.pk})
    meeting = Meeting.objects.filter(alliance=alliance).latest("pk")
    now = timezone.now()
    following = Meeting.objects.create(
        alliance=alliance,
        starts_at=(now + timedelta(days=14)).replace(minute=0, second=0, microsecond=0),
        duration_minutes=90,
        time_zone=alliance.time_zone,
        venue_address=alliance.venue_address,
        video_link=alliance.video_link,
        facilitator=meeting.note_taker,
        note_taker=members[2],
        sequence=1,
        created_by=meeting.facilitator,
    )
    Meeting.objects.filter(pk=meeting.pk).update(notes_sent_at=None, notes_sent_by=None, next_meeting=following)
    present = list(
        Member.objects.filter(attendance__meeting=meeting, attendance__status="present").order_by("pk")[:TODOS]
    )
    items = list(AgendaItem.objects.filter(meeting=meeting).order_by("position"))
    Todo.objects.bulk_create(
        Todo(
            alliance=alliance,
            meeting=meeting,
            item=items[number % len(items)],
            text=TEXTS[number % len(TEXTS)],
            owner=owner,
            due_on=(now + timedelta(days=7 + number % 14)).date(),
            created_by=meeting.note_taker,
            created_at=meeting.starts_at,
        )
        for number, owner in enumerate(present)
    )
    versions.bump(alliance.pk)
    meeting.refresh_from_db()
    return meeting
