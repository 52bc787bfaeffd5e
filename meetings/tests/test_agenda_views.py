"""The agenda's pages and actions as a facilitator, a steward, a member and an outsider use them."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from alliances.models import Member
from alliances.tests.factories import MemberFactory
from meetings import agenda
from meetings.models import DEFAULT_SEGMENT_MINUTES, AgendaItem, AgendaSegment, Meeting, Reflection
from meetings.services import meeting_schedule
from meetings.tests.factories import MeetingFactory, ReflectionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def facilitator(alliance) -> Member:
    return MemberFactory(alliance=alliance, user__display_name="Fran Facilitator", organisation="Tenants Union")


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


def _url(name: str, meeting: Meeting, **kwargs: object) -> str:
    return reverse(f"meetings:{name}", kwargs={"slug": meeting.alliance.slug, "pk": meeting.pk, **kwargs})


def _titles(meeting: Meeting) -> list[str]:
    return list(AgendaItem.objects.filter(meeting=meeting).on_agenda().values_list("title", flat=True))


def _items(meeting: Meeting, by: Member, *titles: str) -> list[AgendaItem]:
    return [agenda.agenda_item_add(meeting=meeting, by=by, title=t, minutes=10) for t in titles]


def _text(response) -> str:
    return response.content.decode()


def _item_titles_in(html: str) -> list[str]:
    return re.findall(r'id="agenda-item-\d+" class="fw-semibold">\d+\. ([^<]+)</span>', html)


# --- Adding and editing items --------------------------------------------------------------------------


def test_the_facilitator_adds_an_item_with_a_presenter(client, meeting, facilitator, member_user, alliance):
    presenter = Member.objects.get(alliance=alliance, user=member_user)
    client.force_login(facilitator.user)

    response = client.post(
        _url("agenda_item_create", meeting),
        {
            "title": "Rent strike",
            "description": "See **the plan**",
            "kind": "decision",
            "presenter": presenter.pk,
            "minutes": 20,
        },
    )

    assert response.status_code == 302
    assert response["Location"] == f"{meeting.get_absolute_url()}#agenda"
    item = AgendaItem.objects.get(meeting=meeting)
    assert (item.title, item.kind, item.presenter, item.minutes) == ("Rent strike", "decision", presenter, 20)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"minutes": "0"}, "The time box must be at least one minute."),
        ({"minutes": "-3"}, "The time box must be at least one minute."),
        ({"title": "x" * 201}, "The title can have at most 200 characters (it has 201)."),
        ({"presenter": "former"}, "The presenter must be an active member of the alliance."),
        ({"presenter": "stranger"}, "The presenter must be an active member of the alliance."),
    ],
)
def test_bad_input_on_the_item_form_says_what_is_wrong_and_saves_nothing(
    client, meeting, facilitator, alliance, changes, message
):
    former = MemberFactory(alliance=alliance, is_active=False)
    stranger = MemberFactory()
    data = {"title": "Budget", "kind": "discussion", "minutes": "10", "presenter": "", **changes}
    data["presenter"] = {"former": former.pk, "stranger": stranger.pk}.get(data["presenter"], data["presenter"])
    client.force_login(facilitator.user)

    response = client.post(_url("agenda_item_create", meeting), data)

    assert response.status_code == 200
    assert message in _text(response)
    assert not AgendaItem.objects.filter(meeting=meeting).exists()


def test_the_item_form_offers_only_active_members_as_presenters(client, meeting, facilitator, alliance):
    MemberFactory(alliance=alliance, is_active=False, user__display_name="Gone Gus")
    client.force_login(facilitator.user)

    response = client.get(_url("agenda_item_create", meeting))

    assert "Fran Facilitator" in _text(response)
    assert "Gone Gus" not in _text(response)


def test_a_steward_edits_an_item(client, meeting, facilitator, steward_user):
    (item,) = _items(meeting, facilitator, "Budget")
    client.force_login(steward_user)

    response = client.post(
        _url("agenda_item_edit", meeting, item=item.pk), {"title": "Budget 2027", "kind": "information", "minutes": 7}
    )

    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.title, item.kind, item.minutes) == ("Budget 2027", "information", 7)


def test_removing_an_item(client, meeting, facilitator):
    _a, b = _items(meeting, facilitator, "A", "B")
    client.force_login(facilitator.user)

    response = client.post(_url("agenda_item_remove", meeting, item=b.pk))

    assert response.status_code == 302
    assert _titles(meeting) == ["A"]


# --- Order ---------------------------------------------------------------------------------------------


def test_move_buttons_work_as_plain_posts_without_javascript(client, meeting, facilitator):
    _a, b, _c = _items(meeting, facilitator, "A", "B", "C")
    client.force_login(facilitator.user)

    response = client.post(_url("agenda_item_move", meeting, item=b.pk), {"direction": "up"})

    assert response.status_code == 302
    assert response["Location"] == f"{meeting.get_absolute_url()}#agenda"
    assert _titles(meeting) == ["B", "A", "C"]


def test_move_buttons_with_htmx_answer_the_items_fragment_in_the_new_order(client, meeting, facilitator):
    _a, b, _c = _items(meeting, facilitator, "A", "B", "C")
    client.force_login(facilitator.user)

    response = client.post(
        _url("agenda_item_move", meeting, item=b.pk), {"direction": "down"}, headers={"HX-Request": "true"}
    )

    html = _text(response)
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="agenda-items"')
    assert _item_titles_in(html) == ["A", "C", "B"]
    # The first item has no Up button and the last no Down button; each button names its item.
    assert html.count('value="up"') == 2
    assert html.count('value="down"') == 2


def test_the_drag_and_drop_endpoint_saves_a_full_order(client, meeting, facilitator):
    a, b, c = _items(meeting, facilitator, "A", "B", "C")
    client.force_login(facilitator.user)

    response = client.post(
        _url("agenda_reorder", meeting), {"order": [c.pk, a.pk, b.pk]}, headers={"HX-Request": "true"}
    )

    assert response.status_code == 200
    assert _item_titles_in(_text(response)) == ["C", "A", "B"]
    assert _titles(meeting) == ["C", "A", "B"]


@pytest.mark.parametrize("order", ["foreign", "missing", "not-a-number"])
def test_the_drag_and_drop_endpoint_refuses_a_foreign_or_partial_order(client, meeting, facilitator, alliance, order):
    a, b = _items(meeting, facilitator, "A", "B")
    other = MeetingFactory(alliance=alliance, facilitator=facilitator)
    (foreign,) = _items(other, facilitator, "Elsewhere")
    posted = {"foreign": [b.pk, a.pk, foreign.pk], "missing": [b.pk], "not-a-number": [b.pk, "x"]}[order]
    revision = Meeting.objects.get(pk=meeting.pk).revision
    client.force_login(facilitator.user)

    response = client.post(_url("agenda_reorder", meeting), {"order": posted}, headers={"HX-Request": "true"})

    assert response.status_code == 400
    assert "The agenda changed meanwhile: reload the page and move the items again." in _text(response)
    assert _titles(meeting) == ["A", "B"]
    assert _titles(other) == ["Elsewhere"]
    assert Meeting.objects.get(pk=meeting.pk).revision == revision


# --- Proposals -------------------------------------------------------------------------------------------


def test_a_member_proposes_the_facilitator_accepts_and_it_joins_at_the_end(client, meeting, facilitator, member_user):
    _items(meeting, facilitator, "A")
    client.force_login(member_user)
    response = client.post(
        _url("agenda_proposal_create", meeting), {"title": "Summer picnic", "kind": "discussion", "minutes": 10}
    )
    assert response.status_code == 302
    proposal = AgendaItem.objects.get(title="Summer picnic")
    assert proposal.status == AgendaItem.Status.PROPOSED
    assert _titles(meeting) == ["A"]

    client.force_login(facilitator.user)
    response = client.post(_url("agenda_proposal_accept", meeting, item=proposal.pk))

    assert response.status_code == 302
    assert _titles(meeting) == ["A", "Summer picnic"]


def test_a_declined_proposals_reason_is_shown_to_the_proposer(client, meeting, facilitator, member_user, alliance):
    proposer = Member.objects.get(alliance=alliance, user=member_user)
    proposal = agenda.agenda_proposal_submit(meeting=meeting, by=proposer, title="Summer picnic", minutes=10)
    client.force_login(facilitator.user)

    response = client.post(
        _url("agenda_proposal_decline", meeting, item=proposal.pk), {"reason": "Let's plan it in June."}
    )

    assert response.status_code == 302
    client.force_login(member_user)
    html = _text(client.get(meeting.get_absolute_url()))
    assert "Your proposals" in html
    assert "Summer picnic" in html
    assert "Declined" in html
    assert "Reason: Let&#x27;s plan it in June." in html


def test_a_member_cannot_accept_or_decline(client, meeting, member_user, alliance):
    proposer = Member.objects.get(alliance=alliance, user=member_user)
    proposal = agenda.agenda_proposal_submit(meeting=meeting, by=proposer, title="Mine", minutes=10)
    client.force_login(member_user)

    assert client.post(_url("agenda_proposal_accept", meeting, item=proposal.pk)).status_code == 403
    assert client.post(_url("agenda_proposal_decline", meeting, item=proposal.pk), {"reason": "x"}).status_code == 403
    assert AgendaItem.objects.get(pk=proposal.pk).status == AgendaItem.Status.PROPOSED


def test_a_proposal_with_a_zero_time_box_is_refused_on_the_form(client, meeting, member_user):
    client.force_login(member_user)

    response = client.post(_url("agenda_proposal_create", meeting), {"title": "X", "kind": "discussion", "minutes": 0})

    assert response.status_code == 200
    assert "The time box must be at least one minute." in _text(response)
    assert not AgendaItem.objects.exists()


# --- Segments and reflection -------------------------------------------------------------------------------


def test_the_facilitator_edits_the_segments_minutes(client, meeting, facilitator):
    client.force_login(facilitator.user)
    data = {kind.value: minutes for kind, minutes in DEFAULT_SEGMENT_MINUTES.items()} | {"bonding": 15}

    response = client.post(_url("agenda_segments_edit", meeting), data)

    assert response.status_code == 302
    assert AgendaSegment.objects.get(meeting=meeting, kind="bonding").minutes == 15


def test_the_reflection_form_lists_earlier_reflections_with_who_chose_them_and_when(
    client, meeting, facilitator, alliance
):
    earlier = MeetingFactory(alliance=alliance)
    ReflectionFactory(
        meeting=earlier, source="Audre Lorde", text="Caring for myself is not self-indulgence.", chosen_by=facilitator
    )
    client.force_login(facilitator.user)

    html = _text(client.get(_url("reflection_edit", meeting)))

    assert "Earlier reflections of the alliance" in html
    assert "Audre Lorde" in html
    assert "Chosen by Fran Facilitator" in html


def test_the_reflection_is_saved_and_its_link_shown_as_a_plain_link(client, meeting, facilitator):
    client.force_login(facilitator.user)

    response = client.post(
        _url("reflection_edit", meeting),
        {"kind": "video", "text": "", "source": "A short film", "link": "https://video.example/watch?v=1"},
    )

    assert response.status_code == 302
    reflection = Reflection.objects.get(meeting=meeting)
    assert reflection.chosen_by == facilitator
    html = _text(client.get(_url("agenda_print", meeting)))
    assert "https://video.example/watch?v=1" in html
    assert "<iframe" not in html


def test_a_reflection_link_that_is_not_a_web_address_is_refused(client, meeting, facilitator):
    client.force_login(facilitator.user)

    response = client.post(
        _url("reflection_edit", meeting), {"kind": "other", "text": "x", "source": "", "link": "javascript:alert(1)"}
    )

    assert response.status_code == 200
    assert not Reflection.objects.exists()


# --- Print page --------------------------------------------------------------------------------------------


def test_the_printable_agenda_ends_with_an_attendance_sheet_of_every_active_member(
    client, meeting, facilitator, member_user, steward_user, alliance
):
    _items(meeting, facilitator, "Rent strike")
    MemberFactory(alliance=alliance, is_active=False, user__display_name="Gone Gus")
    client.force_login(member_user)

    response = client.get(_url("agenda_print", meeting))

    html = _text(response)
    assert response.status_code == 200
    assert "css/agenda-print.css" in html
    order = ["Bonding social moment", "Opening reflection", "Agenda review", "Rent strike"]
    order += ["Review of decisions and to-dos", "Next meeting&#x27;s logistics", "Closing evaluation round"]
    positions = [html.index(text) for text in order]
    assert positions == sorted(positions)
    sheet = html[html.index("Attendance sheet") :]
    assert positions[-1] < html.index("Attendance sheet")
    for name in ("Fran Facilitator", "Mia Member", "Stella Steward", "Tenants Union"):
        assert name in sheet
    assert "Gone Gus" not in sheet
    assert sheet.count('<td class="signature"></td>') == 3


def test_the_printable_agenda_names_the_meetings_time_zone_as_a_reader_would(client, meeting, member_user):
    meeting.time_zone = "America/Mexico_City"
    meeting.save()
    client.force_login(member_user)

    html = _text(client.get(_url("agenda_print", meeting)))

    assert "(Mexico — Mexico City)" in html
    assert "America/Mexico_City" not in html


def test_the_print_stylesheet_starts_the_attendance_sheet_on_its_own_page(client):
    css = Path(finders.find("css/agenda-print.css")).read_text()

    assert "@media print" in css
    assert re.search(r"\.attendance\s*\{\s*break-before:\s*page", css)


# --- Permissions ----------------------------------------------------------------------------------------------

EDIT_GETS = ["agenda_item_create", "agenda_segments_edit", "reflection_edit"]


@pytest.mark.parametrize("name", EDIT_GETS)
def test_a_member_who_is_not_the_facilitator_is_refused_the_editing_pages(client, meeting, member_user, name):
    client.force_login(member_user)

    assert client.get(_url(name, meeting)).status_code == 403
    assert client.post(_url(name, meeting), {"title": "x", "minutes": 5, "kind": "quote"}).status_code == 403
    assert not AgendaItem.objects.exists()
    assert not Reflection.objects.exists()


def test_a_member_cannot_move_or_reorder_items(client, meeting, facilitator, member_user):
    a, b = _items(meeting, facilitator, "A", "B")
    client.force_login(member_user)

    assert client.post(_url("agenda_item_move", meeting, item=b.pk), {"direction": "up"}).status_code == 403
    assert client.post(_url("agenda_reorder", meeting), {"order": [b.pk, a.pk]}).status_code == 403
    assert client.post(_url("agenda_item_remove", meeting, item=a.pk)).status_code == 403
    assert _titles(meeting) == ["A", "B"]


@pytest.mark.parametrize("name", ["agenda_print", "agenda_proposal_create", "reflection_edit"])
def test_an_outsider_gets_not_found(client, meeting, outsider, name):
    client.force_login(outsider)

    assert client.get(_url(name, meeting)).status_code == 404


def test_an_item_of_another_meeting_is_not_found_through_this_one(client, meeting, facilitator, alliance):
    other = MeetingFactory(alliance=alliance, facilitator=facilitator)
    (foreign,) = _items(other, facilitator, "Elsewhere")
    client.force_login(facilitator.user)

    assert client.post(_url("agenda_item_move", meeting, item=foreign.pk), {"direction": "up"}).status_code == 404
    assert client.get(_url("agenda_item_edit", meeting, item=foreign.pk)).status_code == 404


# --- Queries ----------------------------------------------------------------------------------------------------


def _with_items(meeting: Meeting, facilitator: Member, alliance, count: int) -> None:
    presenter = MemberFactory(alliance=alliance)
    for n in range(count):
        agenda.agenda_item_add(
            meeting=meeting, by=facilitator, title=f"Item {n}", minutes=5, description=f"**{n}**", presenter=presenter
        )
        proposer = MemberFactory(alliance=alliance)
        agenda.agenda_proposal_submit(meeting=meeting, by=proposer, title=f"Proposal {n}", minutes=5)
    agenda.reflection_set(meeting=meeting, by=facilitator, kind="quote", text="x", source="y", link="")


@pytest.mark.parametrize("count", [2, 20])
def test_the_agenda_fragment_and_print_page_take_a_fixed_number_of_queries(
    client, meeting, facilitator, alliance, count, django_assert_max_num_queries
):
    _with_items(meeting, facilitator, alliance, count)
    first = AgendaItem.objects.filter(meeting=meeting).on_agenda().first()
    client.force_login(facilitator.user)

    # Session, user, membership, meeting, item, lock, items for the move + segments, items, reflection,
    # the open to-dos of the review segment.
    with django_assert_max_num_queries(17):
        response = client.post(
            _url("agenda_item_move", meeting, item=first.pk), {"direction": "down"}, headers={"HX-Request": "true"}
        )
    assert len(_item_titles_in(_text(response))) == count
    with django_assert_max_num_queries(11):
        response = client.get(_url("agenda_print", meeting))
    assert _text(response).count('<li class="item">') == count


def test_the_meeting_page_with_its_agenda_takes_as_many_queries_for_20_items_as_for_2(
    client, meeting, facilitator, alliance
):
    client.force_login(facilitator.user)
    _with_items(meeting, facilitator, alliance, 2)
    with CaptureQueriesContext(connection) as few:
        assert client.get(meeting.get_absolute_url()).status_code == 200

    _with_items(meeting, facilitator, alliance, 18)
    with CaptureQueriesContext(connection) as many:
        response = client.get(meeting.get_absolute_url())

    assert len(_item_titles_in(_text(response))) == 20
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]


def test_an_over_long_description_is_refused_with_its_length_not_cut_by_the_browser(client, meeting, facilitator):
    client.force_login(facilitator.user)
    form_page = _text(client.get(_url("agenda_item_create", meeting)))
    assert re.search(r'<textarea[^>]*name="description"', form_page)
    assert not re.search(r"<textarea[^>]*maxlength", form_page)

    response = client.post(
        _url("agenda_item_create", meeting),
        {"title": "A", "kind": "discussion", "minutes": 5, "description": "x" * 10001},
    )

    assert "at most 10000 characters (it has 10001)" in _text(response)
    assert not AgendaItem.objects.exists()


def test_removing_with_htmx_answers_the_fragment_with_the_reason_when_refused(client, meeting, facilitator):
    (item,) = _items(meeting, facilitator, "A")
    Meeting.objects.filter(pk=meeting.pk).update(status=Meeting.Status.CANCELLED)
    client.force_login(facilitator.user)

    response = client.post(_url("agenda_item_remove", meeting, item=item.pk), headers={"HX-Request": "true"})

    # htmx swaps only 2xx answers: the refusal must come as a 200 fragment that says why.
    assert response.status_code == 200
    assert "This meeting was cancelled: its agenda can no longer change." in _text(response)
    assert _titles(meeting) == ["A"]
