"""The benchmark's data set (`manage.py seed_bench`), which bench/run.py loads into its own database."""

from collections import Counter
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.tests.factories import UserFactory
from alliances.management.commands.seed_bench import (
    BENCH_PASSWORD,
    LARGE_SLUG,
    MEMBER_EMAIL,
    STEWARD_EMAIL,
    TYPICAL_SLUG,
)
from alliances.models import Alliance, CharterChange, Invitation, Member
from bench.run import pages, request_headers
from meetings import consensus, live, notes, run, sending, steps
from meetings.models import AgendaItem, Attendance, Decision, Meeting, Proposal, RoundRobin, Stance, StepTime, Turn

pytestmark = pytest.mark.django_db


def test_the_full_data_set_has_the_sizes_the_benchmark_reports():
    call_command("seed_bench")

    active = Counter(Member.objects.active().values_list("alliance__slug", flat=True))
    assert active.pop(LARGE_SLUG) == 400
    assert len(active) == 200
    assert set(active.values()) == {40}
    assert 2900 <= User.objects.count() <= 3100
    per_person = Counter(Member.objects.active().values_list("user_id", flat=True))
    assert sum(1 for count in per_person.values() if count >= 2) > User.objects.count() / 2
    # Every alliance has former members, stewards, pending invitations and a charter history.
    assert Member.objects.filter(is_active=False).values("alliance").distinct().count() == 201
    assert Member.objects.stewards().values("alliance").distinct().count() == 201
    assert Invitation.objects.pending().values("alliance").distinct().count() == 201
    assert CharterChange.objects.values("alliance").distinct().count() == 201
    assert CharterChange.objects.filter(alliance__slug=TYPICAL_SLUG).count() >= 20
    # 50 meetings held by every alliance (their notes sent), 8 items each; the two measured alliances have
    # one coming up, and the typical one a meeting in progress.
    held = Counter(
        Meeting.objects.filter(status=Meeting.Status.ENDED, notes_sent_at__isnull=False).values_list(
            "alliance__slug", flat=True
        )
    )
    assert len(held) == 201
    assert set(held.values()) == {50}
    assert AgendaItem.objects.filter(meeting__alliance__slug=TYPICAL_SLUG).count() == 52 * 8
    upcoming = Counter(Meeting.objects.upcoming().values_list("alliance__slug", flat=True))
    assert (upcoming[TYPICAL_SLUG], upcoming[LARGE_SLUG]) == (1, 1)
    # The scheduled jobs' work (bench/scheduled_jobs.py): agendas to remind of now, notes reminders due over
    # the next day, and people round the world, a few of whom turned the nudges off.
    now = timezone.now()
    assert len(sending.meetings_due_agenda_reminder(now=now)) >= 30
    due_notes = {pk for hour in range(24) for pk in notes.meetings_due_notes_reminder(now=now + timedelta(hours=hour))}
    assert len(due_notes) >= 90
    assert User.objects.values("time_zone").distinct().count() >= 15
    assert 0.03 < User.objects.filter(nudges_enabled=False).count() / User.objects.count() < 0.08
    in_progress = Meeting.objects.filter(status=Meeting.Status.IN_PROGRESS).values_list("alliance__slug", flat=True)
    assert sorted(in_progress) == sorted([TYPICAL_SLUG, LARGE_SLUG])
    # The typical alliance's meetings held: a roll of 40, about 30 turns on each decision, a stance from
    # everyone present on each proposal, one decision each.
    typical = Meeting.objects.filter(alliance__slug=TYPICAL_SLUG, status=Meeting.Status.ENDED)
    assert Attendance.objects.filter(meeting__in=typical).count() == 50 * 40
    on_decisions = Turn.objects.filter(round_robin__meeting__in=typical, round_robin__is_evaluation=False)
    assert 25 * 50 <= on_decisions.count() <= 40 * 50
    assert Decision.objects.filter(meeting__in=typical).count() == 50
    assert 25 * 50 <= Stance.objects.filter(proposal__item__meeting__in=typical).count() <= 50 * 40 * 2
    # The large alliance's too; a quarter of the others (the rest only give the tables their size).
    assert Decision.objects.filter(alliance__slug=LARGE_SLUG).count() == 50
    assert Decision.objects.values("alliance").distinct().count() == 51


def test_the_printed_logins_sign_in_through_the_form_and_reach_their_pages(client, capsys):
    call_command("seed_bench", "--smoke")
    printed = capsys.readouterr().out

    assert BENCH_PASSWORD in printed
    assert STEWARD_EMAIL in printed
    assert MEMBER_EMAIL in printed
    response = client.post(reverse("accounts:login"), {"username": STEWARD_EMAIL, "password": BENCH_PASSWORD})
    assert response.status_code == 302
    invite = reverse("alliances:invitation_create", kwargs={"slug": LARGE_SLUG})
    assert invite in client.get(reverse("alliances:member_list", kwargs={"slug": LARGE_SLUG})).content.decode()
    client.logout()
    client.post(reverse("accounts:login"), {"username": MEMBER_EMAIL, "password": BENCH_PASSWORD})
    page = client.get(reverse("alliances:member_list", kwargs={"slug": LARGE_SLUG}))
    assert page.status_code == 200
    assert invite not in page.content.decode()


def test_a_second_run_is_refused_and_changes_nothing():
    call_command("seed_bench", "--smoke")
    counts = (User.objects.count(), Alliance.objects.count(), Member.objects.count())

    with pytest.raises(CommandError, match="fills an empty database only"):
        call_command("seed_bench", "--smoke")

    assert (User.objects.count(), Alliance.objects.count(), Member.objects.count()) == counts


def test_a_database_with_any_account_is_left_alone():
    UserFactory(email="real.person@example.org")

    with pytest.raises(CommandError, match=r"already holds accounts \(1\)"):
        call_command("seed_bench", "--smoke")

    assert list(User.objects.values_list("email", flat=True)) == ["real.person@example.org"]


def _held_meetings(slug: str):
    return Meeting.objects.filter(alliance__slug=slug, status=Meeting.Status.ENDED).order_by("starts_at")


def test_every_meeting_held_keeps_what_its_run_of_show_left_with_consistent_times_and_versions():
    call_command("seed_bench", "--smoke")

    for number, meeting in enumerate(_held_meetings(TYPICAL_SLUG)):
        present = set(meeting.attendance.filter(status=Attendance.Status.PRESENT).values_list("member_id", flat=True))
        assert meeting.attendance.count() == meeting.alliance.members.filter(is_active=True).count()
        # Every step of the run of show has its time, and together they make the meeting's length.
        spent = dict(StepTime.objects.filter(meeting=meeting).values_list("key", "spent_seconds"))
        assert set(spent) == {step.key for step in steps.for_meeting(meeting)}
        assert sum(spent.values()) == (meeting.ended_at - meeting.started_at).total_seconds()
        # The round robin on the decision: a turn for everyone present, in order, a pass with no thought.
        item = meeting.items.get(kind=AgendaItem.Kind.DECISION)
        round_robin = RoundRobin.objects.get(meeting=meeting, item=item)
        turns = list(round_robin.turns.order_by("position"))
        assert {turn.member_id for turn in turns} == present
        assert round_robin.current_position == len(turns)
        assert round_robin.first_speaker_id == turns[0].member_id
        assert round_robin.order == [turn.member_id for turn in turns]
        assert any(turn.passed for turn in turns)
        for turn in turns:
            assert (turn.thought == "", turn.version) == ((True, 0) if turn.passed else (False, 1))
            assert turn.started_at < turn.ended_at <= round_robin.ended_at
        assert item.discussion_version == (1 if item.discussion else 0)
        # A stance from everyone present on each version; the last reached consensus, and is the decision.
        proposals = list(item.proposals.order_by("number"))
        assert [p.outcome for p in proposals][-1] == Proposal.Outcome.CONSENSUS
        assert all(p.outcome == Proposal.Outcome.BLOCKED for p in proposals[:-1])
        assert len(proposals) == (2 if number % 4 == 0 else 1)
        for proposal in proposals:
            assert set(proposal.stances.values_list("member_id", flat=True)) == present
            assert not proposal.stances.exclude(kind=Stance.Kind.AGREE).filter(reason="").exists()
        decision = Decision.objects.get(item=item)
        assert (decision.proposal, decision.text) == (proposals[-1], proposals[-1].text)
        assert meeting.started_at < decision.decided_at < meeting.ended_at
        assert meeting.revision > len(turns) + len(present)


def test_the_typical_alliance_has_a_meeting_in_progress_on_a_decision_for_the_live_pages():
    call_command("seed_bench", "--smoke")
    meeting = Meeting.objects.get(alliance__slug=TYPICAL_SLUG, status=Meeting.Status.IN_PROGRESS)

    state = live.live_state(meeting)

    assert meeting.facilitator.user.email == STEWARD_EMAIL
    assert state.step.is_decision
    assert state.round_robin is not None
    assert state.round_robin.current_position > 0
    assert state.speaker is not None
    proposal = state.step.item.proposals.get()
    present = meeting.attendance.filter(status=Attendance.Status.PRESENT).count()
    assert proposal.outcome == Proposal.Outcome.OPEN
    assert 0 < proposal.stances.count() < present
    assert meeting.started_at < meeting.step_started_at < state.now


def test_the_large_alliance_has_a_meeting_in_progress_the_live_load_can_move_and_record_stances_on():
    call_command("seed_bench", "--smoke")
    meeting = Meeting.objects.get(alliance__slug=LARGE_SLUG, status=Meeting.Status.IN_PROGRESS)
    facilitator = meeting.facilitator

    state = live.live_state(meeting)

    assert facilitator.user.email == STEWARD_EMAIL
    assert state.step.is_decision
    assert state.round_robin is None
    proposal = state.step.item.proposals.get()
    assert proposal.outcome == Proposal.Outcome.OPEN
    # What bench/live_load.py does through the endpoints: a stance for someone present, the step before and
    # back (not past the decision: it has no consensus yet).
    present = meeting.attendance.filter(status=Attendance.Status.PRESENT).exclude(member=facilitator)[0].member
    consensus.record_stance(proposal=proposal, member=present, kind=Stance.Kind.AGREE, by=facilitator)
    decision_step = meeting.current_step
    meeting = run.go_to_previous_step(meeting=meeting, by=facilitator, expected_step=decision_step)
    meeting = run.go_to_next_step(meeting=meeting, by=facilitator, expected_step=meeting.current_step)
    assert meeting.current_step == decision_step


def test_every_page_the_benchmark_lists_answers_as_it_expects_on_the_smoke_data_set(client):
    call_command("seed_bench", "--smoke")
    readers = {"steward": User.objects.get(email=STEWARD_EMAIL), "member": User.objects.get(email=MEMBER_EMAIL)}

    for page in pages():
        client.force_login(readers[page.reader])
        response = client.get(page.path, headers=request_headers(page))
        text = response.content.decode()
        assert response.status_code == page.status, page.name
        assert [marker for marker in page.markers if marker not in text] == [], page.name
        if page.etag:
            assert response["ETag"] == page.etag, page.name
        if page.absent:
            assert page.absent not in text, page.name


def test_the_reminder_jobs_find_work_only_in_the_alliances_no_page_of_the_benchmark_shows():
    call_command("seed_bench", "--smoke")
    signed_in = User.objects.filter(email__in=[STEWARD_EMAIL, MEMBER_EMAIL])
    shown = set(Member.objects.active().filter(user__in=signed_in).values_list("alliance_id", flat=True))
    others = set(Alliance.objects.exclude(pk__in=shown).values_list("pk", flat=True))
    assert others

    # Each of the others: its next meeting, agenda unsent (or sent, reminded, cancelled), and a meeting
    # awaiting its notes; the alliances the pages show keep only what they had.
    coming = Meeting.objects.filter(starts_at__gt=timezone.now(), alliance__in=others)
    assert Counter(coming.values_list("alliance_id", flat=True)) == dict.fromkeys(others, 1)
    awaiting = Meeting.objects.awaiting_notes()
    assert Counter(awaiting.values_list("alliance_id", flat=True)) == dict.fromkeys(others, 1)
    assert not awaiting.filter(alliance__in=shown).exists()
    assert set(Meeting.objects.upcoming().filter(alliance__in=shown).values_list("alliance__slug", flat=True)) == {
        TYPICAL_SLUG,
        LARGE_SLUG,
    }
    # The notes reminders and the agenda reminders have work over the next day.
    now = timezone.now()
    due = {pk for hour in range(24) for pk in notes.meetings_due_notes_reminder(now=now + timedelta(hours=hour))}
    assert due
    assert due <= set(awaiting.values_list("pk", flat=True))
    assert sending.meetings_due_agenda_reminder(now=now + timedelta(hours=24))
    # The two who sign in keep their zones; the others live round the world.
    assert dict(signed_in.values_list("email", "time_zone")) == {
        STEWARD_EMAIL: "America/Puerto_Rico",
        MEMBER_EMAIL: "America/New_York",
    }
