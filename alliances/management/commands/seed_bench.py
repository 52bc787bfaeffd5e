"""Fill an empty database with the benchmark's data set (see bench/run.py and the README's "Benchmark").

200 alliances of 40 members and one of 400, about 3,000 people (most in several alliances), former members,
charters with history, invitations, and 50 meetings held by every alliance with what their run of show
left (meetings/bench.py: for a quarter of them and the large one, the roll, round robins, proposals with
stances, decisions). Rows go in with bulk inserts and every account shares one password hash, so the whole
set takes well under a minute; the hash is made once with the configured (production-strength) hasher, so
that signing in during the benchmark costs what it costs in production.

The two alliances the benchmark reads get their charter through the real services, so their history holds
whatever the services record; the other 200 only give the tables their size.
"""

import random
from dataclasses import dataclass
from datetime import time, timedelta

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from alliances import services
from alliances.models import Alliance, CharterChange, Invitation, Member, Norm
from meetings.bench import bench_live_meeting, bench_meeting_in_progress, bench_meetings, bench_upcoming_meeting
from meetings.bench_reminders import bench_reminders
from meetings.models import Meeting
from tasks.bench import bench_todos

# Read by bench/run.py: who signs in, and which alliances its pages show.
BENCH_PASSWORD = "round-table-bench-8"  # noqa: S105 - printed for the load generator; only an empty database gets it
STEWARD_EMAIL = "bench-steward@example.org"
MEMBER_EMAIL = "bench-member@example.org"
TYPICAL_SLUG, TYPICAL_NAME = "bench-typical", "Bench Alliance 000"
LARGE_SLUG, LARGE_NAME = "bench-large", "Bench Large Alliance"


@dataclass(frozen=True)
class Size:
    users: int
    alliances: int  # typical alliances, the measured one included
    members: int  # active members of a typical alliance
    large_members: int  # active members of the large alliance
    former: int  # former members of every alliance
    pending: int  # pending invitations of a typical alliance (the large one gets five times as many)
    meetings: int  # meetings held by every alliance
    items: int  # agenda items of every meeting
    detailed: int  # typical alliances (the measured one first) whose meetings keep what their run of show left


FULL = Size(
    users=3000, alliances=200, members=40, large_members=400, former=3, pending=3, meetings=50, items=8, detailed=50
)
SMOKE = Size(users=30, alliances=10, members=5, large_members=12, former=1, pending=1, meetings=2, items=2, detailed=3)

FIRST_NAMES = [
    "Ana", "Ben", "Carmen", "Dario", "Elena", "Femi", "Grace", "Hugo", "Inés", "Jamal", "Kiri", "Luis",
    "Maya", "Nadia", "Omar", "Paula", "Quinn", "Rosa", "Samir", "Tomás", "Uma", "Víctor", "Wen", "Yara",
]  # fmt: skip
LAST_NAMES = [
    "Rivera", "Okafor", "Nguyen", "Silva", "Haddad", "Kowalski", "Mensah", "Ortiz", "Tanaka", "Walsh",
    "Delgado", "Ibrahim", "Moreau", "Petrov", "Quispe", "Rahman", "Santos", "Yilmaz", "Zhou", "Abara",
]  # fmt: skip
ORGANISATIONS = [
    "Escuela Montessori Juan Ponce de León", "Neighbourhood Library Friends", "Barrio Health Clinic",
    "Parents for Reading", "Community Garden Co-op", "Youth Football League", "Tenants' Association",
    "", "",
]  # fmt: skip
TIME_ZONES = ["America/Puerto_Rico", "America/New_York", "Europe/Madrid", "UTC", "America/Bogota"]
# Issue 12: the daily to-dos digest goes out in each person's morning, so a good part of the people live
# round the world (half- and quarter-hour offsets, both sides of the date line, the southern summer).
WORLD_TIME_ZONES = [
    "America/Los_Angeles", "America/Chicago", "America/Sao_Paulo", "Europe/London", "Africa/Lagos",
    "Africa/Nairobi", "Asia/Kolkata", "Asia/Kathmandu", "Asia/Manila", "Asia/Tokyo", "Australia/Adelaide",
    "Pacific/Auckland", "Pacific/Honolulu", "Pacific/Kiritimati",
]  # fmt: skip
WORLD_SHARE = 0.5
# Who turned the nudge emails off (on the profile or with an email's link): the digest must skip them.
NUDGES_OFF_SHARE = 0.05
NORMS = [
    "We start and end on time.",
    "Everyone speaks once before anyone speaks twice.",
    "We decide by consensus; a block comes with a reason.",
    "What is said in the room stays in the room; what is learned leaves it.",
    "Each to-do has one owner and a date.",
    "The facilitator and the note-taker rotate every meeting.",
]
PURPOSE = "Every child in our barrio reads with joy by the end of third grade, and every family has a library card."


class Command(BaseCommand):
    help = "Fill an EMPTY database with the benchmark's data set and print the logins it made."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--smoke", action="store_true", help="a tiny data set, for CI's smoke run")

    @transaction.atomic
    def handle(self, *args, smoke: bool = False, **options) -> None:
        # Thousands of accounts with a password printed below must never land beside real ones, and a
        # second run would only collide with the first: refuse anything but an empty database.
        existing = User.objects.count()
        if existing:
            raise CommandError(
                f"seed_bench fills an empty database only, and this one already holds accounts ({existing}). "
                "Point DATABASE_URL at a new database (make bench creates its own)."
            )
        size = SMOKE if smoke else FULL
        rng = random.Random(8)  # noqa: S311 - not a secret: the same data set on every run and machine
        users = _create_users(size, rng)
        steward, member, others = users[0], users[1], users[2:]
        typical = [_alliance(TYPICAL_SLUG, TYPICAL_NAME, steward)]
        typical += [
            _alliance(f"bench-{i:03d}", f"Bench Alliance {i:03d}", rng.choice(others)) for i in range(1, size.alliances)
        ]
        large = _alliance(LARGE_SLUG, LARGE_NAME, steward)
        Alliance.objects.bulk_create([*typical, large])

        memberships = []
        for index, alliance in enumerate(typical):
            # The signed-in steward leads a few alliances and the member belongs to a few, so that
            # "my alliances" lists several.
            fixed = [(steward, True)] if index < 5 else [(member, False)] if 5 <= index < 8 else []
            memberships += _memberships(alliance, fixed, others, size.members, size.former, rng)
        memberships += _memberships(
            large, [(steward, True), (member, False)], others, size.large_members, size.former, rng
        )
        Member.objects.bulk_create(memberships, batch_size=2000)

        _create_charters(typical[1:], rng)
        _create_invitations([*typical, large], size, rng)
        for alliance in (typical[0], large):
            _charter_through_services(alliance, steward)

        active: dict[Alliance, list[Member]] = {}
        for membership in memberships:
            if membership.is_active:
                active.setdefault(membership.alliance, []).append(membership)
        # The large alliance's meetings too: a roll of 400 members and round robins on them.
        detailed = {alliance.pk for alliance in [*typical[: size.detailed], large]}
        bench_meetings(members_by_alliance=active, past=size.meetings, items=size.items, rng=rng, detailed=detailed)
        for alliance in (typical[0], large):
            stewardship = next(m for m in active[alliance] if m.user_id == steward.pk)
            bench_upcoming_meeting(alliance=alliance, steward=stewardship, items=size.items)
        # The live pages are measured on a meeting under way, which the steward facilitates.
        stewardship = next(m for m in active[typical[0]] if m.user_id == steward.pk)
        bench_meeting_in_progress(alliance=typical[0], facilitator=stewardship, items=size.items)
        bench_todos(members_by_alliance=active, signed_in=[steward, member], smoke=smoke, rng=rng)
        # bench/live_load.py: the large alliance's members follow a meeting the steward runs (made last, so
        # that the to-dos above, drawn from the meetings held, are what they were before it).
        bench_live_meeting(
            alliance=large, facilitator=next(m for m in active[large] if m.user_id == steward.pk), items=size.items
        )

        # What the reminder jobs find (bench/scheduled_jobs.py), in the alliances no page of the benchmark shows.
        signed_in = {steward.pk, member.pk}
        shown = {alliance.pk for alliance, members in active.items() if {m.user_id for m in members} & signed_in}
        bench_reminders(members_by_alliance=active, skip=shown)

        self.stdout.write(
            self.style.SUCCESS(
                f"Bench data set ready: {User.objects.count()} accounts, {Alliance.objects.count()} alliances, "
                f"{Member.objects.count()} memberships, {CharterChange.objects.count()} charter changes, "
                f"{Invitation.objects.count()} invitations, {Meeting.objects.count()} meetings."
            )
        )
        self.stdout.write(f"Password of every account: {BENCH_PASSWORD}")
        self.stdout.write(f"Steward of /alliances/{TYPICAL_SLUG}/ and /alliances/{LARGE_SLUG}/: {STEWARD_EMAIL}")
        self.stdout.write(f"Member (not a steward) of /alliances/{LARGE_SLUG}/: {MEMBER_EMAIL}")


def _create_users(size: Size, rng: random.Random) -> list[User]:
    password = make_password(BENCH_PASSWORD)  # hashed once: the slow part of creating an account
    confirmed = timezone.now() - timedelta(days=400)
    users = [
        User(email=STEWARD_EMAIL, display_name="Stella Bench", time_zone="America/Puerto_Rico"),
        User(email=MEMBER_EMAIL, display_name="Mia Bench", time_zone="America/New_York"),
    ]
    users += [
        User(
            email=f"bench-user-{i:04d}@example.org",
            display_name=f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
            # The two who sign in read English (bench/run.py checks English markers); the others mix.
            language=rng.choice(["en", "es"]),
            time_zone=rng.choice(TIME_ZONES),
        )
        for i in range(2, size.users)
    ]
    for user in users:
        user.password = password
        user.email_confirmed_at = confirmed
    # Drawn from a generator of their own, so that the rest of the data set is drawn as before.
    spread = random.Random(11)  # noqa: S311 - not a secret
    for user in users[2:]:
        if spread.random() < WORLD_SHARE:
            user.time_zone = spread.choice(WORLD_TIME_ZONES)
        user.nudges_enabled = spread.random() >= NUDGES_OFF_SHARE
    return User.objects.bulk_create(users, batch_size=2000)


def _alliance(slug: str, name: str, creator: User) -> Alliance:
    return Alliance(
        slug=slug,
        name=name,
        created_by=creator,
        created_at=timezone.now() - timedelta(days=365),
        cadence=Alliance.Cadence.MONTHLY,
        meeting_weekday=Alliance.Weekday.TUESDAY,
        meeting_time=time(18, 0),
        meeting_duration_minutes=90,
        time_zone="America/Puerto_Rico",
        venue_address="Biblioteca Municipal, Calle Loíza 100, San Juan",
        video_link=f"https://meet.example.org/{slug}",
        info_sharing="Shared folder for agendas and notes; the mailing list for everything else.",
    )


def _memberships(
    alliance: Alliance, fixed: list[tuple[User, bool]], others: list[User], active: int, former: int, rng: random.Random
) -> list[Member]:
    drawn = [(person, index < 2) for index, person in enumerate(rng.sample(others, active + former - len(fixed)))]
    now = timezone.now()
    rows = []
    # The first two people drawn are stewards (beside the fixed steward, if any); the last ones drawn
    # left the alliance, so that the former members' list has rows too.
    for position, (user, is_steward) in enumerate(fixed + drawn):
        row = Member(
            alliance=alliance,
            user=user,
            organisation=rng.choice(ORGANISATIONS),
            is_steward=is_steward,
            joined_at=now - timedelta(days=rng.randint(30, 360)),
        )
        if position >= active:
            row.is_active = False
            row.is_steward = False
            row.ended_at = now - timedelta(days=rng.randint(1, 29))
            row.end_reason = Member.EndReason.LEFT
        rows.append(row)
    return rows


def _create_charters(alliances: list[Alliance], rng: random.Random) -> None:
    """Purpose, norms and their history for the alliances no page of the benchmark shows."""
    now = timezone.now()
    norms, changes = [], []
    for alliance in alliances:
        alliance.purpose = PURPOSE
        alliance.purpose_agreed_on = (now - timedelta(days=300)).date()
        changes.append(
            CharterChange(
                alliance=alliance, kind=CharterChange.Kind.PURPOSE, after=PURPOSE, changed_at=now - timedelta(days=300)
            )
        )
        for position, text in enumerate(rng.sample(NORMS, 5), start=1):
            norms.append(Norm(alliance=alliance, text=text, position=position, created_at=now - timedelta(days=290)))
    Alliance.objects.bulk_update(alliances, ["purpose", "purpose_agreed_on"], batch_size=500)
    Norm.objects.bulk_create(norms, batch_size=2000)
    changes += [
        CharterChange(
            alliance_id=norm.alliance_id,
            kind=CharterChange.Kind.NORM_ADDED,
            norm=norm,
            after=norm.text,
            changed_at=norm.created_at,
        )
        for norm in norms
    ]
    CharterChange.objects.bulk_create(changes, batch_size=2000)


def _create_invitations(alliances: list[Alliance], size: Size, rng: random.Random) -> None:
    now = timezone.now()
    rows = []
    for index, alliance in enumerate(alliances):
        pending = size.pending * (5 if alliance.slug == LARGE_SLUG else 1)
        statuses = [Invitation.Status.PENDING] * pending + [Invitation.Status.ACCEPTED, Invitation.Status.CANCELLED]
        for number, status in enumerate(statuses):
            sent = now - timedelta(days=rng.randint(0, 13))
            rows.append(
                Invitation(
                    alliance=alliance,
                    email=f"invitee-{index:03d}-{number:02d}@example.org",
                    status=status,
                    invited_by=alliance.created_by,
                    created_at=sent,
                    expires_at=sent + timedelta(days=14),
                    cancelled_at=now if status == Invitation.Status.CANCELLED else None,
                )
            )
    Invitation.objects.bulk_create(rows, batch_size=2000)


def _charter_through_services(alliance: Alliance, steward: User) -> None:
    services.charter_set_purpose(alliance=alliance, purpose=PURPOSE, agreed_on=timezone.localdate(), by=steward)
    norms = [services.norm_add(alliance=alliance, text=text, agreed_on=None, by=steward) for text in NORMS]
    services.norm_edit(norm=norms[0], text="We start on time and end five minutes early.", agreed_on=None, by=steward)
    services.norm_edit(
        norm=norms[2], text="We decide by consensus; a block comes with a proposal.", agreed_on=None, by=steward
    )
    services.norm_move(norm=norms[4], direction="up", by=steward)
    services.norm_retire(norm=norms[3], by=steward)
    # A year of small rewordings and reorderings: about 25 entries in the history, as a busy charter has.
    current = [norm for norm in norms if not norm.is_retired]
    for year in (2025, 2026):
        for norm in current:
            services.norm_edit(norm=norm, text=f"{norm.text} (reviewed {year})", agreed_on=None, by=steward)
        services.norm_move(norm=norms[5], direction="up", by=steward)
    services.charter_set_logistics(
        alliance=alliance,
        by=steward,
        cadence=Alliance.Cadence.BIWEEKLY,
        cadence_custom="",
        meeting_weekday=Alliance.Weekday.THURSDAY,
        meeting_time=time(17, 30),
        meeting_duration_minutes=120,
        time_zone="America/Puerto_Rico",
        venue_address="Centro Comunal, Calle Cerra 12, San Juan",
        video_link=f"https://meet.example.org/{alliance.slug}",
        info_sharing="Shared folder for agendas and notes; the mailing list for everything else.",
        info_link="https://docs.example.org/barrio",
    )
