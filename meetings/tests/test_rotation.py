"""Fair rotation, as properties over many simulated alliances (a seeded loop: hypothesis is not installed)."""

import random
from datetime import UTC, datetime, timedelta

import pytest

from alliances.models import Member
from alliances.tests.factories import MemberFactory
from meetings import rotation
from meetings.models import Role
from meetings.rotation import Turn, fairest_for, role_history, role_standings, suggest_roles
from meetings.tests.factories import MeetingFactory

START = datetime(2026, 1, 5, 18, tzinfo=UTC)


def _members(n: int, *, joined: datetime = START - timedelta(days=30)) -> list[Member]:
    # Unsaved members are enough: the rotation reads only pk and joined_at.
    return [Member(pk=i + 1, joined_at=joined + timedelta(minutes=i)) for i in range(n)]


def _simulate(
    members: list[Member],
    meetings: int,
    rng: random.Random,
    *,
    p_apology: float = 0.0,
    history: list[Turn] | None = None,
) -> tuple[list[Turn], list[set[int]]]:
    turns: list[Turn] = list(history or [])
    start = len(turns)
    apologies: list[set[int]] = []
    for week in range(start, start + meetings):
        away = {m.pk for m in members if rng.random() < p_apology}
        facilitator, note_taker = suggest_roles(candidates=members, turns=turns, unavailable=away)
        turns.append(
            Turn(
                START + timedelta(weeks=week),
                facilitator.pk if facilitator else None,
                note_taker.pk if note_taker else None,
            )
        )
        apologies.append(away)
    return turns[start:], apologies


def _spread(members: list[Member], turns: list[Turn], role: str) -> int:
    counts = rotation.tally(turns)
    held = [counts.of(m.pk, role).count for m in members]
    return max(held) - min(held)


def test_over_many_meetings_every_member_takes_each_role_in_turn():
    rng = random.Random(20260105)
    for _ in range(300):
        members = _members(rng.randint(2, 12))
        # One round, and one meeting more for a note taker whose turn fell on their facilitation.
        meetings = rng.randint(len(members) + 1, 80)

        turns, _away = _simulate(members, meetings, rng)

        counts = rotation.tally(turns)
        for role in (Role.FACILITATOR, Role.NOTE_TAKER):
            assert all(counts.of(m.pk, role).count >= 1 for m in members), (len(members), meetings)
        # After every meeting, not only at the end. Facilitators simply take turns; a note taker whose turn
        # falls on the meeting they facilitate takes it at the next one, so they are never two behind for
        # longer than that.
        for upto in range(len(members), meetings + 1):
            assert _spread(members, turns[:upto], Role.FACILITATOR) <= 1, (len(members), meetings, upto)
            assert _spread(members, turns[:upto], Role.NOTE_TAKER) <= 2, (len(members), meetings, upto)


def test_apologies_and_the_two_roles_rule_hold_at_every_meeting_and_everyone_takes_turns_again_after():
    rng = random.Random(7)
    for _ in range(200):
        members = _members(rng.randint(3, 10))

        turns, away = _simulate(members, rng.randint(10, 40), rng, p_apology=0.25)

        for turn, apologised in zip(turns, away, strict=True):
            assert turn.facilitator_id not in apologised
            assert turn.note_taker_id not in apologised
            if turn.facilitator_id is not None:
                assert turn.facilitator_id != turn.note_taker_id
        # Once nobody is away any more, every member holds each role again within two rounds.
        calm, _away = _simulate(members, 2 * len(members), rng, history=turns)
        counts = rotation.tally(calm)
        for role in (Role.FACILITATOR, Role.NOTE_TAKER):
            assert all(counts.of(m.pk, role).count >= 1 for m in members)


def test_the_first_meeting_goes_to_the_members_who_joined_first():
    ana, ben, cai = _members(3)

    assert suggest_roles(candidates=[cai, ben, ana], turns=[]) == (ana, ben)


def test_whoever_held_a_role_least_recently_is_suggested_for_it():
    ana, ben, cai = _members(3)
    turns = [
        Turn(START, ana.pk, ben.pk),
        Turn(START + timedelta(weeks=1), ben.pk, cai.pk),
        Turn(START + timedelta(weeks=2), cai.pk, ana.pk),
    ]

    assert suggest_roles(candidates=[ana, ben, cai], turns=turns) == (ana, ben)


def test_a_member_who_sent_apologies_is_not_suggested_and_keeps_their_turn_for_next_time():
    ana, ben, cai, dee = _members(4)

    first = suggest_roles(candidates=[ana, ben, cai, dee], turns=[], unavailable=[ana.pk])
    turns = [Turn(START, first[0].pk, first[1].pk)]
    second = suggest_roles(candidates=[ana, ben, cai, dee], turns=turns)

    assert ana not in first
    assert second[0] == ana


def test_a_newcomer_takes_one_turn_soon_but_not_every_turn_until_their_count_catches_up():
    old = _members(3)
    rng = random.Random(3)
    turns, _away = _simulate(old, 30, rng)
    newcomer = Member(pk=99, joined_at=turns[-1].starts_at + timedelta(days=1))
    everyone = [*old, newcomer]

    calm, _away = _simulate(everyone, 8, rng, history=turns)

    facilitators = [turn.facilitator_id for turn in calm]
    assert facilitators[0] == newcomer.pk
    assert facilitators.count(newcomer.pk) == 2


def test_with_one_available_member_there_is_a_facilitator_and_no_note_taker():
    ana, ben = _members(2)

    assert suggest_roles(candidates=[ana, ben], turns=[], unavailable=[ben.pk]) == (ana, None)
    assert suggest_roles(candidates=[ana, ben], turns=[], unavailable=[ana.pk, ben.pk]) == (None, None)


def test_the_replacement_for_a_skipped_turn_is_the_fairest_other_member():
    ana, ben, cai = _members(3)
    turns = [Turn(START, ana.pk, ben.pk)]

    assert fairest_for(role=Role.FACILITATOR, candidates=[ana, ben, cai], turns=turns, unavailable=[ben.pk]) == cai


@pytest.mark.django_db
def test_role_history_leaves_out_cancelled_and_later_meetings_and_standings_count_every_turn(alliance):
    ana, ben = MemberFactory(alliance=alliance), MemberFactory(alliance=alliance)
    held = MeetingFactory(alliance=alliance, starts_at=START, facilitator=ana, note_taker=ben)
    MeetingFactory(alliance=alliance, starts_at=START + timedelta(weeks=1), facilitator=ana, status="cancelled")
    MeetingFactory(alliance=alliance, starts_at=START + timedelta(weeks=3), facilitator=ben, note_taker=ana)
    MeetingFactory(facilitator=None)  # another alliance's

    turns = role_history(alliance=alliance, before=START + timedelta(weeks=2))
    standings = {s.member.pk: s for s in role_standings(members=[ana, ben], turns=role_history(alliance=alliance))}

    assert turns == [Turn(held.starts_at, ana.pk, ben.pk)]
    assert standings[ana.pk].facilitator.count == 1
    assert standings[ana.pk].note_taker.count == 1
    assert standings[ana.pk].note_taker.last == START + timedelta(weeks=3)
