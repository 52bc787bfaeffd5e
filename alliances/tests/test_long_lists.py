"""Long lists stay usable and cheap: the members page 50 a page with a search, the charter history paged,
one form and one CSRF token for a list's buttons, queries that do not grow with the list (issue 8,
docs/performance.md). Tests never time anything: the benchmark does (bench/)."""

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.tests.factories import UserFactory
from alliances import services
from alliances.models import Alliance, CharterChange, Member
from alliances.pages import date_text, list_page, row_url
from alliances.tests.factories import InvitationFactory, MemberFactory, NormFactory
from alliances.tests.helpers import alliance_url, membership_of
from meetings.tests.factories import MeetingFactory

# These tests count what building a page costs; the page cache would answer the repeats from memory.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("page_cache_off")]

HTMX = {"HX-Request": "true"}


def _queries(client, url: str) -> int:
    client.get(url)  # warm caches (content types, translations) so only the page's own queries count
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def _names(html: str) -> list[str]:
    """The members listed on the members page, in order."""
    return re.findall(r'<li class="list-group-item d-flex[^"]*">\s*<div>\s*<strong>([^<]+)</strong>', html)


def _people(alliance: Alliance, count: int, **kwargs) -> list[Member]:
    return [
        MemberFactory(alliance=alliance, user__display_name=f"Person {number:03}", **kwargs) for number in range(count)
    ]


# --- The members page: 50 a page, with a search -------------------------------------------------------


def test_a_large_alliance_lists_its_members_50_a_page_with_a_link_to_the_next(client, alliance, member_user):
    _people(alliance, 58)  # 60 with the member and the steward-less fixture alliance's member
    MemberFactory(alliance=alliance, user__display_name="Zoe Last")
    client.force_login(member_user)
    url = alliance_url("member_list", alliance)

    first = client.get(url).content.decode()
    second = client.get(url, {"page": "2"}).content.decode()

    assert len(_names(first)) == 50
    assert _names(first)[:2] == ["Mia Member", "Person 000"]
    assert 'href="?page=2">Next page</a>' in first
    assert "Previous page" not in first
    assert "Page 1 of 2" in first
    assert "60 members" in first
    assert _names(second)[-1] == "Zoe Last"
    assert len(_names(second)) == 10
    assert 'href="?page=1">Previous page</a>' in second
    assert "Next page" not in second


def test_a_small_alliance_has_one_page_and_no_search_box(client, alliance, member_user):
    client.force_login(member_user)

    page = client.get(alliance_url("member_list", alliance)).content.decode()

    assert _names(page) == ["Mia Member"]
    assert 'role="search"' not in page
    assert "Next page" not in page


def test_a_page_past_the_end_shows_the_last_and_a_page_that_is_not_a_number_the_first(client, alliance, member_user):
    _people(alliance, 55)
    client.force_login(member_user)
    url = alliance_url("member_list", alliance)

    assert len(_names(client.get(url, {"page": "99"}).content.decode())) == 6
    assert len(_names(client.get(url, {"page": "abc"}).content.decode())) == 50
    assert len(_names(client.get(url, {"page": "-3"}).content.decode())) == 50


def test_the_search_finds_members_by_name_or_organisation_and_its_pages_keep_it(client, alliance, member_user):
    _people(alliance, 60)
    MemberFactory(alliance=alliance, user__display_name="Ana Rivera")
    MemberFactory(alliance=alliance, user__display_name="Ben Okafor", organisation="Rivera Library")
    client.force_login(member_user)
    url = alliance_url("member_list", alliance)

    by_name = client.get(url, {"q": "  rivera "}).content.decode()
    paged = client.get(url, {"q": "person"}).content.decode()

    assert _names(by_name) == ["Ana Rivera", "Ben Okafor"]
    assert "2 members match “rivera”." in by_name
    assert 'value="rivera"' in by_name
    assert len(_names(paged)) == 50
    assert 'href="?q=person&amp;page=2">Next page</a>' in paged


def test_the_search_box_is_labelled_and_works_without_javascript(client, alliance, member_user):
    _people(alliance, 55)
    client.force_login(member_user)

    page = client.get(alliance_url("member_list", alliance)).content.decode()

    form = re.search(r'<form method="get" role="search".*?</form>', page, re.S).group(0)
    assert '<label class="form-label" for="member-search">Search by name or organisation</label>' in form
    assert 'type="search" name="q" id="member-search"' in form
    assert '<button class="btn btn-outline-dark" type="submit">Search</button>' in form


def test_a_search_that_matches_nobody_says_so(client, alliance, member_user):
    client.force_login(member_user)

    page = client.get(alliance_url("member_list", alliance), {"q": "nobody"}).content.decode()

    assert "No member matches your search." in page
    assert "0 members match “nobody”." in page


@pytest.mark.parametrize("text", ["a\x00b", "x" * 5000, "\r\n\t", "%", "_"])
def test_a_hostile_search_is_answered_with_a_page_not_an_error(client, alliance, member_user, text):
    """PostgreSQL refuses a NUL in a query: the search drops it (run on PostgreSQL too, see test_hostile_input)."""
    MemberFactory(alliance=alliance, user__display_name="Ana 100% Rivera_x")
    client.force_login(member_user)

    response = client.get(alliance_url("member_list", alliance), {"q": text})

    assert response.status_code == 200
    assert len(response.context["query"]) <= 100
    assert "\x00" not in response.context["query"]


def test_the_members_page_makes_the_same_queries_for_3_or_120_members_on_every_page_and_search(
    client, alliance, steward_user, member_user, django_assert_max_num_queries
):
    services.member_deactivate(member=MemberFactory(alliance=alliance), by=steward_user)
    MemberFactory(alliance=alliance)
    InvitationFactory(alliance=alliance)
    client.force_login(steward_user)
    url = alliance_url("member_list", alliance)
    with_three = _queries(client, url)
    with_three_searched = _queries(client, url + "?q=mia")
    _people(alliance, 117, organisation="Library")
    InvitationFactory.create_batch(5, alliance=alliance, invited_by=UserFactory())

    for page in ("1", "2", "3"):
        with django_assert_max_num_queries(with_three):
            response = client.get(url, {"page": page})
        assert response.status_code == 200
    with django_assert_max_num_queries(with_three_searched):
        response = client.get(url, {"q": "person", "page": "2"})

    assert len(response.context["members"]) == 50


def test_a_members_page_asks_the_database_for_its_rows_and_their_count_at_once(client, alliance, member_user):
    """No COUNT query of its own: the rows carry the count (list_page)."""
    _people(alliance, 60)
    client.force_login(member_user)
    url = alliance_url("member_list", alliance)
    client.get(url)

    with CaptureQueriesContext(connection) as queries:
        client.get(url, {"page": "2"})

    assert not [query for query in queries if query["sql"].lstrip().upper().startswith("SELECT COUNT")]


def test_former_members_are_listed_most_recent_first_50_a_page(client, alliance, steward_user, member_user):
    for number, person in enumerate(_people(alliance, 52)):
        services.member_deactivate(member=person, by=steward_user)
        Member.objects.filter(pk=person.pk).update(ended_at=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=number))
    client.force_login(member_user)
    url = alliance_url("former_member_list", alliance)

    first = client.get(url).content.decode()
    second = client.get(url, {"page": "2"}).content.decode()

    assert first.index("Person 051") < first.index("Person 050")  # most recent first
    assert "Person 000" not in first
    assert "Deactivated by a steward, Feb. 21, 2026" in first
    assert "Person 000" in second
    assert "Page 2 of 2" in second


def test_the_former_members_page_makes_the_same_queries_for_1_or_60_and_says_when_none(
    client, alliance, steward_user, member_user, django_assert_max_num_queries
):
    client.force_login(member_user)
    url = alliance_url("former_member_list", alliance)
    assert "No one has left this alliance." in client.get(url).content.decode()
    services.member_deactivate(member=MemberFactory(alliance=alliance), by=steward_user)
    with_one = _queries(client, url)
    for person in _people(alliance, 59):
        services.member_deactivate(member=person, by=steward_user)

    with django_assert_max_num_queries(with_one):
        response = client.get(url, {"page": "2"})

    assert len(response.context["former_members"]) == 10


# --- The stewards' buttons: one form, one token, a URL per row ------------------------------------------


def test_the_stewards_buttons_share_one_csrf_token_however_many_members(client, alliance, steward_user):
    InvitationFactory(alliance=alliance)
    client.force_login(steward_user)
    url = alliance_url("member_list", alliance)
    tokens_with_one = client.get(url).content.decode().count("csrfmiddlewaretoken")
    _people(alliance, 30)
    InvitationFactory.create_batch(5, alliance=alliance)

    page = client.get(url).content.decode()

    assert page.count("csrfmiddlewaretoken") == tokens_with_one
    # 31 rows with a steward button, 30 with a remove button (not her own), two per invitation.
    assert page.count('type="submit" formaction=') == 31 + 30 + 6 * 2


def test_each_member_row_posts_to_its_own_members_urls(client, alliance, steward_user, member_user):
    client.force_login(steward_user)
    mia = membership_of(alliance, member_user)

    page = client.get(alliance_url("member_list", alliance)).content.decode()

    steward_url = alliance_url("member_steward", alliance, pk=mia.pk)
    remove_url = alliance_url("member_deactivate", alliance, pk=mia.pk)
    assert (
        f'formaction="{steward_url}" name="steward" value="1">Make steward<span class="visually-hidden"> (Mia Member)'
        in page
    )
    assert f'formaction="{remove_url}">Remove from alliance<span class="visually-hidden"> (Mia Member)' in page
    own = alliance_url("member_deactivate", alliance, pk=membership_of(alliance, steward_user).pk)
    assert own not in page


def test_a_steward_makes_a_member_steward_with_the_rows_button_as_a_browser_posts_it(
    client, alliance, steward_user, member_user
):
    """A browser posts the shared form to the button's formaction, with the button's name and value."""
    client.force_login(steward_user)
    page = client.get(alliance_url("member_list", alliance)).content.decode()
    token = re.search(r'id="member-actions"><input type="hidden" name="csrfmiddlewaretoken" value="([^"]+)"', page)
    action = re.search(r'formaction="([^"]+)" name="steward" value="1">Make steward', page).group(1)

    client.post(action, {"csrfmiddlewaretoken": token.group(1), "steward": "1"})

    assert membership_of(alliance, member_user).is_steward


def test_after_a_rows_action_the_steward_is_back_on_the_same_page_of_the_same_search(client, alliance, steward_user):
    people = _people(alliance, 60)
    invitation = InvitationFactory(alliance=alliance)
    client.force_login(steward_user)
    url = alliance_url("member_list", alliance)
    page = client.get(url, {"q": "person", "page": "2"}).content.decode()
    assert '<input type="hidden" name="q" value="person"><input type="hidden" name="page" value="2">' in page

    kept = {"q": "person", "page": "2"}
    made = client.post(alliance_url("member_steward", alliance, pk=people[55].pk), {"steward": "1", **kept})
    removed = client.post(alliance_url("member_deactivate", alliance, pk=people[56].pk), kept)
    resent = client.post(alliance_url("invitation_resend", alliance, pk=invitation.pk), kept)
    plain = client.post(alliance_url("invitation_cancel", alliance, pk=invitation.pk))

    for response in (made, removed, resent):
        assert response["Location"] == f"{url}?q=person&page=2"
    assert plain["Location"] == url
    assert Member.objects.get(pk=people[55].pk).is_steward


def test_members_see_no_buttons_and_no_form_around_the_list(client, alliance, steward_user, member_user):
    client.force_login(member_user)

    page = client.get(alliance_url("member_list", alliance)).content.decode()

    assert 'id="member-actions"' not in page
    assert "formaction" not in page


def test_invitation_rows_post_to_their_own_invitations_urls(client, alliance, steward_user):
    invitation = InvitationFactory(alliance=alliance, email="ana@example.org", invited_by=steward_user)
    client.force_login(steward_user)

    page = client.get(alliance_url("member_list", alliance)).content.decode()

    assert f'formaction="{alliance_url("invitation_resend", alliance, pk=invitation.pk)}">Resend' in page
    assert f'formaction="{alliance_url("invitation_cancel", alliance, pk=invitation.pk)}">Cancel invitation' in page
    assert "invited by Stella Steward · written in English" in page


# --- What rows say: dates in the reader's time zone and language, forms in the reader's language --------


def test_the_joining_date_is_the_readers_day_in_the_readers_language(client, alliance, member_user):
    # 02:00 on 1 March in UTC is still 28 February in New York.
    MemberFactory(alliance=alliance, user__display_name="Nico Night", joined_at=datetime(2026, 3, 1, 2, 0, tzinfo=UTC))
    reader = membership_of(alliance, member_user).user
    reader.time_zone, reader.language = "America/New_York", "en"
    reader.save()
    client.force_login(reader)
    assert "since Feb. 28, 2026" in client.get(alliance_url("member_list", alliance)).content.decode()

    reader.time_zone, reader.language = "Europe/Madrid", "es"
    reader.save()
    assert "desde el 1 de marzo de 2026" in client.get(alliance_url("member_list", alliance)).content.decode()


def test_the_empty_invitation_form_selects_each_alliances_own_language(client, steward_user, alliance):
    other = MemberFactory(alliance__language="es", user=steward_user, is_steward=True).alliance
    Alliance.objects.filter(pk=alliance.pk).update(language="en")
    client.force_login(steward_user)

    english = client.get(alliance_url("member_list", alliance)).content.decode()
    spanish = client.get(alliance_url("member_list", other)).content.decode()

    assert '<option value="en" selected>' in english
    assert '<option value="es" selected>' in spanish


def test_the_invitation_form_shows_the_posted_errors_not_the_empty_form(client, alliance, steward_user):
    client.force_login(steward_user)
    client.get(alliance_url("member_list", alliance))  # the empty form, remembered

    response = client.post(alliance_url("invitation_create", alliance), {"emails": "not-an-address"})

    assert response.status_code == 400
    page = response.content.decode()
    assert "not-an-address" in page
    assert "is-invalid" in page


# --- The alliance's home page and the charter history ---------------------------------------------------


def test_the_home_page_lists_the_first_50_members_and_says_how_many_in_all(client, alliance, member_user):
    _people(alliance, 60)
    client.force_login(member_user)

    response = client.get(alliance_url("alliance_detail", alliance))

    assert len(response.context["members"]) == 50
    assert "61 members in all." in response.content.decode()


def test_the_charter_history_shows_50_changes_a_page_and_the_retired_norms_on_the_first(client, alliance, steward_user):
    norm = NormFactory(alliance=alliance, text="Start on time")
    services.norm_retire(norm=norm, by=steward_user)
    CharterChange.objects.bulk_create(
        CharterChange(
            alliance=alliance,
            kind=CharterChange.Kind.PURPOSE,
            after=f"Purpose {number}",
            changed_by=steward_user,
            changed_at=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=number),
        )
        for number in range(54)
    )
    client.force_login(steward_user)
    url = alliance_url("charter_history", alliance)

    first = client.get(url).content.decode()
    second = client.get(url, {"page": "2"}).content.decode()

    assert first.count('<li class="border-bottom py-2">') == 50
    assert "Purpose 53" in first  # newest first
    assert "retired by Stella Steward on" in first
    assert 'href="?page=2">Next page</a>' in first
    assert second.count('<li class="border-bottom py-2">') == 5
    assert "Retired norms" not in second


def test_the_charter_history_makes_the_same_queries_for_3_or_60_changes(
    client, alliance, steward_user, django_assert_max_num_queries
):
    services.norm_retire(norm=NormFactory(alliance=alliance), by=steward_user)
    services.charter_set_logistics(alliance=alliance, by=steward_user, cadence=Alliance.Cadence.WEEKLY)
    client.force_login(steward_user)
    url = alliance_url("charter_history", alliance)
    with_few = _queries(client, url)
    for number in range(20):
        norm = services.norm_add(alliance=alliance, text=f"Norm {number}", agreed_on=None, by=steward_user)
        services.norm_edit(norm=norm, text=f"Norm {number}, edited", agreed_on=None, by=steward_user)
    services.norm_move(norm=norm, direction="up", by=steward_user)
    services.norm_retire(norm=norm, by=steward_user)

    with django_assert_max_num_queries(with_few):
        response = client.get(url)

    assert len(response.context["changes"]) == 44


def test_each_norm_posts_to_its_own_urls_and_names_its_place_for_screen_readers(client, alliance, steward_user):
    first = NormFactory(alliance=alliance, text="Start on time", position=1, agreed_on=date(2026, 3, 3))
    second = NormFactory(alliance=alliance, text="Speak once first", position=2)
    client.force_login(steward_user)

    html = client.get(alliance_url("charter_detail", alliance)).content.decode()
    fragment = client.post(alliance_url("norm_move", alliance, pk=second.pk), {"direction": "up"}, headers=HTMX)

    move_first, move_second = (alliance_url("norm_move", alliance, pk=norm.pk) for norm in (first, second))
    assert f'action="{move_first}" hx-post="{move_first}"' in html
    assert f'action="{move_second}" hx-post="{move_second}"' in html
    assert (
        f'href="{alliance_url("norm_edit", alliance, pk=second.pk)}">Edit<span class="visually-hidden"> norm 2' in html
    )
    assert "Move norm 1 down" in html
    assert "Move norm 2 up" in html
    assert "Agreed on March 3, 2026" in html
    # The list htmx swaps in after a move numbers the norms in their new order.
    assert fragment.content.decode().index("Speak once first") < fragment.content.decode().index("Start on time")
    assert f'href="{alliance_url("norm_edit", alliance, pk=first.pk)}">Edit<span class="visually-hidden"> norm 2' in (
        fragment.content.decode()
    )


def test_the_charter_makes_the_same_queries_for_2_or_25_norms_and_so_does_its_htmx_list(
    client, alliance, steward_user, django_assert_max_num_queries
):
    first = NormFactory.create_batch(2, alliance=alliance, agreed_on=date(2026, 3, 3))
    client.force_login(steward_user)
    url = alliance_url("charter_detail", alliance)
    move = {"direction": "up"}
    with_two = _queries(client, url)
    with CaptureQueriesContext(connection) as moved_with_two:
        client.post(alliance_url("norm_move", alliance, pk=first[-1].pk), move, headers=HTMX)
    norms = NormFactory.create_batch(23, alliance=alliance, agreed_on=date(2026, 3, 4))

    with django_assert_max_num_queries(with_two):
        response = client.get(url)
    with django_assert_max_num_queries(len(moved_with_two)):
        client.post(alliance_url("norm_move", alliance, pk=norms[-1].pk), move, headers=HTMX)

    assert len(response.context["norms"]) == 25


def test_the_home_page_shows_the_next_meeting_without_a_query_more(client, alliance, steward_user, member_user):
    client.force_login(member_user)
    url = alliance_url("alliance_detail", alliance)
    without = _queries(client, url)
    facilitator, note_taker = membership_of(alliance, steward_user), membership_of(alliance, member_user)
    meeting = MeetingFactory(alliance=alliance, facilitator=facilitator, note_taker=note_taker)

    with_meeting = _queries(client, url)

    page = client.get(url).content.decode()
    assert with_meeting == without
    assert f'<a href="{meeting.get_absolute_url()}">{meeting.when_display}</a>' in page
    assert "Facilitator: Stella Steward · Note taker: Mia Member" in page


# --- Every page: no permission queries for a member -----------------------------------------------------


def test_a_members_pages_ask_nothing_about_permissions(client, alliance, member_user):
    """The menu's operator links are asked for staff only: two permission queries on every page otherwise."""
    client.force_login(member_user)
    for url in (reverse("alliances:alliance_list"), alliance_url("alliance_detail", alliance)):
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        assert not [query for query in queries if "auth_permission" in query["sql"]]


# --- The helpers --------------------------------------------------------------------------------------


def test_row_url_gives_each_row_the_url_reverse_gives_it(alliance):
    steward_url = row_url("alliances:member_steward", slug=alliance.slug)

    for pk in (1, 7, 987654321987, 12):
        assert steward_url(pk) == alliance_url("member_steward", alliance, pk=pk)


def test_list_page_is_one_query_with_the_count_and_answers_like_get_page(alliance, django_assert_num_queries):
    _people(alliance, 7)
    members = Member.objects.filter(alliance=alliance).order_by("pk")
    second = [m.pk for m in members[3:6]]

    with django_assert_num_queries(1):
        page = list_page(members, "2", 3)
        assert [m.pk for m in page] == second
        assert page.paginator.count == 7
        assert page.paginator.num_pages == 3
    assert list_page(members, "x", 3).number == 1
    assert list_page(members, "0", 3).number == 1
    last = list_page(members, "9", 3)
    assert (last.number, len(last)) == (3, 1)
    empty = list_page(Member.objects.none(), None, 3)
    assert (empty.number, empty.paginator.count, list(empty)) == (1, 0, [])


def test_date_text_remembers_a_day_per_language_not_for_every_reader(settings):
    from django.utils import timezone, translation

    moment = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
    with translation.override("en"), timezone.override("America/New_York"):
        assert date_text(moment) == "Feb. 28, 2026"
    with translation.override("es"), timezone.override("Europe/Madrid"):
        assert date_text(moment) == "1 de marzo de 2026"
    with translation.override("en"), timezone.override("UTC"):
        assert date_text(moment) == "March 1, 2026"
