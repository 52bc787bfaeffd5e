"""The live run of show's pages: the live page, its polled state, the big screen, and the buttons."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from alliances import services as alliance_services
from alliances.tests.factories import MemberFactory
from meetings import consensus, live, round_robins, run, steps
from meetings.models import Attendance, Meeting, RoundRobin, Turn
from meetings.tests.run_helpers import Table, go_to, round_table, start

pytestmark = pytest.mark.django_db


@pytest.fixture
def table(alliance) -> Table:
    return round_table(alliance)


def _url(table: Table, name: str) -> str:
    return reverse(f"meetings:{name}", kwargs={"slug": table.alliance.slug, "pk": table.meeting.pk})


def _started(table: Table) -> Meeting:
    return start(table, now=timezone.now())


def _meeting(table: Table) -> Meeting:
    return Meeting.objects.get(pk=table.meeting.pk)


def _messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


# --- Who sees what --------------------------------------------------------------------------------------


def test_every_member_follows_the_meeting_on_the_live_page(client, table):
    _started(table)
    go_to(table, "reflection", now=timezone.now())
    client.force_login(table.others[0].user)

    response = client.get(_url(table, "live_detail"))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Now: Opening reflection" in response.context["announce"]["step"]
    assert 'aria-current="step"' in page
    assert "News from the library" in page
    assert "Summer reading fair" in page
    # A plain member gets no driver's buttons and no attendance panel.
    assert "Next step" not in page
    assert 'id="live-attendance"' not in page


def test_the_live_page_numbers_the_agenda_item_it_is_on(client, table):
    _started(table)
    go_to(table, steps.item_key(table.decision), now=timezone.now())
    client.force_login(table.others[0].user)

    response = client.get(_url(table, "live_detail"))

    assert "Agenda item 2 — Summer reading fair" in response.content.decode()


def test_the_opening_reflection_is_shown_in_full_on_its_step(client, table):
    from meetings.tests.factories import ReflectionFactory

    ReflectionFactory(meeting=table.meeting, text="A long poem.\nIts second line.", source="A poet")
    _started(table)
    client.force_login(table.others[0].user)
    page_before = client.get(_url(table, "live_detail")).content.decode()
    go_to(table, "reflection", now=timezone.now())

    page = client.get(_url(table, "live_detail")).content.decode()

    assert "Its second line." not in page_before
    assert "A long poem.\nIts second line." in page
    assert "A poet" in page


@pytest.mark.parametrize("name", ["live_detail", "live_state", "live_screen"])
def test_an_outsider_gets_not_found(client, table, outsider, name):
    client.force_login(outsider)

    assert client.get(_url(table, name)).status_code == 404
    assert client.get(_url(table, name), headers={"If-None-Match": '"0"'}).status_code == 404


@pytest.mark.parametrize("name", ["live_detail", "live_state", "live_screen"])
def test_a_member_removed_meanwhile_gets_not_found_at_once(client, table, name):
    ann = table.others[0]
    client.force_login(ann.user)
    revision = _meeting(table).revision
    assert client.get(_url(table, name), headers={"If-None-Match": f'"{revision}"'}).status_code in (200, 304)

    alliance_services.member_deactivate(member=ann, by=table.steward.user)

    # Even with the ETag of the unchanged meeting: the 304 path checks the membership too.
    assert client.get(_url(table, name), headers={"If-None-Match": f'"{revision}"'}).status_code == 404
    assert client.get(_url(table, name)).status_code == 404


@pytest.mark.parametrize(
    "name",
    [
        "live_start",
        "live_next_step",
        "live_previous_step",
        "live_end",
        "live_round_robin_start",
        "live_next_speaker",
        "live_round_robin_end",
        "live_attendance",
    ],
)
def test_a_plain_member_may_not_drive_the_meeting(client, table, name):
    client.force_login(table.others[0].user)

    response = client.post(_url(table, name), {"expected_step": ""})

    assert response.status_code == 403
    assert _meeting(table).revision == table.meeting.revision


def test_the_big_screen_shows_the_speaker_and_no_controls(client, table):
    _started(table)
    go_to(table, steps.item_key(table.info), now=timezone.now())
    round_robins.start_round_robin(meeting=_meeting(table), by=table.facilitator, item=table.info, turn_seconds=90)
    client.force_login(table.facilitator.user)

    response = client.get(_url(table, "live_screen"))

    page = response.content.decode()
    assert response.status_code == 200
    assert "<button" not in page
    assert "<form" not in page
    speaker = Turn.objects.get(round_robin__meeting=table.meeting, position=0).member.user.display_name
    assert speaker in page
    # The moment the turn ends, for the page to count down to (milliseconds since the epoch).
    turn = Turn.objects.get(round_robin__meeting=table.meeting, position=0)
    until = int((turn.started_at + timedelta(seconds=90)).timestamp() * 1000)
    shown = int(re.search(r'data-until="(\d+)"', page).group(1))
    assert abs(shown - until) <= 1000


# --- The buttons ------------------------------------------------------------------------------------------


def test_the_facilitator_starts_the_meeting_and_comes_back_to_the_live_page(client, table):
    client.force_login(table.facilitator.user)

    response = client.post(_url(table, "live_start"), follow=True)

    assert response.redirect_chain == [(_url(table, "live_detail"), 302)]
    meeting = _meeting(table)
    assert meeting.status == Meeting.Status.IN_PROGRESS
    assert meeting.current_step == steps.FIRST
    assert "The meeting has started. Take attendance as people arrive." in _messages(response)


def test_next_and_previous_step_move_everyone(client, table):
    _started(table)
    client.force_login(table.facilitator.user)

    response = client.post(_url(table, "live_next_step"), {"expected_step": "bonding"})
    assert response.status_code == 302
    assert response["Location"] == _url(table, "live_detail")
    assert _meeting(table).current_step == "reflection"

    client.post(_url(table, "live_previous_step"), {"expected_step": "reflection"})
    assert _meeting(table).current_step == "bonding"


def test_a_double_click_moves_the_meeting_once_and_says_why(client, table):
    _started(table)
    client.force_login(table.facilitator.user)

    client.post(_url(table, "live_next_step"), {"expected_step": "bonding"})
    response = client.post(_url(table, "live_next_step"), {"expected_step": "bonding"}, follow=True)

    assert _meeting(table).current_step == "reflection"
    assert "The meeting has already moved on: look at the current step and try again." in _messages(response)


def test_a_button_sent_by_the_script_gets_its_outcome_as_json(client, table):
    _started(table)
    client.force_login(table.facilitator.user)
    headers = {"X-Live-Action": "1"}

    moved = client.post(_url(table, "live_next_step"), {"expected_step": "bonding"}, headers=headers)
    again = client.post(_url(table, "live_next_step"), {"expected_step": "bonding"}, headers=headers)

    assert moved.status_code == 200
    assert moved.json() == {"ok": True, "message": "Moved to the next step."}
    assert again.status_code == 409
    assert again.json()["ok"] is False
    assert _meeting(table).current_step == "reflection"
    # No message is left behind for the next page: the script has shown it already.
    assert _messages(client.get(_url(table, "live_detail"))) == []


def test_a_round_robin_runs_from_the_buttons(client, table):
    _started(table)
    go_to(table, steps.item_key(table.info), now=timezone.now())
    client.force_login(table.facilitator.user)

    client.post(
        _url(table, "live_round_robin_start"), {"expected_step": steps.item_key(table.info), "turn_seconds": "60"}
    )
    round_robin = RoundRobin.objects.get(meeting=table.meeting)
    assert round_robin.item == table.info
    assert round_robin.turn_seconds == 60

    client.post(_url(table, "live_next_speaker"), {"round_robin": round_robin.pk, "expected_position": "0"})
    # A second click on the same turn does not skip the next speaker.
    response = client.post(
        _url(table, "live_next_speaker"), {"round_robin": round_robin.pk, "expected_position": "0"}, follow=True
    )
    assert "The round robin has already moved on to the next speaker." in _messages(response)
    client.post(_url(table, "live_pass"), {"round_robin": round_robin.pk, "expected_position": "1"})

    turns = list(Turn.objects.filter(round_robin=round_robin).order_by("position"))
    assert [turn.ended_at is not None for turn in turns[:3]] == [True, True, False]
    assert [turn.passed for turn in turns[:2]] == [False, True]

    client.post(_url(table, "live_round_robin_end"), {"round_robin": round_robin.pk})
    round_robin.refresh_from_db()
    assert round_robin.ended_at is not None


def test_a_round_robin_with_a_time_box_that_is_not_a_number_is_refused_with_a_message(client, table):
    _started(table)
    go_to(table, steps.item_key(table.info), now=timezone.now())
    client.force_login(table.facilitator.user)

    response = client.post(_url(table, "live_round_robin_start"), {"turn_seconds": "soon"}, follow=True)

    assert "That is not a whole number." in _messages(response)
    assert not RoundRobin.objects.filter(meeting=table.meeting).exists()


def test_the_speaker_passes_their_own_turn_but_nobody_else_s(client, table):
    _started(table)
    go_to(table, steps.item_key(table.info), now=timezone.now())
    round_robin = round_robins.start_round_robin(meeting=_meeting(table), by=table.facilitator, item=table.info)
    speaker = Turn.objects.get(round_robin=round_robin, position=0).member
    other = next(m for m in table.others if m.pk != speaker.pk and not run.may_drive(table.meeting, m))

    client.force_login(other.user)
    assert client.post(_url(table, "live_pass"), {"expected_position": "0"}).status_code == 403

    client.force_login(speaker.user)
    page = client.get(_url(table, "live_detail")).content.decode()
    response = client.post(_url(table, "live_pass"), {"expected_position": "0"})

    assert response.status_code == 302
    assert Turn.objects.get(round_robin=round_robin, position=0).passed
    if not run.may_drive(table.meeting, speaker):
        assert "Pass my turn" in page


def test_the_meeting_ends_from_its_last_step(client, table):
    _started(table)
    consensus.defer_item(item=table.decision, by=table.facilitator)
    go_to(table, steps.LAST, now=timezone.now())
    client.force_login(table.steward.user)

    client.post(_url(table, "live_end"), {"expected_step": steps.LAST})

    assert _meeting(table).status == Meeting.Status.ENDED


def test_the_note_taker_marks_a_late_arrival_present(client, table):
    ann = table.others[0]
    start(table, present=[table.facilitator, table.note_taker], now=timezone.now())
    go_to(table, "reflection", now=timezone.now())
    client.force_login(table.note_taker.user)

    page = client.get(_url(table, "live_detail")).content.decode()
    response = client.post(_url(table, "live_attendance"), {"mark": f"{ann.pk}:present"}, follow=True)

    assert f'value="{ann.pk}:present"' in page
    row = Attendance.objects.get(meeting=table.meeting, member=ann)
    assert row.status == Attendance.Status.PRESENT
    assert row.arrived_at is not None
    assert "Ann: Present." in _messages(response)


def test_the_polled_state_tells_the_attendance_panel_who_arrived_late(client, table):
    ann = table.others[0]
    start(table, present=[table.facilitator, table.note_taker], now=timezone.now())
    go_to(table, "reflection", now=timezone.now())
    client.force_login(table.note_taker.user)
    before = client.get(_url(table, "live_state")).content.decode()

    client.post(_url(table, "live_attendance"), {"mark": f"{ann.pk}:present"})
    after = client.get(_url(table, "live_state")).content.decode()
    page = client.get(_url(table, "live_detail")).content.decode()

    # live.js shows the row's "arrived late" badge from this list, without a reload.
    assert 'data-attendance-late="[]"' in before
    assert f'data-attendance-late="[{ann.pk}]"' in after
    assert re.search(rf'data-attendance-row="{ann.pk}".*?<span [^>]*data-attendance-late>arrived late', page, re.S)
    on_time = re.search(
        rf'data-attendance-row="{table.note_taker.pk}".*?<span [^>]*data-attendance-late([^>]*)>', page, re.S
    )
    assert on_time
    assert "hidden" in on_time.group(1)


def test_apologies_show_as_excused_in_the_attendance_panel(client, table):
    from meetings.tests.factories import ApologyFactory

    ApologyFactory(meeting=table.meeting, member=table.others[1])
    client.force_login(table.note_taker.user)

    def rows() -> dict[str, str]:
        return {row.name: row.status for row in client.get(_url(table, "live_detail")).context["attendance_rows"]}

    before = rows()
    start(table, present=[table.facilitator, table.note_taker], now=timezone.now())
    after = rows()

    assert (before["Ben"], before["Ann"]) == (Attendance.Status.EXCUSED, "")
    assert (after["Ben"], after["Ann"]) == (Attendance.Status.EXCUSED, Attendance.Status.ABSENT)


def test_marking_someone_of_another_alliance_is_refused(client, table):
    _started(table)
    stranger = MemberFactory()
    client.force_login(table.note_taker.user)

    response = client.post(_url(table, "live_attendance"), {"mark": f"{stranger.pk}:present"}, follow=True)

    assert "Choose a member and whether they are present, absent or excused." in _messages(response)
    assert not Attendance.objects.filter(member=stranger).exists()


# --- The polled state -------------------------------------------------------------------------------------


def test_the_state_answers_its_revision_as_etag_then_304_after_one_query(client, table, django_assert_num_queries):
    _started(table)
    client.force_login(table.others[0].user)

    first = client.get(_url(table, "live_state"))
    etag = first["ETag"]
    assert first.status_code == 200
    assert etag == f'"{_meeting(table).revision}"'
    assert "no-cache" in first["Cache-Control"]
    assert "private" in first["Cache-Control"]
    assert "Now: Bonding social moment" in first.content.decode()

    # The session, the user, and one query for the membership and the revision together.
    with django_assert_num_queries(3):
        unchanged = client.get(_url(table, "live_state"), headers={"If-None-Match": etag})
    assert unchanged.status_code == 304
    assert unchanged["ETag"] == etag

    run.go_to_next_step(meeting=_meeting(table), by=table.facilitator)
    changed = client.get(_url(table, "live_state"), headers={"If-None-Match": etag})

    assert changed.status_code == 200
    assert changed["ETag"] == f'"{_meeting(table).revision}"' != etag
    assert 'data-step="reflection"' in changed.content.decode()


def test_the_state_tells_the_page_what_to_announce(client, table):
    _started(table)
    go_to(table, steps.item_key(table.info), now=timezone.now())
    round_robins.start_round_robin(meeting=_meeting(table), by=table.facilitator, item=table.info)
    client.force_login(table.others[0].user)

    fragment = client.get(_url(table, "live_state")).content.decode()

    assert 'data-announce-step="Now: Agenda item 1 — News from the library"' in fragment
    assert 'data-announce-speaker="Speaking now: ' in fragment


def _members(table: Table, count: int) -> None:
    for _ in range(count - len(table.everyone)):
        MemberFactory(alliance=table.alliance)


@pytest.mark.parametrize("reader", ["facilitator", "plain member"])
def test_the_live_page_costs_the_same_queries_for_5_and_30_members(
    client, alliance, page_cache_off, django_assert_max_num_queries, reader
):
    counts = []
    for size in (6, 30):
        from alliances.tests.factories import AllianceFactory

        table = round_table(AllianceFactory())
        _members(table, size)
        _started(table)
        go_to(table, steps.item_key(table.decision), now=timezone.now())
        round_robins.start_round_robin(meeting=_meeting(table), by=table.facilitator, item=table.decision)
        client.force_login(table.facilitator.user if reader == "facilitator" else table.others[0].user)
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            assert client.get(_url(table, "live_detail")).status_code == 200
        counts.append(len(queries))
        with CaptureQueriesContext(connection) as state_queries:
            assert client.get(_url(table, "live_state")).status_code == 200
        counts.append(len(state_queries))

    assert counts[0] == counts[2], counts
    assert counts[1] == counts[3], counts
    with django_assert_max_num_queries(counts[0]):
        client.get(_url(table, "live_detail"))


def test_the_meeting_page_leads_to_the_live_meeting_and_lets_its_facilitator_start_it(client, table, page_cache_off):
    meeting_url = reverse("meetings:meeting_detail", kwargs={"slug": table.alliance.slug, "pk": table.meeting.pk})
    start_form = f'action="{_url(table, "live_start")}"'

    client.force_login(table.others[0].user)
    member_page = client.get(meeting_url).content.decode()
    client.force_login(table.facilitator.user)
    facilitator_page = client.get(meeting_url).content.decode()
    _started(table)
    started_page = client.get(meeting_url).content.decode()

    assert f'href="{_url(table, "live_detail")}"' in member_page
    assert start_form not in member_page
    assert start_form in facilitator_page
    assert start_form not in started_page
    assert "Open the live meeting" in started_page


def test_the_one_query_of_the_state_checks_the_membership_on_a_single_join(client, table):
    _started(table)
    client.force_login(table.others[0].user)
    etag = client.get(_url(table, "live_state"))["ETag"]

    with CaptureQueriesContext(connection) as queries:
        client.get(_url(table, "live_state"), headers={"If-None-Match": etag})

    sql = queries.captured_queries[-1]["sql"]
    # The active membership of this reader and the member pk read come from the same row of one join.
    assert len(re.findall(r'JOIN "?alliances_member"?', sql)) == 1, sql


def test_a_changed_state_is_built_once_per_reader_and_revision(client, table, django_assert_num_queries):
    _started(table)
    client.force_login(table.others[0].user)
    first = client.get(_url(table, "live_state"))

    # Every viewer asks within a second of a change: the second time, the fragment is the kept one.
    with django_assert_num_queries(3):
        again = client.get(_url(table, "live_state"), headers={"If-None-Match": '"0"'})
    assert again.content == first.content
    assert again["ETag"] == first["ETag"]

    run.go_to_next_step(meeting=_meeting(table), by=table.facilitator)
    changed = client.get(_url(table, "live_state"), headers={"If-None-Match": first["ETag"]})
    assert 'data-step="reflection"' in changed.content.decode()


def test_each_reader_gets_their_own_copy_of_the_state_and_the_page(client, table):
    _started(table)
    client.force_login(table.facilitator.user)
    driver_state = client.get(_url(table, "live_state")).content.decode()
    driver_page = client.get(_url(table, "live_detail")).content.decode()
    client.force_login(table.others[0].user)
    member_state = client.get(_url(table, "live_state")).content.decode()
    member_page = client.get(_url(table, "live_detail")).content.decode()

    assert 'data-controls="steps"' in driver_state
    assert 'data-controls=""' in member_state
    assert "Next step" in driver_page
    assert "Next step" not in member_page


def test_the_kept_live_page_shows_each_move_of_the_meeting(client, table):
    _started(table)
    client.force_login(table.others[0].user)
    before = client.get(_url(table, "live_detail")).content.decode()

    run.go_to_next_step(meeting=_meeting(table), by=table.facilitator)
    after = client.get(_url(table, "live_detail")).content.decode()

    assert 'data-step="bonding"' in before
    assert 'data-step="reflection"' in after


# --- One changed state for every reader of a kind ---------------------------------------------------------


def _state(client, table: Table, member, **headers) -> str:
    client.force_login(member.user)
    response = client.get(_url(table, "live_state"), headers={"If-None-Match": '"0"', **headers})
    assert response.status_code == 200
    return response.content.decode()


def _plain_speaker(table: Table):
    """A round robin on the information item, moved on until a member with no role has the floor."""
    go_to(table, steps.item_key(table.info), now=timezone.now())
    round_robin = round_robins.start_round_robin(meeting=_meeting(table), by=table.facilitator, item=table.info)
    while True:
        speaker = Turn.objects.get(round_robin=round_robin, position=round_robin.current_position).member
        if not run.may_mark_attendance(_meeting(table), speaker):
            return speaker
        round_robin = round_robins.next_speaker(round_robin=round_robin, by=table.facilitator)


@pytest.mark.parametrize("role", ["steward", "facilitator", "note_taker", "plain member"])
def test_the_poll_reads_what_the_reader_may_do_as_the_run_of_show_decides_it(table, role):
    _started(table)
    member = table.others[0] if role == "plain member" else getattr(table, role)
    meeting = _meeting(table)

    reader = live.poll(meeting_pk=meeting.pk, slug=table.alliance.slug, user_id=member.user_id)

    assert reader.member_pk == member.pk
    assert reader.revision == meeting.revision
    assert reader.may_drive == run.may_drive(meeting, member)
    assert reader.may_mark_attendance == run.may_mark_attendance(meeting, member)


def test_a_changed_state_is_built_once_for_every_follower_and_costs_the_others_the_poll_alone(
    client, table, django_assert_num_queries
):
    _started(table)
    run.go_to_next_step(meeting=_meeting(table), by=table.facilitator)
    first = _state(client, table, table.others[0])

    for follower in table.others[1:]:
        client.force_login(follower.user)
        # The session, the user and the poll: the fragment is the one built for the first follower.
        with django_assert_num_queries(3):
            response = client.get(_url(table, "live_state"), headers={"If-None-Match": '"0"'})
        assert response.content.decode() == first
    assert 'data-step="reflection"' in first
    assert 'data-controls=""' in first


def test_drivers_note_takers_and_followers_each_get_their_kind_of_copy(client, table):
    _started(table)
    attendance_data = "data-attendance="

    follower = _state(client, table, table.others[0])
    steward = _state(client, table, table.steward)
    facilitator = _state(client, table, table.facilitator)
    note_taker = _state(client, table, table.note_taker)

    assert 'data-controls=""' in follower
    assert attendance_data not in follower
    assert 'data-controls="steps"' in steward
    assert attendance_data in steward
    assert facilitator == steward
    assert 'data-controls=""' in note_taker
    assert attendance_data in note_taker


@pytest.mark.parametrize("speaker_first", [True, False])
def test_the_speaker_alone_is_offered_to_pass_their_turn_whoever_asked_first(client, table, speaker_first):
    _started(table)
    speaker = _plain_speaker(table)
    listener = next(m for m in table.others if m.pk != speaker.pk)

    if speaker_first:
        speaker_state = _state(client, table, speaker)
        listener_state = _state(client, table, listener)
    else:
        listener_state = _state(client, table, listener)
        speaker_state = _state(client, table, speaker)
    another = _state(client, table, next(m for m in table.others if m.pk not in (speaker.pk, listener.pk)))

    assert 'data-controls="my-turn"' in speaker_state
    assert 'data-controls=""' in listener_state
    assert another == listener_state


def test_each_language_gets_its_own_copy(client, table):
    _started(table)
    spanish = MemberFactory(alliance=table.alliance, user__language="es")

    english_state = _state(client, table, table.others[0])
    spanish_state = _state(client, table, spanish)

    assert "Now: Bonding social moment" in english_state
    assert "Ahora:" in spanish_state
    assert "Now: Bonding social moment" not in spanish_state


def test_the_big_screen_s_state_and_a_member_s_are_not_handed_to_each_other(client, table):
    _started(table)
    client.force_login(table.others[0].user)

    screen = client.get(_url(table, "live_state") + "?screen=1").content.decode()
    page = client.get(_url(table, "live_state")).content.decode()

    assert "live-screen-step" in screen
    assert "live-screen-step" not in page
