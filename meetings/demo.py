"""The demo alliance's meetings (`seed_demo`): a history for the rotation, the latest meeting run through
the whole run of show, and the next meeting ready to start.

The meetings held before the latest one are written directly (the scheduling services only schedule in
the future). The latest one is run through the real services, each told the moment it happened (`now=`),
so that its times hang together: started at its starting time, each step a few minutes after the last.
It shows a newcomer what a finished meeting holds: attendance with an apology and a late arrival, a round
robin with a pass, discussion notes, a proposal blocked and amended to consensus with a stand-aside, two
to-dos, the next meeting set with the rotation's roles, and the closing takeaways with their ratings.

The earlier meetings leave a history worth reading: a decision at each (in English and in Spanish, as the
alliance speaks both), so that the decision log has something to find, and to-dos in every state since
(done, dropped with a reason, open and overdue, one with progress updates). Every set of notes is sent.
"""

from datetime import date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from django.db.models import F
from django.utils import timezone

from alliances import versions
from alliances.models import Alliance, Member
from meetings import (
    agenda,
    attendance,
    consensus,
    next_meeting,
    notes,
    rotation,
    round_robins,
    run,
    services,
    texts,
)
from meetings.models import (
    CLOSING_SEGMENTS,
    DEFAULT_SEGMENT_MINUTES,
    OPENING_SEGMENTS,
    AgendaItem,
    AgendaSegment,
    Attendance,
    Decision,
    Meeting,
    Proposal,
    Reflection,
    Stance,
)
from meetings.scheduling import local_to_utc, next_slot
from tasks import services as todos
from tasks.models import Todo

# The meetings held, the last of them run through the whole run of show; a month apart.
PAST_MEETINGS = 6
SUPPORT = "Interpretation Spanish/English; childcare in the children's room; step-free entrance on Calle Loíza."
ITEMS = [
    ("Reading buddies: this term's pairs", "information", 10),
    ("Summer reading challenge: which prizes?", "discussion", 20),
    ("Apply for the library's small grant", "decision", 15),
]

# The latest meeting held: its agenda, what was said and what was decided.
HELD_ITEMS = [
    ("News from the book drive at the clinic", "information", 10, "312 books collected; the clinic keeps a shelf."),
    ("Family literacy night: when and where", "decision", 30, "We promised the families a date before summer."),
    ("Volunteers for the reading buddies", "discussion", 15, ""),
]
THOUGHTS = [
    "Families work late on weekdays; a Saturday suits most of the parents I talk to.",
    "The school library is free on Saturdays and the janitor can open it.",
    "",  # passes
    "Whatever we choose, there should be food and childcare, or the parents of little ones stay home.",
    "Last year's night at the library was full: let's keep it somewhere people know.",
]
DISCUSSION = (
    "Saturday or a weekday evening? Saturdays suit parents who work weekdays; the market on Saturday "
    "mornings takes many of our families. The school library is free; the Biblioteca Municipal has the "
    "bigger room and is on the bus line. Everyone agrees on dinner and childcare."
)
PROPOSAL = "Family literacy night on Saturday 10:00 to 13:00 in the school library, with lunch and childcare."
BLOCK = "Saturday morning is the market: half of our families work there. I can't agree to a time they can't come."
AMENDMENT = (
    "Family literacy night on a Thursday, 17:30 to 20:00, at the Biblioteca Municipal, with dinner, childcare "
    "and interpretation Spanish/English."
)
STAND_ASIDE = "I think the library's room is too small for everyone, but I won't stand in the way."
VOLUNTEERS = (
    "Six new volunteers from the clinic. Pairs to be matched at the next meeting; training on the "
    "first Saturday of the month."
)
TODOS = [
    # (what, owner's position among the present, days after the meeting it is due, done that many days after)
    ("Book the library's community room for the literacy night", 1, 7, 3),
    ("Ask the clinic to hand out the literacy night flyer to families", 2, None, None),
]
TAKEAWAYS = [
    ("We listened to each other and found a time that works for the families.", 5),
    ("Good meeting; the round robin helped the quieter voices.", 4),
    ("Glad the block led to a better proposal, not a fight.", 5),
    ("A bit long on the first item, but a clear decision.", 4),
]
LATE_TAKEAWAY = ("I came late and still felt part of it: thank you.", 4)
# The earlier meetings' decisions, oldest first: (item, decision, who stood aside and why).
EARLIER_DECISIONS = [
    (
        "Reading buddies: how we pair them",
        "Reading buddies are paired by the language the family speaks at home; each pair meets once a week "
        "at the school library.",
        "",
    ),
    (
        "Libros en español para la biblioteca",
        "Compramos cuarenta libros ilustrados en español para la biblioteca escolar con el dinero de la "
        "feria del libro.",
        "",
    ),
    (
        "Summer reading challenge",
        "The summer reading challenge runs from June to August; every child who reads ten books chooses a "
        "book of their own to keep.",
        "Ten books is a lot for the little ones; I would have said five, but I won't stand in the way.",
    ),
    (
        "La hora del cuento",
        "La hora del cuento será los sábados a las 10:00 en la Biblioteca Municipal, en español y en inglés, "
        "con voluntarios de la clínica.",
        "",
    ),
    (
        "Book drive at the clinic",
        "We hold a book drive at the Barrio Health Clinic this spring; the clinic keeps a shelf of donated "
        "books in its waiting room for the families.",
        "",
    ),
]


class EarlierTodo(NamedTuple):
    """A to-do of the meeting before the latest, and what became of it since."""

    text: str
    owner_at: int  # the owner's position among the members
    due_after: int  # days after the meeting
    done_after: int | None = None  # days after the meeting it was done
    drop_reason: str = ""  # dropped three days before it was due, for this reason
    updates: tuple[tuple[int, str], ...] = ()  # progress updates: (days after the meeting, text)


EARLIER_TODOS = [
    EarlierTodo("Print the reading buddies' sign-up sheets in English and Spanish", 2, 7, done_after=5),
    EarlierTodo(
        "Ask the city's arts fund for money for the challenge's prizes",
        3,
        14,
        drop_reason="The arts fund closed its spring round early; we will apply in the autumn round.",
    ),
    EarlierTodo(
        "Order the Spanish picture books from the bookshop on Calle Loíza",
        4,
        56,
        updates=(
            (10, "Called the bookshop: 32 of the 40 books are in stock."),
            (24, "The other 8 are on back order; the bookshop expects them any day now."),
        ),
    ),
]
REFLECTION = (
    "quote",
    "Children are made readers on the laps of their parents.",
    "Emilie Buchwald",
)


def demo_meetings(*, alliance: Alliance) -> None:
    """The meetings held (the latest run through the run of show) and the next one. Nothing twice."""
    if Meeting.objects.for_alliance(alliance).exists():
        _send_notes(alliance)  # a demo seeded before the notes existed gets them too
        _earlier_history(alliance)  # and the decisions and to-dos of its earlier meetings
        return
    # The charter's logistics (usual day, time, cadence) as saved, whatever copy the caller holds.
    alliance.refresh_from_db()
    members = list(Member.objects.active().filter(alliance=alliance).order_by("joined_at", "pk"))
    steward = next(m for m in members if m.is_steward)
    now = timezone.now()
    start = alliance.meeting_time or time(18)
    days = _held_days(alliance, now)
    turns: list[rotation.Turn] = []
    for day in days[:-1]:
        meeting = _held_meeting(alliance, members, steward, day, start, turns)
        turns.append(rotation.Turn(meeting.starts_at, meeting.facilitator_id, meeting.note_taker_id))
    _earlier_history(alliance)
    latest = _held_meeting(alliance, members, steward, days[-1], start, turns, ended=False)
    _run_the_meeting(alliance, latest, members, steward, now=now)


def _earlier_history(alliance: Alliance) -> None:
    """A decision at each earlier meeting, and the to-dos of the one before the latest. Nothing twice."""
    earlier = list(
        Meeting.objects.for_alliance(alliance)
        .filter(status=Meeting.Status.ENDED, notes_sent_at__isnull=False, items__isnull=True)
        .order_by("starts_at")
    )[-len(EARLIER_DECISIONS) :]
    if not earlier or Decision.objects.filter(meeting__in=earlier).exists():
        return
    members = list(Member.objects.active().filter(alliance=alliance).order_by("joined_at", "pk"))
    for meeting, (title, text, aside) in zip(earlier, EARLIER_DECISIONS[-len(earlier) :], strict=True):
        item = _earlier_decision(meeting, members, title, text, aside)
    _earlier_todos(alliance, earlier[-1], item, members)


def _earlier_decision(meeting: Meeting, members: list[Member], title: str, text: str, aside: str) -> AgendaItem:
    """A decision item of an earlier meeting, decided by consensus at its first proposal."""
    facilitator = next((m for m in members if m.pk == meeting.facilitator_id), members[0])
    writer = next((m for m in members if m.pk == meeting.note_taker_id), members[0])
    decided_at = meeting.starts_at + timedelta(minutes=40)
    item = AgendaItem.objects.create(
        meeting=meeting,
        title=title,
        kind=AgendaItem.Kind.DECISION,
        minutes=20,
        position=1,
        presenter=facilitator,
        proposed_by=facilitator,
        decided_by=facilitator,
        created_at=meeting.starts_at - timedelta(days=7),
    )
    proposal = Proposal.objects.create(
        item=item,
        number=1,
        text=text,
        outcome=Proposal.Outcome.CONSENSUS,
        written_by=writer,
        created_at=decided_at - timedelta(minutes=10),
        resolved_at=decided_at,
    )
    aside_member = members[-1] if aside else None
    Stance.objects.bulk_create(
        Stance(
            proposal=proposal,
            member=member,
            kind=Stance.Kind.STAND_ASIDE if member == aside_member else Stance.Kind.AGREE,
            reason=aside if member == aside_member else "",
            recorded_by=writer,
            recorded_at=decided_at - timedelta(minutes=5),
        )
        for member in members
    )
    Decision.objects.create(
        alliance=meeting.alliance, meeting=meeting, item=item, proposal=proposal, text=text, decided_at=decided_at
    )
    return item


def _earlier_todos(alliance: Alliance, meeting: Meeting, item: AgendaItem, members: list[Member]) -> None:
    """The to-dos of `meeting` (written as captured there), and what became of each since, by its owner."""
    for planned in EARLIER_TODOS:
        owner = members[planned.owner_at % len(members)]
        captured_at = meeting.starts_at + timedelta(minutes=50)
        todo = Todo.objects.create(
            alliance=alliance,
            meeting=meeting,
            item=item,
            text=planned.text,
            owner=owner,
            due_on=(meeting.starts_at + timedelta(days=planned.due_after)).date(),
            created_by=next((m for m in members if m.pk == meeting.note_taker_id), owner),
            created_at=captured_at,
            updated_at=captured_at,
        )
        for days, text in planned.updates:
            todos.add_update(todo=todo, text=text, by=owner, now=meeting.starts_at + timedelta(days=days))
        if planned.done_after is not None:
            todos.mark_done(todo=todo, by=owner, now=meeting.starts_at + timedelta(days=planned.done_after))
        elif planned.drop_reason:
            dropped_at = meeting.starts_at + timedelta(days=planned.due_after - 3)
            todos.drop(todo=todo, reason=planned.drop_reason, by=owner, now=dropped_at)


def _held_days(alliance: Alliance, now: datetime) -> list[date]:
    """The days of the meetings held, oldest first: on the alliance's usual weekday, four weeks apart, the
    latest at least two weeks ago (so that its to-dos and the next meeting fall around today)."""
    today = now.astimezone(ZoneInfo(alliance.time_zone)).date()
    latest = today - timedelta(days=14)
    if alliance.meeting_weekday is not None:
        latest -= timedelta(days=(latest.weekday() - alliance.meeting_weekday) % 7)
    return [latest - timedelta(weeks=4 * n) for n in reversed(range(PAST_MEETINGS))]


def _held_meeting(
    alliance: Alliance,
    members: list[Member],
    steward: Member,
    day: date,
    start: time,
    turns: list[rotation.Turn],
    *,
    ended: bool = True,
) -> Meeting:
    """A meeting held on `day`, with the rotation's roles and the standard segments.

    `ended`: an earlier meeting, written as held (every member present); otherwise it stays scheduled,
    for the run of show to hold it.
    """
    starts_at = local_to_utc(day, start, alliance.time_zone)
    duration = alliance.meeting_duration_minutes or 90
    facilitator, note_taker = rotation.suggest_roles(candidates=members, turns=turns)
    held = {}
    if ended:
        held = {
            "status": Meeting.Status.ENDED,
            "started_at": starts_at,
            "started_by": facilitator,
            "ended_at": starts_at + timedelta(minutes=duration),
            "ended_by": facilitator,
            "notes_sent_at": starts_at + timedelta(days=1),
            "notes_sent_by": note_taker,
        }
    meeting = Meeting.objects.create(
        alliance=alliance,
        starts_at=starts_at,
        duration_minutes=duration,
        time_zone=alliance.time_zone,
        venue_address=alliance.venue_address,
        video_link=alliance.video_link,
        facilitator=facilitator,
        note_taker=note_taker,
        created_by=steward,
        created_at=starts_at - timedelta(weeks=2),
        **held,
    )
    AgendaSegment.objects.bulk_create(
        AgendaSegment(meeting=meeting, kind=kind, minutes=DEFAULT_SEGMENT_MINUTES[kind])
        for kind in (*OPENING_SEGMENTS, *CLOSING_SEGMENTS)
    )
    if ended:
        Attendance.objects.bulk_create(
            Attendance(meeting=meeting, member=member, status=Attendance.Status.PRESENT, marked_at=starts_at)
            for member in members
        )
    return meeting


class _Clock:
    """The moments of the meeting being run: each call moves on by `minutes`."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self, minutes: float = 0) -> datetime:
        self.now += timedelta(minutes=minutes)
        return self.now


def _run_the_meeting(
    alliance: Alliance, meeting: Meeting, members: list[Member], steward: Member, *, now: datetime
) -> None:
    """Hold `meeting` through the whole run of show, as its facilitator and note taker would have."""
    facilitator = next(m for m in members if m.pk == meeting.facilitator_id)
    note_taker = next(m for m in members if m.pk == meeting.note_taker_id)
    # One member sent apologies; another (not a steward, if there is one) arrives late, at the agenda review.
    others = [m for m in members if m.pk not in (facilitator.pk, note_taker.pk)]
    away = others[-1]
    late = next((m for m in others[:-1] if not m.is_steward), others[0])
    clock = _Clock(meeting.starts_at - timedelta(days=10))

    items = [
        AgendaItem.objects.create(
            meeting=meeting,
            title=title,
            description=description,
            kind=kind,
            minutes=minutes,
            position=position,
            presenter=members[position % len(members)],
            proposed_by=facilitator,
            decided_by=facilitator,
            created_at=clock(),
        )
        for position, (title, kind, minutes, description) in enumerate(HELD_ITEMS, start=1)
    ]
    kind, text, source = REFLECTION
    Reflection.objects.create(
        meeting=meeting, kind=kind, text=text, source=source, chosen_by=facilitator, chosen_at=clock(60 * 24)
    )
    services.apology_send(meeting=meeting, member=away, now=clock(60 * 24 * 7))

    # The opening: attendance during the bonding moment, the reflection, the agenda review.
    clock.now = meeting.starts_at
    meeting = run.start_meeting(meeting=meeting, by=facilitator, now=clock())
    for member in members:
        if member.pk not in (away.pk, late.pk):
            attendance.mark_attendance(meeting=meeting, member=member, status="present", by=note_taker, now=clock(1))
    meeting = _next(meeting, facilitator, clock(8))  # the opening reflection
    meeting = _next(meeting, facilitator, clock(6))  # the agenda review
    attendance.mark_attendance(meeting=meeting, member=late, status="present", by=note_taker, now=clock(2))

    _news, decision, volunteers = items
    meeting = _next(meeting, facilitator, clock(4))  # the news: information only
    meeting = _next(meeting, facilitator, clock(9))  # the decision
    _decide(meeting, decision, facilitator, note_taker, clock)
    meeting = _next(meeting, facilitator, clock(2))  # the volunteers: discussion notes
    texts.record_discussion(item=volunteers, text=VOLUNTEERS, expected_version=0, by=note_taker)
    meeting = _next(meeting, facilitator, clock(12))  # the review of decisions and to-dos
    meeting = _next(meeting, facilitator, clock(6))  # the next meeting's logistics
    following = _schedule_next(alliance, meeting, facilitator, now=clock(5))
    meeting = _next(meeting, facilitator, clock(1))  # the closing evaluation
    _evaluate(meeting, facilitator, late, clock)
    run.end_meeting(meeting=meeting, by=facilitator, now=clock(1))
    # The next morning the note taker sends the notes: every member gets them by email.
    _send_notes(alliance)

    # After the meeting: the room is booked three days later.
    for todo, (_what, _owner, _due, done_after) in zip(meeting.todos.order_by("created_at", "pk"), TODOS, strict=True):
        if done_after is not None:
            todos.mark_done(todo=todo, by=todo.owner, now=meeting.starts_at + timedelta(days=done_after))
    _prepare_next(following, steward)


def _next(meeting: Meeting, facilitator: Member, moment: datetime) -> Meeting:
    return run.go_to_next_step(meeting=meeting, by=facilitator, expected_step=meeting.current_step, now=moment)


def _decide(meeting: Meeting, item: AgendaItem, facilitator: Member, note_taker: Member, clock: _Clock) -> None:
    """The decision item: a round robin with a pass, the discussion, a blocked proposal amended to consensus
    with one stand-aside, and two to-dos."""
    round_robin = round_robins.start_round_robin(
        meeting=meeting, by=facilitator, item=item, turn_seconds=120, now=clock(1)
    )
    for turn, thought in zip(round_robin.turns.order_by("position"), THOUGHTS, strict=False):
        if thought:
            texts.record_thought(turn=turn, text=thought, expected_version=0, by=note_taker)
            round_robin = round_robins.next_speaker(
                round_robin=round_robin, by=facilitator, expected_position=turn.position, now=clock(1.5)
            )
        else:
            round_robin = round_robins.pass_turn(
                round_robin=round_robin, by=facilitator, expected_position=turn.position, now=clock(0.2)
            )
    texts.record_discussion(item=item, text=DISCUSSION, expected_version=0, by=note_taker)

    present = list(meeting.attendance.filter(status=Attendance.Status.PRESENT).order_by("member__joined_at", "pk"))
    participants = [row.member for row in present]
    proposal = consensus.write_proposal(item=item, text=PROPOSAL, by=note_taker, now=clock(4))
    blocker = participants[-1]
    for member in participants:
        kind, reason = (Stance.Kind.BLOCK, BLOCK) if member.pk == blocker.pk else (Stance.Kind.AGREE, "")
        consensus.record_stance(
            proposal=proposal, member=member, kind=kind, reason=reason, by=note_taker, now=clock(0.5)
        )
    proposal = consensus.resolve_check(proposal=proposal, by=facilitator, now=clock(0.5))

    amendment = consensus.amend_proposal(proposal=proposal, text=AMENDMENT, by=note_taker, now=clock(3))
    aside = participants[0]
    for member in participants:
        kind, reason = (Stance.Kind.STAND_ASIDE, STAND_ASIDE) if member.pk == aside.pk else (Stance.Kind.AGREE, "")
        # Each records their own stance from their own phone.
        consensus.record_stance(proposal=amendment, member=member, kind=kind, reason=reason, by=member, now=clock(0.3))
    consensus.resolve_check(proposal=amendment, by=facilitator, now=clock(0.5))

    for what, owner, due_after, _done in TODOS:
        due_on = None if due_after is None else (meeting.starts_at + timedelta(days=due_after)).date()
        todos.capture_todo(
            alliance=meeting.alliance,
            meeting=meeting,
            item=item,
            text=what,
            owner=participants[owner],
            due_on=due_on,
            by=note_taker,
            now=clock(1),
        )


def _schedule_next(alliance: Alliance, meeting: Meeting, facilitator: Member, *, now: datetime) -> Meeting:
    """The next meeting's logistics: the usual slot, the rotation's facilitator and note taker."""
    members = list(Member.objects.active().filter(alliance=alliance).order_by("joined_at", "pk"))
    # The next slot after this meeting that is still ahead today: the demo's next meeting is upcoming.
    slot = next_slot(alliance=alliance, latest=meeting.starts_at, latest_duration=None, now=timezone.now())
    chosen_facilitator, chosen_note_taker = rotation.suggest_roles(
        candidates=members, turns=rotation.role_history(alliance=alliance)
    )
    # Set from this meeting's logistics step, which links the two.
    return next_meeting.next_meeting_schedule(
        meeting=meeting,
        by=facilitator,
        starts_at=local_to_utc(slot.day, slot.start or time(18), alliance.time_zone),
        duration_minutes=slot.duration_minutes,
        facilitator=chosen_facilitator,
        note_taker=chosen_note_taker,
        venue_address=alliance.venue_address,
        video_link=alliance.video_link,
        support_offered=SUPPORT,
        now=now,
    )


def _evaluate(meeting: Meeting, facilitator: Member, late: Member, clock: _Clock) -> None:
    """The closing evaluation: every present member's takeaway and rating of the meeting."""
    round_robin = round_robins.start_round_robin(meeting=meeting, by=facilitator, evaluation=True, now=clock(1))
    said = iter(TAKEAWAYS)
    for turn in round_robin.turns.select_related("member").order_by("position"):
        takeaway, rating = LATE_TAKEAWAY if turn.member_id == late.pk else next(said)
        # Each member types their own takeaway; the facilitator gives the floor to the next.
        texts.record_takeaway(turn=turn, text=takeaway, expected_version=0, by=turn.member, rating=rating)
        round_robin = round_robins.next_speaker(
            round_robin=round_robin, by=facilitator, expected_position=turn.position, now=clock(1.5)
        )
    if round_robin.is_open:
        round_robins.end_round_robin(round_robin=round_robin, by=facilitator, now=clock(0.5))


def _prepare_next(meeting: Meeting, steward: Member) -> None:
    """The next meeting's agenda, with a decision item, and its opening reflection: ready to start."""
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


def _send_notes(alliance: Alliance) -> None:
    """The latest meeting held has its notes sent by its note taker; the earlier ones had theirs sent."""
    awaiting = list(Meeting.objects.for_alliance(alliance).awaiting_notes().select_related("note_taker"))
    if not awaiting:
        return
    latest, *earlier = awaiting
    if earlier:
        Meeting.objects.filter(pk__in=[m.pk for m in earlier]).update(notes_sent_at=F("ended_at"))
        versions.bump(alliance.pk)  # update() sends no signal
    sender = latest.note_taker or Member.objects.active().filter(alliance=alliance, is_steward=True).first()
    if sender is not None:
        notes.notes_send(meeting=latest, by=sender, now=latest.ended_at + timedelta(hours=16))
