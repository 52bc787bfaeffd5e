"""The agenda's services and reads: segments, items and their order, proposals, Markdown, reflection."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.utils import timezone

from alliances.models import Member
from alliances.tests.factories import AllianceFactory, MemberFactory
from meetings import agenda
from meetings.models import DEFAULT_SEGMENT_MINUTES, AgendaItem, AgendaSegment, Meeting, Reflection, Segment
from meetings.services import MeetingError, meeting_schedule
from meetings.tests.factories import AgendaItemFactory, MeetingFactory, ReflectionFactory

pytestmark = pytest.mark.django_db


def _membership(alliance, user) -> Member:
    return Member.objects.select_related("alliance", "user").get(alliance=alliance, user=user)


@pytest.fixture
def facilitator(alliance) -> Member:
    return MemberFactory(alliance=alliance, user__display_name="Fran Facilitator")


@pytest.fixture
def meeting(alliance, facilitator, steward_user) -> Meeting:
    # Scheduled through the service, which creates the six standard segments at their default minutes.
    return meeting_schedule(
        alliance=alliance,
        by=Member.objects.get(alliance=alliance, user=steward_user),
        starts_at=timezone.now() + timedelta(days=7),
        duration_minutes=90,
        facilitator=facilitator,
        note_taker=None,
    )


def _revision(meeting: Meeting) -> int:
    return Meeting.objects.values_list("revision", flat=True).get(pk=meeting.pk)


def _titles(meeting: Meeting) -> list[str]:
    return list(AgendaItem.objects.filter(meeting=meeting).on_agenda().values_list("title", flat=True))


def _add(meeting: Meeting, by: Member, *titles: str) -> list[AgendaItem]:
    return [agenda.agenda_item_add(meeting=meeting, by=by, title=title, minutes=10) for title in titles]


# --- Segments and order ----------------------------------------------------------------------------


def test_the_six_standard_segments_surround_the_items_in_the_process_order(meeting, facilitator):
    _add(meeting, facilitator, "Budget", "Newsletter")

    built = agenda.agenda_build(meeting=meeting, member=facilitator)

    assert [s.kind for s in built.opening] == ["bonding", "reflection", "agenda_review"]
    assert [i.title for i in built.items] == ["Budget", "Newsletter"]
    assert [s.kind for s in built.closing] == ["decisions_review", "next_meeting", "evaluation"]


def test_a_meeting_without_segment_rows_still_shows_all_six_at_their_default_minutes(alliance, facilitator):
    meeting = MeetingFactory(alliance=alliance, facilitator=facilitator)

    built = agenda.agenda_build(meeting=meeting, member=facilitator)

    assert [(s.kind, s.minutes) for s in built.opening + built.closing] == [
        (kind.value, DEFAULT_SEGMENT_MINUTES[kind]) for kind in Segment
    ]


def test_segment_minutes_are_editable_and_count_in_the_planned_total(meeting, facilitator):
    before = _revision(meeting)

    agenda.agenda_segments_set(meeting=meeting, minutes={"bonding": 20, "evaluation": 0}, by=facilitator)

    built = agenda.agenda_build(meeting=meeting, member=facilitator)
    assert built.opening[0].minutes == 20
    assert built.closing[-1].minutes == 0
    assert built.planned_minutes == sum(DEFAULT_SEGMENT_MINUTES.values()) + 10 - 10
    assert _revision(meeting) == before + 1
    agenda.agenda_segments_set(meeting=meeting, minutes={"bonding": 20}, by=facilitator)
    assert _revision(meeting) == before + 1


def test_a_segments_minutes_below_zero_are_refused(meeting, facilitator):
    with pytest.raises(MeetingError):
        agenda.agenda_segments_set(meeting=meeting, minutes={"bonding": -1}, by=facilitator)

    assert (
        AgendaSegment.objects.get(meeting=meeting, kind="bonding").minutes == DEFAULT_SEGMENT_MINUTES[Segment.BONDING]
    )


def test_added_items_go_to_the_end_and_move_up_and_down(meeting, facilitator):
    first, _second, third = _add(meeting, facilitator, "A", "B", "C")

    agenda.agenda_item_move(item=third, direction="up", by=facilitator)
    assert _titles(meeting) == ["A", "C", "B"]
    agenda.agenda_item_move(item=first, direction="down", by=facilitator)
    assert _titles(meeting) == ["C", "A", "B"]
    # At the ends nothing moves, and nothing counts as a change.
    before = _revision(meeting)
    agenda.agenda_item_move(item=AgendaItem.objects.get(title="C"), direction="up", by=facilitator)
    assert _titles(meeting) == ["C", "A", "B"]
    assert _revision(meeting) == before


def test_a_move_in_no_direction_is_refused(meeting, facilitator):
    (item,) = _add(meeting, facilitator, "A")

    with pytest.raises(MeetingError):
        agenda.agenda_item_move(item=item, direction="sideways", by=facilitator)


def test_reorder_takes_a_full_order(meeting, facilitator):
    a, b, c = _add(meeting, facilitator, "A", "B", "C")
    before = _revision(meeting)

    agenda.agenda_items_reorder(meeting=meeting, order=[c.pk, a.pk, b.pk], by=facilitator)

    assert _titles(meeting) == ["C", "A", "B"]
    assert _revision(meeting) == before + 1


@pytest.mark.parametrize("kind", ["foreign", "partial", "duplicate", "proposal"])
def test_reorder_refuses_an_order_that_is_not_exactly_this_agendas_items(meeting, facilitator, alliance, kind):
    a, b = _add(meeting, facilitator, "A", "B")
    other_meeting_item = AgendaItemFactory(meeting=MeetingFactory(alliance=alliance))
    proposal = agenda.agenda_proposal_submit(meeting=meeting, by=facilitator, title="P", minutes=5)
    order = {
        "foreign": [b.pk, a.pk, other_meeting_item.pk],
        "partial": [b.pk],
        "duplicate": [b.pk, b.pk],
        "proposal": [b.pk, a.pk, proposal.pk],
    }[kind]
    before = _revision(meeting)

    with pytest.raises(MeetingError):
        agenda.agenda_items_reorder(meeting=meeting, order=order, by=facilitator)

    assert _titles(meeting) == ["A", "B"]
    assert _revision(meeting) == before


def test_removing_an_item_closes_the_gap(meeting, facilitator):
    _a, b, _c = _add(meeting, facilitator, "A", "B", "C")

    agenda.agenda_item_remove(item=b, by=facilitator)

    assert list(AgendaItem.objects.filter(meeting=meeting).on_agenda().values_list("title", "position")) == [
        ("A", 1),
        ("C", 2),
    ]


def test_every_agenda_change_raises_the_meetings_revision(meeting, facilitator, steward_user):
    by = facilitator
    revisions = [_revision(meeting)]
    (item,) = _add(meeting, by, "A")
    revisions.append(_revision(meeting))
    agenda.agenda_item_edit(item=item, by=by, title="A2", minutes=5, description="", kind="decision", presenter=None)
    revisions.append(_revision(meeting))
    proposal = agenda.agenda_proposal_submit(
        meeting=meeting, by=_membership(meeting.alliance, steward_user), title="P", minutes=5
    )
    agenda.agenda_proposal_accept(item=proposal, by=by)
    revisions.append(_revision(meeting))
    agenda.reflection_set(meeting=meeting, by=by, kind="poem", text="…", source="Mary Oliver", link="")
    revisions.append(_revision(meeting))
    agenda.agenda_item_remove(item=item, by=by)
    revisions.append(_revision(meeting))

    assert revisions == list(range(revisions[0], revisions[0] + 6))


# --- Bad input and rights ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"minutes": 0}, "at least one minute"),
        ({"minutes": -5}, "at least one minute"),
        ({"title": "x" * (AgendaItem.TITLE_MAX_LENGTH + 1)}, "too long"),
        ({"title": "   "}, "title"),
        ({"kind": "gossip"}, "information, discussion or a decision"),
    ],
)
def test_bad_items_are_refused_and_nothing_is_saved(meeting, facilitator, changes, message):
    fields = {"title": "Budget", "minutes": 10, **changes}

    with pytest.raises(MeetingError, match=message):
        agenda.agenda_item_add(meeting=meeting, by=facilitator, **fields)

    assert not AgendaItem.objects.filter(meeting=meeting).exists()


def test_a_presenter_who_is_not_an_active_member_is_refused(meeting, facilitator, alliance):
    former = MemberFactory(alliance=alliance, is_active=False)
    stranger = MemberFactory(alliance=AllianceFactory())

    for presenter in (former, stranger):
        with pytest.raises(MeetingError, match="active member"):
            agenda.agenda_item_add(meeting=meeting, by=facilitator, title="A", minutes=5, presenter=presenter)

    assert not AgendaItem.objects.filter(meeting=meeting).exists()


def test_only_the_facilitator_and_stewards_change_the_agenda(meeting, facilitator, steward_user, member_user):
    agenda.agenda_item_add(
        meeting=meeting, by=_membership(meeting.alliance, steward_user), title="By a steward", minutes=5
    )

    with pytest.raises(PermissionDenied):
        agenda.agenda_item_add(meeting=meeting, by=_membership(meeting.alliance, member_user), title="No", minutes=5)
    with pytest.raises(PermissionDenied):
        agenda.reflection_set(
            meeting=meeting, by=_membership(meeting.alliance, member_user), kind="quote", text="x", source="", link=""
        )

    assert _titles(meeting) == ["By a steward"]


def test_a_cancelled_meetings_agenda_no_longer_changes(meeting, facilitator):
    Meeting.objects.filter(pk=meeting.pk).update(status=Meeting.Status.CANCELLED)

    with pytest.raises(MeetingError, match="cancelled"):
        agenda.agenda_item_add(meeting=meeting, by=facilitator, title="A", minutes=5)


# --- Proposals ---------------------------------------------------------------------------------------


def test_an_accepted_proposal_joins_the_agenda_at_the_end(meeting, facilitator, member_user):
    _add(meeting, facilitator, "A", "B")
    proposer = _membership(meeting.alliance, member_user)
    proposal = agenda.agenda_proposal_submit(meeting=meeting, by=proposer, title="From Mia", minutes=15)
    assert _titles(meeting) == ["A", "B"]

    agenda.agenda_proposal_accept(item=proposal, by=facilitator)

    assert _titles(meeting) == ["A", "B", "From Mia"]
    with pytest.raises(MeetingError, match="already decided"):
        agenda.agenda_proposal_accept(item=proposal, by=facilitator)


def test_a_declined_proposal_shows_its_reason_to_the_proposer_only(
    meeting, facilitator, member_user, steward_user, alliance
):
    proposer = _membership(alliance, member_user)
    proposal = agenda.agenda_proposal_submit(meeting=meeting, by=proposer, title="Picnic", minutes=15)
    facilitator_view = agenda.agenda_build(meeting=meeting, member=facilitator)
    assert [p.title for p in facilitator_view.proposals] == ["Picnic"]

    agenda.agenda_proposal_decline(item=proposal, by=facilitator, reason="  Next month, with the summer plan. ")

    mine = agenda.agenda_build(meeting=meeting, member=proposer).my_proposals
    assert [(p.title, p.status, p.decline_reason) for p in mine] == [
        ("Picnic", "declined", "Next month, with the summer plan.")
    ]
    assert _titles(meeting) == []
    other = MemberFactory(alliance=alliance)
    assert agenda.agenda_build(meeting=meeting, member=other).my_proposals == []
    assert agenda.agenda_build(meeting=meeting, member=facilitator).proposals == []


def test_a_member_cannot_decide_proposals(meeting, member_user, alliance):
    proposer = _membership(alliance, member_user)
    proposal = agenda.agenda_proposal_submit(meeting=meeting, by=proposer, title="Mine", minutes=5)

    with pytest.raises(PermissionDenied):
        agenda.agenda_proposal_accept(item=proposal, by=proposer)

    assert AgendaItem.objects.get(pk=proposal.pk).status == AgendaItem.Status.PROPOSED


# --- Markdown ----------------------------------------------------------------------------------------


def test_markdown_keeps_formatting_and_links_with_nofollow_noopener():
    html = agenda.markdown_render("Read **this** and [the plan](https://example.org/plan).\n\n- one\n- two")

    assert "<strong>this</strong>" in html
    assert '<a href="https://example.org/plan" rel="nofollow noopener">the plan</a>' in html
    assert "<li>one</li>" in html


@pytest.mark.parametrize(
    "source",
    [
        "<script>alert(1)</script>",
        '<img src="x" onerror="alert(1)">',
        "[click](javascript:alert(1))",
        "[click](JaVaScRiPt:alert(1))",
        '<a href="javascript:alert(1)">click</a>',
        "![tracker](https://tracker.example/pixel.gif)",
        '<div onclick="alert(1)">x</div>',
        '<iframe src="https://evil.example"></iframe>',
    ],
)
def test_markdown_drops_scripts_handlers_javascript_links_raw_html_and_images(source):
    html = agenda.markdown_render(source)

    assert not re.search(r"<(script|img|iframe|div)\b", html)
    assert not re.search(r"<[^>]*\bon\w+=", html)
    assert not re.search(r"<a\b[^>]*javascript", html, re.IGNORECASE)
    assert "tracker.example" not in html


# --- Planned total and the to-dos seam ---------------------------------------------------------------


def test_the_planned_total_warns_when_it_runs_over_the_meetings_duration(meeting, facilitator, rf_member_request):
    segments = sum(DEFAULT_SEGMENT_MINUTES.values())  # 45
    agenda.agenda_item_add(meeting=meeting, by=facilitator, title="A", minutes=90 - segments)
    fits = agenda.agenda_context(meeting=meeting, member=facilitator)
    assert fits["agenda"].planned_minutes == 90
    assert fits["agenda"].over_minutes == 0
    assert "over the meeting" not in _render_agenda(rf_member_request(facilitator), fits)

    agenda.agenda_item_add(meeting=meeting, by=facilitator, title="B", minutes=5)

    over = agenda.agenda_context(meeting=meeting, member=facilitator)
    html = _render_agenda(rf_member_request(facilitator), over)
    assert over["agenda"].over_minutes == 5
    assert "Planned: 95 of 90 minutes." in html
    assert "The agenda runs 5 minutes over the meeting's time." in html


def test_with_no_open_to_dos_the_review_segment_says_so(meeting, facilitator, rf_member_request):
    context = agenda.agenda_context(meeting=meeting, member=facilitator)

    html = _render_agenda(rf_member_request(facilitator), context)

    assert context["agenda"].todos == []
    assert "Review of decisions and to-dos" in html
    assert "No open to-dos." in html


def test_when_the_seam_returns_to_dos_the_review_segment_lists_them(
    meeting, facilitator, rf_member_request, monkeypatch
):
    class Row:
        title, assignee_name, due_text = "Book the hall", "Mia", "3 March"

    monkeypatch.setattr(agenda, "open_todos", lambda meeting: [Row()])

    html = _render_agenda(rf_member_request(facilitator), agenda.agenda_context(meeting=meeting, member=facilitator))

    assert "Book the hall — Mia (3 March)" in html


# --- Reflection ----------------------------------------------------------------------------------------


def test_reflection_history_lists_the_alliances_other_reflections_newest_first_with_who_chose_them(
    meeting, facilitator, alliance
):
    older = ReflectionFactory(meeting=MeetingFactory(alliance=alliance), source="Audre Lorde", chosen_by=facilitator)
    newer = ReflectionFactory(meeting=MeetingFactory(alliance=alliance), source="Mary Oliver", chosen_by=facilitator)
    Reflection.objects.filter(pk=older.pk).update(chosen_at=newer.chosen_at.replace(year=2020))
    ReflectionFactory(meeting=MeetingFactory(alliance=AllianceFactory()), source="Elsewhere")
    agenda.reflection_set(meeting=meeting, by=facilitator, kind="quote", text="Now", source="Current", link="")

    history = agenda.reflection_history(meeting=meeting)

    assert [(r.source, r.chosen_by.user.display_name) for r in history] == [
        ("Mary Oliver", "Fran Facilitator"),
        ("Audre Lorde", "Fran Facilitator"),
    ]


def test_setting_the_reflection_twice_keeps_one_for_the_meeting(meeting, facilitator):
    agenda.reflection_set(meeting=meeting, by=facilitator, kind="quote", text="One", source="", link="")
    agenda.reflection_set(
        meeting=meeting, by=facilitator, kind="video", text="", source="A talk", link="https://video.example/v"
    )

    reflection = Reflection.objects.get(meeting=meeting)
    assert (reflection.kind, reflection.source, reflection.link) == ("video", "A talk", "https://video.example/v")


# --- Helpers ------------------------------------------------------------------------------------------


@pytest.fixture
def rf_member_request():
    def build(member_user: Member):
        request = RequestFactory().get("/")
        request.user = member_user.user
        request.htmx = False
        return request

    return build


def _render_agenda(request, context) -> str:
    return render_to_string("meetings/_agenda.html", {**context, "member": context.get("member")}, request=request)


def test_each_row_says_when_it_starts_on_the_meetings_own_clock(alliance, facilitator):
    # 18:00 in Madrid on a winter day is 17:00 UTC.
    meeting = MeetingFactory(
        alliance=alliance,
        facilitator=facilitator,
        time_zone="Europe/Madrid",
        starts_at=datetime(2030, 1, 15, 17, 0, tzinfo=UTC),
    )
    agenda.agenda_item_add(meeting=meeting, by=facilitator, title="Budget", minutes=25)

    built = agenda.agenda_build(meeting=meeting, member=facilitator)

    starts = [row.starts_text for row in built.opening + built.items + built.closing]
    assert starts == ["6 p.m.", "6:10 p.m.", "6:15 p.m.", "6:20 p.m.", "6:45 p.m.", "6:55 p.m.", "7 p.m."]
