"""The meetings of the benchmark's data set (`seed_bench`): a history for every alliance, bulk inserted.

Every alliance gets `past` meetings held, one a fortnight, with rotating roles and `items` agenda items
each (one of them a decision), and what the run of show left of each: the roll, the time spent on each
step, a round robin on the decision (a turn for everyone present, a pass or two), its proposal with a
stance from everyone present (a quarter of them blocked first and amended), the decision, and in every
other meeting a closing evaluation with takeaways and ratings. The version numbers agree with the texts
(a recorded thought is version 1) and each meeting's revision counts its writes.

The alliances the benchmark reads also get an upcoming meeting prepared through the real services, and
the typical one a meeting in progress, run through the real services up to a decision item with its round
robin under way and a proposal being checked: the live pages are measured on it. The large alliance gets
one too, its round robin over, for the live load scenario (bench/live_load.py) to move back and forth
and record stances on while its members follow.

Bulk inserts send no signal: the page cache starts empty in a benchmark run, so no version needs bumping.
"""

import random
from datetime import datetime, timedelta

from django.utils import timezone

from alliances.models import Alliance, Member
from meetings import agenda, attendance, consensus, round_robins, run, services, steps, texts
from meetings.models import (
    CLOSING_SEGMENTS,
    DEFAULT_SEGMENT_MINUTES,
    OPENING_SEGMENTS,
    AgendaItem,
    AgendaSegment,
    Apology,
    Attendance,
    Decision,
    Meeting,
    Proposal,
    Reflection,
    RoundRobin,
    Stance,
    StepTime,
    Turn,
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


THOUGHTS = [
    "I agree with the idea; the timing worries me a little.",
    "We did this two years ago and it worked: let's do it again.",
    "Only if we have enough volunteers for the Saturdays.",
    "The families I talk to would come in the evening, not in the morning.",
    "I'd like to see the budget before we decide.",
    "Yes, and let's ask the school to share it with the parents.",
]
DISCUSSION = (
    "Evening or weekend? The school library is free on Saturdays; the Biblioteca Municipal is on the bus "
    "line. Everyone agrees on food and childcare; the budget comes from the small grant."
)
PROPOSAL = "We hold it on a Thursday evening at the Biblioteca Municipal, with dinner, childcare and interpretation."
AMENDMENT = PROPOSAL + " The budget is capped at $400 from the small grant."
STAND_ASIDE = "I think the room is too small, but I won't stand in the way."
BLOCK = "Not without a budget: we'd be spending money we have not agreed on."
TAKEAWAYS = [
    "Good pace; the round robin gave everyone a voice.",
    "A clear decision, finally.",
    "Too long on the first item.",
    "I learned a lot about the clinic's work.",
]
DECISION_POSITION = 3  # which agenda item is the decision (the last, with fewer items)
# How long a turn lasts: a thought in the round robin on a decision, a takeaway at the close.
TURN_SECONDS = (20, 60)
TAKEAWAY_SECONDS = (10, 30)


def _decision_position(items: int) -> int:
    return min(DECISION_POSITION, items)


def bench_meetings(
    *,
    members_by_alliance: dict[Alliance, list[Member]],
    past: int,
    items: int,
    rng: random.Random,
    detailed: set[int] | None = None,
) -> None:
    """`past` meetings held by every alliance; those of the alliances in `detailed` (pks; all by default) with
    what their run of show left. The others only give the meetings' tables their size: their rows would
    cost the seed half a minute for every forty alliances and no page reads them."""
    now = timezone.now()
    others = [AgendaItem.Kind.INFORMATION, AgendaItem.Kind.DISCUSSION]
    at_decision = _decision_position(items)
    meetings: dict[Alliance, list[Meeting]] = {}
    for alliance, members in members_by_alliance.items():
        for number in range(past):
            starts_at = (now - timedelta(weeks=2 * (past - number))).replace(minute=0, second=0, microsecond=0)
            facilitator = members[number % len(members)]
            meetings.setdefault(alliance, []).append(
                Meeting(
                    alliance=alliance,
                    starts_at=starts_at,
                    duration_minutes=90,
                    time_zone=alliance.time_zone,
                    venue_address=alliance.venue_address,
                    video_link=alliance.video_link,
                    # Round robin, the note taker one step ahead of the facilitator: what the rotation gives.
                    facilitator=facilitator,
                    note_taker=members[(number + 1) % len(members)],
                    sequence=1,
                    revision=items + 1,
                    status=Meeting.Status.ENDED,
                    started_at=starts_at,
                    started_by=facilitator,
                    ended_at=starts_at + timedelta(minutes=90),
                    ended_by=facilitator,
                    # Their notes went out the next day (meetings/notes.py): nothing waits for a reminder.
                    notes_sent_at=starts_at + timedelta(days=1),
                    notes_sent_by=members[(number + 1) % len(members)],
                )
            )
    every = [meeting for held in meetings.values() for meeting in held]
    Meeting.objects.bulk_create(every, batch_size=2000)
    AgendaSegment.objects.bulk_create(
        (
            AgendaSegment(meeting=meeting, kind=kind, minutes=DEFAULT_SEGMENT_MINUTES[kind])
            for meeting in every
            for kind in (*OPENING_SEGMENTS, *CLOSING_SEGMENTS)
        ),
        batch_size=5000,
    )
    meeting_items = {
        meeting.pk: [
            AgendaItem(
                meeting=meeting,
                title=rng.choice(TITLES),
                description=DESCRIPTION,
                kind=AgendaItem.Kind.DECISION if position == at_decision else rng.choice(others),
                minutes=30 if position == at_decision else rng.choice([5, 10, 15, 20]),
                position=position,
            )
            for position in range(1, items + 1)
        ]
        for meeting in every
    }
    AgendaItem.objects.bulk_create([item for listed in meeting_items.values() for item in listed], batch_size=5000)
    Reflection.objects.bulk_create(
        (
            Reflection(
                meeting=meeting, text="Alone we can do so little; together we can do so much.", source="Helen Keller"
            )
            for meeting in every
        ),
        batch_size=5000,
    )
    for alliance, held in meetings.items():
        if detailed is None or alliance.pk in detailed:
            # One alliance at a time: its rows are a few tens of thousands, never the whole set in memory.
            rows = _Rows()
            for number, meeting in enumerate(held):
                _run_of_show(meeting, meeting_items[meeting.pk], members_by_alliance[alliance], number, rng, rows)
            rows.save()
            Meeting.objects.bulk_update(held, ["ended_at", "revision"], batch_size=2000)
            AgendaItem.objects.bulk_update(rows.discussed, ["discussion", "discussion_version"], batch_size=2000)


class _Rows:
    """The rows of the run of show of a batch of meetings, inserted in dependency order."""

    def __init__(self) -> None:
        self.attendance: list[Attendance] = []
        self.step_times: list[StepTime] = []
        self.round_robins: list[tuple[RoundRobin, list[Turn]]] = []
        self.proposals: list[tuple[Proposal, list[Stance], Decision | None]] = []
        self.discussed: list[AgendaItem] = []

    def save(self) -> None:
        Attendance.objects.bulk_create(self.attendance, batch_size=5000)
        StepTime.objects.bulk_create(self.step_times, batch_size=5000)
        RoundRobin.objects.bulk_create([rr for rr, _turns in self.round_robins], batch_size=2000)
        turns = []
        for round_robin, its_turns in self.round_robins:
            for turn in its_turns:
                turn.round_robin = round_robin
                turns.append(turn)
        Turn.objects.bulk_create(turns, batch_size=5000)
        Proposal.objects.bulk_create([proposal for proposal, _s, _d in self.proposals], batch_size=2000)
        stances, decisions = [], []
        for proposal, its_stances, decision in self.proposals:
            for stance in its_stances:
                stance.proposal = proposal
                stances.append(stance)
            if decision is not None:
                decision.proposal = proposal
                decisions.append(decision)
        Stance.objects.bulk_create(stances, batch_size=5000)
        Decision.objects.bulk_create(decisions, batch_size=2000)


def _roll(members: list[Member], rng: random.Random) -> tuple[list[Member], list[Member], list[Member]]:
    """Who was present, excused and absent: all but a fifth present, at most 34 (a large alliance does
    not meet all at once); of the others, half excused and half absent."""
    away = len(members) // 10
    present_count = min(len(members) - 2 * away, 34)
    drawn = rng.sample(members, len(members))
    present = sorted(drawn[:present_count], key=lambda m: (m.joined_at, m.pk))
    rest = drawn[present_count:]
    excused, absent = rest[: len(rest) // 2], rest[len(rest) // 2 :]
    return present, excused, absent


def _run_of_show(
    meeting: Meeting, items: list[AgendaItem], members: list[Member], number: int, rng: random.Random, rows: _Rows
) -> None:
    """One meeting held, from its start to its end: the rows it leaves, and its end time and revision."""
    start = meeting.starts_at
    note_taker = meeting.note_taker
    present, excused, absent = _roll(members, rng)
    for group, status in (
        (present, Attendance.Status.PRESENT),
        (excused, Attendance.Status.EXCUSED),
        (absent, Attendance.Status.ABSENT),
    ):
        rows.attendance += [
            Attendance(meeting=meeting, member=m, status=status, marked_by=note_taker, marked_at=start) for m in group
        ]
    writes = meeting.revision + len(present)  # the agenda as prepared and sent, the roll

    # The steps in order, each about its time box; the decision item holds its round robin and check.
    run_steps = steps.build(
        [AgendaSegment(kind=kind, minutes=DEFAULT_SEGMENT_MINUTES[kind]) for kind in DEFAULT_SEGMENT_MINUTES],
        items,
    )
    at = start
    for step in run_steps:
        seconds = int(step.minutes * 60 * rng.uniform(0.7, 1.2))
        done = at
        if step.is_decision and step.item is not None:
            added, done = _decide(meeting, step.item, present, number, at, rng, rows)
            writes += added
        elif step.key == steps.LAST and number % 2 == 0:
            added, done = _evaluate(meeting, present, number, at, rng, rows)
            writes += added
        # A step lasts its time box, or as long as what was done in it, and a minute more.
        seconds = max(seconds, int((done - at).total_seconds()) + 60)
        rows.step_times.append(StepTime(meeting=meeting, key=step.key, spent_seconds=seconds))
        at += timedelta(seconds=seconds)
        writes += 1
    meeting.ended_at = at
    meeting.revision = writes


def _round_robin(
    meeting: Meeting,
    present: list[Member],
    number: int,
    at: datetime,
    rng: random.Random,
    seconds: tuple[int, int],
    **fields: object,
) -> tuple[RoundRobin, list[Turn], datetime]:
    # The first speaker moves on by one from each meeting to the next.
    first = number % len(present)
    order = present[first:] + present[:first]
    round_robin = RoundRobin(
        meeting=meeting,
        order=[m.pk for m in order],
        first_speaker=order[0],
        current_position=len(order),
        started_by=meeting.facilitator,
        started_at=at,
        **fields,
    )
    turns = []
    for position, member in enumerate(order):
        spoke = timedelta(seconds=rng.randint(*seconds))
        turns.append(Turn(member=member, position=position, started_at=at, ended_at=at + spoke))
        at += spoke
    round_robin.ended_at = at
    return round_robin, turns, at


def _decide(
    meeting: Meeting,
    item: AgendaItem,
    present: list[Member],
    number: int,
    at: datetime,
    rng: random.Random,
    rows: _Rows,
) -> tuple[int, datetime]:
    """The decision item: a round robin (a pass or two), the discussion, the check, the decision.

    Returns the number of writes and when the decision was made."""
    round_robin, turns, at = _round_robin(meeting, present, number, at, rng, TURN_SECONDS, item=item, turn_seconds=120)
    passes = set(rng.sample(range(len(turns)), min(2, len(turns) - 1)))
    for turn in turns:
        if turn.position in passes:
            turn.passed = True
        else:
            turn.thought, turn.version = rng.choice(THOUGHTS), 1
    rows.round_robins.append((round_robin, turns))
    item.discussion, item.discussion_version = DISCUSSION, 1
    rows.discussed.append(item)
    writes = 1 + len(turns) + (len(turns) - len(passes)) + 1

    note_taker = meeting.note_taker
    blocked_first = number % 4 == 0 and len(present) > 1
    texts_ = [PROPOSAL, AMENDMENT] if blocked_first else [PROPOSAL]
    for version, text in enumerate(texts_, start=1):
        at += timedelta(minutes=2)
        last = version == len(texts_)
        proposal = Proposal(
            item=item, number=version, text=text, written_by=note_taker, created_at=at, resolved_at=None
        )
        stances = []
        for index, member in enumerate(present):
            kind, reason = Stance.Kind.AGREE, ""
            if not last and index == len(present) - 1:
                kind, reason = Stance.Kind.BLOCK, BLOCK
            elif last and index == number % len(present) and len(present) > 1:
                kind, reason = Stance.Kind.STAND_ASIDE, STAND_ASIDE
            at += timedelta(seconds=5)
            stances.append(Stance(member=member, kind=kind, reason=reason, recorded_by=note_taker, recorded_at=at))
        at += timedelta(seconds=30)
        proposal.resolved_at = at
        proposal.outcome = Proposal.Outcome.CONSENSUS if last else Proposal.Outcome.BLOCKED
        decision = None
        if last:
            decision = Decision(alliance_id=meeting.alliance_id, meeting=meeting, item=item, text=text, decided_at=at)
        rows.proposals.append((proposal, stances, decision))
        writes += 1 + len(stances) + 1
    return writes, at


def _evaluate(
    meeting: Meeting, present: list[Member], number: int, at: datetime, rng: random.Random, rows: _Rows
) -> tuple[int, datetime]:
    """The closing evaluation: everyone present gives a takeaway and a rating."""
    round_robin, turns, at = _round_robin(meeting, present, number + 1, at, rng, TAKEAWAY_SECONDS, is_evaluation=True)
    for turn in turns:
        turn.thought, turn.version, turn.rating = rng.choice(TAKEAWAYS), 1, rng.randint(3, 5)
    rows.round_robins.append((round_robin, turns))
    return 1 + 2 * len(turns), at


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


def bench_meeting_in_progress(*, alliance: Alliance, facilitator: Member, items: int) -> Meeting:
    """A meeting of `alliance` under way, run through the real services: started 45 minutes ago, the roll
    taken, now on its decision item with the round robin past its middle and a proposal being checked
    (a third of those present have taken their stance). `facilitator` runs it; the next member takes notes.
    """
    now = timezone.now().replace(second=0, microsecond=0)
    members = list(Member.objects.active().filter(alliance=alliance).order_by("joined_at", "pk"))
    note_taker = next(m for m in members if m.pk != facilitator.pk)
    start = now - timedelta(minutes=45)
    meeting = Meeting.objects.create(
        alliance=alliance,
        starts_at=start,
        duration_minutes=120,
        time_zone=alliance.time_zone,
        venue_address=alliance.venue_address,
        video_link=alliance.video_link,
        facilitator=facilitator,
        note_taker=note_taker,
        created_by=facilitator,
        created_at=start - timedelta(days=14),
    )
    AgendaSegment.objects.bulk_create(
        AgendaSegment(meeting=meeting, kind=kind, minutes=DEFAULT_SEGMENT_MINUTES[kind])
        for kind in (*OPENING_SEGMENTS, *CLOSING_SEGMENTS)
    )
    at_decision = _decision_position(items)
    AgendaItem.objects.bulk_create(
        AgendaItem(
            meeting=meeting,
            title=TITLES[position % len(TITLES)],
            description=DESCRIPTION,
            kind=AgendaItem.Kind.DECISION if position == at_decision else AgendaItem.Kind.INFORMATION,
            minutes=30 if position == at_decision else 5,
            position=position,
            presenter=members[position % len(members)],
        )
        for position in range(1, items + 1)
    )
    Reflection.objects.create(
        meeting=meeting, text="Alone we can do so little; together we can do so much.", source="Helen Keller"
    )
    decision = AgendaItem.objects.get(meeting=meeting, kind=AgendaItem.Kind.DECISION)

    at = start
    meeting = run.start_meeting(meeting=meeting, by=facilitator, now=at)
    away = len(members) // 10
    present = members[: max(2, min(len(members) - 2 * away, 34))]
    for member in present:
        attendance.mark_attendance(meeting=meeting, member=member, status="present", by=note_taker, now=at)
    # The opening (20 minutes), then five minutes for each item before the decision.
    while meeting.current_step != steps.item_key(decision):
        at += timedelta(minutes=10 if meeting.current_step == steps.FIRST else 5)
        meeting = run.go_to_next_step(meeting=meeting, by=facilitator, expected_step=meeting.current_step, now=at)
    # The round robin started so that the speaker now has had the floor for half a minute.
    spoken = len(present) // 2
    at = max(at, now - timedelta(seconds=20 * spoken + 30))
    round_robin = round_robins.start_round_robin(
        meeting=meeting, by=facilitator, item=decision, turn_seconds=120, now=at
    )
    for turn in list(round_robin.turns.order_by("position"))[:spoken]:
        thought = THOUGHTS[turn.position % len(THOUGHTS)]
        texts.record_thought(turn=turn, text=thought, expected_version=0, by=note_taker)
        at += timedelta(seconds=20)
        round_robin = round_robins.next_speaker(
            round_robin=round_robin, by=facilitator, expected_position=turn.position, now=at
        )
    proposal = consensus.write_proposal(item=decision, text=PROPOSAL, by=note_taker, now=at)
    for member in present[: len(present) // 3]:
        at += timedelta(seconds=5)
        consensus.record_stance(proposal=proposal, member=member, kind=Stance.Kind.AGREE, by=member, now=min(at, now))
    meeting.refresh_from_db()
    return meeting


def bench_live_meeting(*, alliance: Alliance, facilitator: Member, items: int) -> Meeting:
    """A meeting in progress for bench/live_load.py: as `bench_meeting_in_progress`, with the round robin
    ended, so that the facilitator can move between the decision item and the step before it (an open round
    robin holds the meeting on its step; a decision without consensus, before the step after) and record
    stances on the proposal being checked."""
    meeting = bench_meeting_in_progress(alliance=alliance, facilitator=facilitator, items=items)
    round_robin = RoundRobin.objects.get(meeting=meeting, ended_at__isnull=True)
    round_robins.end_round_robin(round_robin=round_robin, by=facilitator)
    meeting.refresh_from_db()
    return meeting
