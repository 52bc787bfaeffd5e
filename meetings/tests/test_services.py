from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from alliances import services as alliance_services
from alliances.models import Alliance, Member
from alliances.tests.factories import AllianceFactory, MemberFactory
from meetings import rotation, services
from meetings.models import CLOSING_SEGMENTS, OPENING_SEGMENTS, Apology, Meeting, Role, RoleTurnChange
from meetings.scheduling import NonexistentTime, local_to_utc, next_slot
from meetings.services import MeetingError
from meetings.tests.factories import ApologyFactory, MeetingFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2027, 3, 1, 12, tzinfo=UTC)


@pytest.fixture
def people(alliance) -> dict[str, Member]:
    return {
        "steward": MemberFactory(alliance=alliance, is_steward=True, user__display_name="Stella"),
        "fay": MemberFactory(alliance=alliance, user__display_name="Fay"),
        "nat": MemberFactory(alliance=alliance, user__display_name="Nat"),
        "ola": MemberFactory(alliance=alliance, user__display_name="Ola"),
    }


def _schedule(alliance: Alliance, people: dict[str, Member], **changes) -> Meeting:
    fields = {
        "alliance": alliance,
        "by": people["steward"],
        "starts_at": NOW + timedelta(days=7),
        "duration_minutes": 90,
        "facilitator": people["fay"],
        "note_taker": people["nat"],
        "now": NOW,
    }
    return services.meeting_schedule(**{**fields, **changes})


# --- Time zones ------------------------------------------------------------------------------------


def test_a_new_york_meeting_at_six_pm_is_at_six_pm_on_both_sides_of_the_march_clock_change():
    # Clocks go forward on 14 March 2027 in New York: 18:00 is 23:00 UTC before, 22:00 UTC after.
    before = local_to_utc(date(2027, 3, 9), time(18), "America/New_York")
    after = local_to_utc(date(2027, 3, 16), time(18), "America/New_York")

    assert before == datetime(2027, 3, 9, 23, tzinfo=UTC)
    assert after == datetime(2027, 3, 16, 22, tzinfo=UTC)


def test_a_time_the_clocks_skip_is_refused():
    with pytest.raises(NonexistentTime):
        local_to_utc(date(2027, 3, 14), time(2, 30), "America/New_York")


# --- The next slot ---------------------------------------------------------------------------------


def _alliance(cadence: str, weekday: int | None = 1, start: time | None = time(18)) -> Alliance:
    return AllianceFactory.build(
        cadence=cadence, meeting_weekday=weekday, meeting_time=start, time_zone="America/New_York"
    )


@pytest.mark.parametrize(
    ("cadence", "expected"),
    [
        (Alliance.Cadence.WEEKLY, date(2027, 3, 16)),
        (Alliance.Cadence.BIWEEKLY, date(2027, 3, 23)),
        # The 2nd Tuesday of March, then the 2nd Tuesday of April.
        (Alliance.Cadence.MONTHLY, date(2027, 4, 13)),
    ],
)
def test_the_next_slot_follows_the_cadence_after_the_latest_meeting_across_the_clock_change(cadence, expected):
    latest = local_to_utc(date(2027, 3, 9), time(18), "America/New_York")  # a Tuesday, before the change

    slot = next_slot(alliance=_alliance(cadence), latest=latest, latest_duration=90, now=NOW)

    assert (slot.day, slot.start) == (expected, time(18))
    assert local_to_utc(slot.day, slot.start, "America/New_York").hour == 22  # summer time


def test_the_fifth_weekday_of_a_month_becomes_the_last_one_of_a_shorter_month():
    latest = local_to_utc(date(2027, 3, 30), time(18), "America/New_York")  # the 5th Tuesday of March

    slot = next_slot(alliance=_alliance(Alliance.Cadence.MONTHLY), latest=latest, latest_duration=90, now=NOW)

    assert slot.day == date(2027, 4, 27)


def test_a_one_off_meeting_on_another_day_brings_the_next_one_back_to_the_usual_day():
    latest = local_to_utc(date(2027, 3, 10), time(18), "America/New_York")  # a Wednesday

    slot = next_slot(alliance=_alliance(Alliance.Cadence.WEEKLY), latest=latest, latest_duration=90, now=NOW)

    assert slot.day == date(2027, 3, 16)


def test_without_meetings_the_next_slot_is_the_first_usual_day_and_a_slot_in_the_past_moves_on():
    monday = NOW  # 1 March 2027 is a Monday

    first = next_slot(alliance=_alliance(Alliance.Cadence.WEEKLY), latest=None, latest_duration=None, now=monday)
    long_ago = next_slot(
        alliance=_alliance(Alliance.Cadence.WEEKLY),
        latest=datetime(2026, 1, 6, 23, tzinfo=UTC),
        latest_duration=None,
        now=monday,
    )

    assert first.day == date(2027, 3, 2)
    assert long_ago.day == date(2027, 3, 2)
    assert first.duration_minutes == 90


# --- Scheduling ------------------------------------------------------------------------------------


def test_scheduling_creates_the_six_standard_segments_in_the_alliances_zone(alliance, people):
    alliance.time_zone = "America/New_York"
    alliance.save()

    meeting = _schedule(alliance, people, support_offered="Spanish interpretation")

    assert meeting.time_zone == "America/New_York"
    assert meeting.support_offered == "Spanish interpretation"
    assert sorted(meeting.segments.values_list("kind", flat=True)) == sorted([*OPENING_SEGMENTS, *CLOSING_SEGMENTS])


def test_the_facilitator_of_the_latest_meeting_may_schedule_and_a_plain_member_may_not(alliance, people):
    _schedule(alliance, people)

    _schedule(alliance, people, by=people["fay"], starts_at=NOW + timedelta(days=14))
    with pytest.raises(PermissionDenied):
        _schedule(alliance, people, by=people["ola"], starts_at=NOW + timedelta(days=21))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"starts_at": NOW - timedelta(hours=1)}, "in the future"),
        ({"note_taker": "fay"}, "both facilitator and note taker"),
        ({"facilitator": "former"}, "active members"),
        ({"facilitator": "stranger"}, "active members"),
        ({"duration_minutes": 2}, "between 5 and 1440"),
    ],
)
def test_bad_scheduling_is_refused_with_a_clear_message_and_nothing_is_saved(alliance, people, changes, message):
    people["former"] = MemberFactory(alliance=alliance, is_active=False)
    people["stranger"] = MemberFactory(alliance=AllianceFactory())
    changes = {key: people[value] if isinstance(value, str) else value for key, value in changes.items()}

    with pytest.raises(MeetingError, match=message):
        _schedule(alliance, people, **changes)

    assert not Meeting.objects.exists()


# --- Rescheduling and cancelling -------------------------------------------------------------------


@pytest.fixture
def notified(monkeypatch) -> list[tuple[str, int, int]]:
    calls = []
    monkeypatch.setattr(
        "meetings.sending.meeting_notify_rescheduled",
        lambda *, meeting: calls.append(("rescheduled", meeting.pk, meeting.sequence)),
    )
    monkeypatch.setattr(
        "meetings.sending.meeting_notify_cancelled",
        lambda *, meeting: calls.append(("cancelled", meeting.pk, meeting.sequence)),
    )
    return calls


def _reschedule(meeting: Meeting, people: dict[str, Member], **changes) -> Meeting:
    fields = {
        "meeting": meeting,
        "by": people["fay"],
        "starts_at": meeting.starts_at,
        "duration_minutes": meeting.duration_minutes,
        "facilitator": meeting.facilitator,
        "note_taker": meeting.note_taker,
        "venue_address": meeting.venue_address,
        "video_link": meeting.video_link,
        "support_offered": meeting.support_offered,
        "now": NOW,
    }
    return services.meeting_reschedule(**{**fields, **changes})


def test_a_new_time_raises_sequence_and_revision_and_sends_the_update(alliance, people, notified):
    meeting = _schedule(alliance, people)

    moved = _reschedule(meeting, people, starts_at=meeting.starts_at + timedelta(hours=1))

    assert (moved.sequence, moved.revision) == (1, 1)
    assert notified == [("rescheduled", meeting.pk, 1)]


def test_changing_only_the_support_offered_sends_no_calendar_update(alliance, people, notified):
    meeting = _schedule(alliance, people)

    changed = _reschedule(meeting, people, support_offered="Childcare")

    assert (changed.sequence, changed.revision) == (0, 1)
    assert notified == []


def test_a_plain_member_cannot_reschedule_and_a_role_cannot_go_to_someone_who_sent_apologies(
    alliance, people, notified
):
    meeting = _schedule(alliance, people)
    ApologyFactory(meeting=meeting, member=people["ola"])

    with pytest.raises(PermissionDenied):
        _reschedule(meeting, people, by=people["ola"], starts_at=meeting.starts_at + timedelta(hours=1))
    with pytest.raises(MeetingError, match="sent apologies"):
        _reschedule(meeting, people, note_taker=people["ola"])

    meeting.refresh_from_db()
    assert meeting.note_taker == people["nat"]
    assert notified == []


def test_cancelling_sends_the_cancellation_and_a_cancelled_meeting_no_longer_changes(alliance, people, notified):
    meeting = _schedule(alliance, people)

    cancelled = services.meeting_cancel(meeting=meeting, by=people["steward"], now=NOW)

    assert cancelled.is_cancelled
    assert cancelled.cancelled_by == people["steward"]
    assert notified == [("cancelled", meeting.pk, 1)]
    with pytest.raises(MeetingError, match="cancelled"):
        services.meeting_cancel(meeting=meeting, by=people["steward"], now=NOW)


def test_a_past_meeting_cannot_be_cancelled(alliance, people, notified):
    meeting = MeetingFactory(alliance=alliance, starts_at=NOW - timedelta(days=1), facilitator=people["fay"])

    with pytest.raises(MeetingError, match="already"):
        services.meeting_cancel(meeting=meeting, by=people["steward"], now=NOW)
    assert notified == []


# --- Apologies and turns ---------------------------------------------------------------------------


def test_apologies_from_the_note_taker_hand_the_role_on_and_can_be_taken_back(alliance, people):
    meeting = _schedule(alliance, people)

    services.apology_send(meeting=meeting, member=people["nat"], now=NOW)
    meeting.refresh_from_db()
    change = RoleTurnChange.objects.get()

    assert meeting.note_taker not in (people["nat"], people["fay"], None)
    assert (change.kind, change.role, change.from_member) == ("skip", Role.NOTE_TAKER, people["nat"])
    with pytest.raises(MeetingError, match="already"):
        services.apology_send(meeting=meeting, member=people["nat"], now=NOW)

    services.apology_withdraw(meeting=meeting, member=people["nat"], now=NOW)

    assert not Apology.objects.exists()
    with pytest.raises(MeetingError, match="not sent apologies"):
        services.apology_withdraw(meeting=meeting, member=people["nat"], now=NOW)


def test_a_skipped_turn_goes_to_the_fairest_other_member_and_is_recorded(alliance, people):
    meeting = _schedule(alliance, people)

    services.role_turn_skip(meeting=meeting, role=Role.FACILITATOR, by=people["fay"], now=NOW)
    meeting.refresh_from_db()

    assert meeting.facilitator not in (people["fay"], people["nat"])
    assert RoleTurnChange.objects.get().kind == RoleTurnChange.Kind.SKIP


def test_swapping_with_the_other_roles_holder_exchanges_the_two_roles(alliance, people):
    meeting = _schedule(alliance, people)

    services.role_turn_swap(
        meeting=meeting, role=Role.FACILITATOR, with_member=people["nat"], by=people["fay"], now=NOW
    )
    meeting.refresh_from_db()

    assert (meeting.facilitator, meeting.note_taker) == (people["nat"], people["fay"])
    change = RoleTurnChange.objects.get()
    assert (change.kind, change.from_member, change.to_member) == ("swap", people["fay"], people["nat"])


def test_only_the_holder_or_an_editor_changes_a_turn(alliance, people):
    meeting = _schedule(alliance, people)

    with pytest.raises(PermissionDenied):
        services.role_turn_skip(meeting=meeting, role=Role.FACILITATOR, by=people["ola"], now=NOW)
    # The note taker may skip their own turn.
    services.role_turn_skip(meeting=meeting, role=Role.NOTE_TAKER, by=people["nat"], now=NOW)


def test_a_skipped_turn_stays_the_skippers_for_the_next_meeting(alliance, people):
    members = list(Member.objects.filter(alliance=alliance).order_by("joined_at", "pk"))
    first_facilitator, first_note_taker = rotation.suggest_roles(
        candidates=members, turns=rotation.role_history(alliance=alliance)
    )
    meeting = _schedule(alliance, people, facilitator=first_facilitator, note_taker=first_note_taker)

    services.role_turn_skip(meeting=meeting, role=Role.FACILITATOR, by=first_facilitator, now=NOW)
    proposed, _note_taker = rotation.suggest_roles(candidates=members, turns=rotation.role_history(alliance=alliance))

    meeting.refresh_from_db()
    assert meeting.facilitator != first_facilitator
    assert proposed == first_facilitator


def test_a_member_who_leaves_hands_their_upcoming_roles_on_and_keeps_past_ones(alliance, people):
    held = MeetingFactory(
        alliance=alliance, starts_at=timezone.now() - timedelta(days=7), facilitator=people["nat"], note_taker=None
    )
    upcoming = services.meeting_schedule(
        alliance=alliance,
        by=people["steward"],
        starts_at=timezone.now() + timedelta(days=7),
        duration_minutes=90,
        facilitator=people["fay"],
        note_taker=people["nat"],
    )

    alliance_services.member_leave(member=people["nat"])

    upcoming.refresh_from_db()
    held.refresh_from_db()
    assert upcoming.note_taker not in (people["nat"], people["fay"], None)
    assert upcoming.revision == 1
    assert RoleTurnChange.objects.get(meeting=upcoming).from_member == people["nat"]
    assert held.facilitator == people["nat"]
