"""The to-do pages as their readers use them: My to-dos, an alliance's to-dos, one to-do, a new to-do."""

import re
from datetime import timedelta
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from alliances.models import Alliance, Member
from alliances.tests.factories import AllianceFactory, MemberFactory
from alliances.tests.helpers import flash_messages, membership_of
from meetings.tests.factories import MeetingFactory
from tasks import services
from tasks.models import Todo, TodoUpdate
from tasks.tests.factories import TodoFactory, TodoUpdateFactory

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
MY_TODOS = "/todos/"


def _days(n: int):
    return timezone.localdate() + timedelta(days=n)


def _titles(html: str) -> list[str]:
    """The to-dos a list shows, in order."""
    return [unescape(title) for title in re.findall(r'class="todo-title[^"]*">([^<]+)</a>', html)]


def _todo(alliance: Alliance, owner: Member, text: str, due_in: int, **kwargs) -> Todo:
    return TodoFactory(alliance=alliance, owner=owner, text=text, due_on=_days(due_in), **kwargs)


@pytest.fixture
def mia(alliance, member_user) -> Member:
    return membership_of(alliance, member_user)


@pytest.fixture
def stella(alliance, steward_user) -> Member:
    return membership_of(alliance, steward_user)


# --- My to-dos ----------------------------------------------------------------------------------------


def test_my_to_dos_lists_mine_across_my_alliances_overdue_first_then_by_due_date(client, alliance, mia, stella):
    other = AllianceFactory(name="Garden Co-op")
    mia_there = MemberFactory(alliance=other, user=mia.user)
    _todo(alliance, mia, "Book the hall", 10)
    _todo(other, mia_there, "Water the beans", 2)
    _todo(alliance, mia, "Call the library", -3)
    _todo(other, mia_there, "Return the keys", -10)
    _todo(alliance, stella, "Stella's own", 1)
    _todo(alliance, mia, "Already done", 1, status=Todo.Status.DONE, done_at=timezone.now())
    client.force_login(mia.user)

    html = client.get(MY_TODOS).content.decode()

    assert _titles(html) == ["Return the keys", "Call the library", "Water the beans", "Book the hall"]
    assert html.count(">Overdue</span>") == 2
    assert "Garden Co-op · due" in html
    assert "4 to-dos" in html


def test_my_to_dos_filter_by_alliance_and_status(client, alliance, mia):
    other = AllianceFactory(name="Garden Co-op", slug="garden")
    mia_there = MemberFactory(alliance=other, user=mia.user)
    _todo(alliance, mia, "Book the hall", 3)
    _todo(other, mia_there, "Water the beans", 2)
    _todo(other, mia_there, "Planted", 1, status=Todo.Status.DONE, done_at=timezone.now())
    _todo(alliance, mia, "Late", -1)
    client.force_login(mia.user)

    garden = client.get(MY_TODOS, {"alliance": "garden"}).content.decode()
    done = client.get(MY_TODOS, {"status": "done"}).content.decode()
    every = client.get(MY_TODOS, {"status": "all", "alliance": "garden"}).content.decode()
    overdue = client.get(MY_TODOS, {"status": "overdue"}).content.decode()
    unknown = client.get(MY_TODOS, {"alliance": "not-mine", "status": "nonsense"}).content.decode()

    assert _titles(garden) == ["Water the beans"]
    assert '<option value="garden" selected>Garden Co-op</option>' in garden
    assert _titles(done) == ["Planted"]
    assert _titles(every) == ["Water the beans", "Planted"]
    assert _titles(overdue) == ["Late"]
    # A filter that is not one of the reader's choices is no filter.
    assert _titles(unknown) == ["Late", "Water the beans", "Book the hall"]
    assert 'role="search"' in garden
    assert '<label class="form-label" for="todo-alliance">Alliance</label>' in garden


def test_mark_done_with_htmx_swaps_the_row_with_an_undo_and_undo_reopens_it(client, alliance, mia):
    todo = _todo(alliance, mia, "Book the hall", 3)
    client.force_login(mia.user)

    done = client.post(f"/todos/{todo.pk}/done/", headers=HTMX)
    todo.refresh_from_db()

    assert done.status_code == 200
    assert todo.status == Todo.Status.DONE
    row = done.content.decode()
    assert "<html" not in row
    assert row.strip().startswith('<li class="list-group-item')
    assert f'id="todo-{todo.pk}"' in row
    assert "Marked done." in row
    assert f'hx-post="/todos/{todo.pk}/reopen/"' in row
    assert re.search(r"autofocus>Undo<span", row)

    undone = client.post(f"/todos/{todo.pk}/reopen/", headers=HTMX)
    todo.refresh_from_db()

    assert todo.status == Todo.Status.OPEN
    assert f'hx-post="/todos/{todo.pk}/done/"' in undone.content.decode()
    assert "Open again." in undone.content.decode()


def test_mark_done_and_undo_without_javascript_go_back_to_the_list_with_its_filters(client, alliance, mia):
    todo = _todo(alliance, mia, "Book the hall", 3)
    client.force_login(mia.user)
    back = "/todos/?status=all&alliance=barrio-readers&page=1"

    done = client.post(f"/todos/{todo.pk}/done/", {"back": back})
    todo.refresh_from_db()

    assert done.status_code == 302
    assert done["Location"] == back
    assert todo.status == Todo.Status.DONE
    assert flash_messages(done) == ["“Book the hall” is done."]

    undone = client.post(f"/todos/{todo.pk}/reopen/", {"back": back})
    todo.refresh_from_db()
    assert undone["Location"] == back
    assert todo.status == Todo.Status.OPEN


def test_my_to_dos_are_kept_but_show_a_change_at_once(client, alliance, mia, stella, django_assert_max_num_queries):
    todo = _todo(alliance, mia, "Book the hall", 3)
    client.force_login(mia.user)
    assert _titles(client.get(MY_TODOS).content.decode()) == ["Book the hall"]
    with django_assert_max_num_queries(2):  # the session and the user: the page is kept
        assert _titles(client.get(MY_TODOS).content.decode()) == ["Book the hall"]

    services.mark_done(todo=todo, by=stella)
    assert _titles(client.get(MY_TODOS).content.decode()) == []

    services.reopen(todo=todo, by=stella)
    other = AllianceFactory(name="Garden Co-op")
    _todo(other, MemberFactory(alliance=other, user=mia.user), "Water the beans", 1)
    assert _titles(client.get(MY_TODOS).content.decode()) == ["Water the beans", "Book the hall"]

    alliance.name = "Barrio Readers Club"
    alliance.save()
    assert "Barrio Readers Club · due" in client.get(MY_TODOS).content.decode()


def test_a_back_address_on_another_site_is_not_followed(client, alliance, mia):
    todo = _todo(alliance, mia, "Book the hall", 3)
    client.force_login(mia.user)

    response = client.post(f"/todos/{todo.pk}/done/", {"back": "https://evil.example.org/"})

    assert response["Location"] == MY_TODOS


def test_my_to_dos_buttons_act_only_on_my_own_to_dos(client, alliance, mia, stella):
    theirs = _todo(alliance, stella, "Stella's", 3)
    client.force_login(mia.user)

    assert client.post(f"/todos/{theirs.pk}/done/").status_code == 404
    assert client.post(f"/todos/{theirs.pk}/reopen/", headers=HTMX).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == Todo.Status.OPEN


def test_a_former_member_no_longer_acts_on_the_to_dos_they_owned_there(client, alliance, mia, steward_user):
    todo = _todo(alliance, mia, "Book the hall", 3)
    from alliances import services as alliance_services

    alliance_services.member_leave(member=mia)
    client.force_login(mia.user)

    assert _titles(client.get(MY_TODOS).content.decode()) == []
    assert client.post(f"/todos/{todo.pk}/done/").status_code == 404


def test_marking_a_dropped_to_do_done_says_why_not(client, alliance, mia):
    todo = _todo(alliance, mia, "Book the hall", 3, status=Todo.Status.DROPPED, drop_reason="No hall")
    client.force_login(mia.user)

    htmx = client.post(f"/todos/{todo.pk}/done/", headers=HTMX)
    plain = client.post(f"/todos/{todo.pk}/done/")

    assert htmx.status_code == 200
    assert re.search(r'role="alert">This to-do was dropped: reopen it first', htmx.content.decode())
    assert ">Reopen<span" in htmx.content.decode()
    assert flash_messages(plain) == ["This to-do was dropped: reopen it first if it was done after all."]


def _queries(client, url: str) -> int:
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_my_to_dos_costs_the_same_queries_for_few_and_many_to_dos_in_several_alliances(
    client, alliance, mia, page_cache_off, django_assert_max_num_queries
):
    client.force_login(mia.user)
    _todo(alliance, mia, "One", 3)
    few = _queries(client, MY_TODOS)

    for index in range(4):
        there = MemberFactory(alliance=AllianceFactory(time_zone="Asia/Tokyo" if index % 2 else "UTC"), user=mia.user)
        for n in range(30):
            _todo(there.alliance, there, f"Task {index}-{n}", n - 10)
    many = _queries(client, MY_TODOS)
    second_page = _queries(client, f"{MY_TODOS}?page=2&status=all")

    assert many == few
    assert second_page == few
    with django_assert_max_num_queries(4):  # session, user, memberships, the page of to-dos with their count
        client.get(MY_TODOS)
    html = client.get(MY_TODOS).content.decode()
    assert len(_titles(html)) == 50
    assert "Page 1 of 3" in html
    # One token for the list's one form (beside the menu's language switch and sign-out).
    assert html.count('name="csrfmiddlewaretoken"') == 3


def test_someone_with_no_alliance_is_told_so(client, outsider):
    client.force_login(outsider)

    html = client.get(MY_TODOS).content.decode()

    assert "You are not a member of any alliance yet" in html


def test_my_to_dos_sends_an_anonymous_reader_to_sign_in(client, db):
    response = client.get(MY_TODOS)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('accounts:login')}?next={MY_TODOS}"


# --- An alliance's to-dos -----------------------------------------------------------------------------


def _list_url(alliance: Alliance) -> str:
    return reverse("tasks:todo_list", kwargs={"slug": alliance.slug})


def test_the_alliance_list_shows_everyones_to_dos_and_filters_by_owner_status_and_meeting(
    client, alliance, mia, stella
):
    meeting = MeetingFactory(alliance=alliance, starts_at=timezone.now() - timedelta(days=3))
    _todo(alliance, mia, "Mia's late one", -2)
    _todo(alliance, stella, "Stella's from the meeting", 4, meeting=meeting)
    _todo(alliance, stella, "Stella's done", 1, status=Todo.Status.DONE, done_at=timezone.now())
    _todo(AllianceFactory(), MemberFactory(), "Another alliance's", 1)
    client.force_login(mia.user)
    url = _list_url(alliance)

    everything = client.get(url).content.decode()
    stellas = client.get(url, {"owner": stella.pk}).content.decode()
    open_only = client.get(url, {"status": "open"}).content.decode()
    of_meeting = client.get(url, {"meeting": meeting.pk}).content.decode()

    assert _titles(everything) == ["Mia's late one", "Stella's from the meeting", "Stella's done"]
    assert "Mia Member · due" in everything
    assert "from the meeting of" in everything
    assert _titles(stellas) == ["Stella's from the meeting", "Stella's done"]
    assert _titles(open_only) == ["Mia's late one", "Stella's from the meeting"]
    assert _titles(of_meeting) == ["Stella's from the meeting"]
    assert 'aria-current="page">To-dos</a>' in everything


def test_the_alliance_list_names_a_former_member_who_owns_a_to_do(client, alliance, mia, stella):
    former = MemberFactory(alliance=alliance, user__display_name="Fred Former")
    _todo(alliance, former, "Left behind", 3)
    former.is_active = False
    former.save()
    client.force_login(mia.user)

    html = client.get(_list_url(alliance)).content.decode()

    assert "Fred Former · due" in html
    assert f'<option value="{former.pk}"' not in html  # the owner filter lists active members


def test_a_member_gets_buttons_only_on_the_to_dos_they_may_change(client, alliance, mia, stella):
    note_taker_meeting = MeetingFactory(alliance=alliance, note_taker=mia)
    mine = _todo(alliance, mia, "Mine", 2)
    noted = _todo(alliance, stella, "From my notes", 3, meeting=note_taker_meeting)
    theirs = _todo(alliance, stella, "Stella's", 4)
    client.force_login(mia.user)

    html = client.get(_list_url(alliance)).content.decode()

    assert f"/todos/{mine.pk}/done/" in html
    assert f"/todos/{noted.pk}/done/" in html
    assert f"/todos/{theirs.pk}/done/" not in html
    response = client.post(reverse("tasks:todo_done", kwargs={"slug": alliance.slug, "pk": theirs.pk}))
    assert response.status_code == 403
    theirs.refresh_from_db()
    assert theirs.status == Todo.Status.OPEN


def test_a_steward_marks_anyones_to_do_done_from_the_alliance_list_with_htmx(client, alliance, mia, stella):
    todo = _todo(alliance, mia, "Book the hall", 3)
    client.force_login(stella.user)

    response = client.post(reverse("tasks:todo_done", kwargs={"slug": alliance.slug, "pk": todo.pk}), headers=HTMX)
    todo.refresh_from_db()

    assert todo.status == Todo.Status.DONE
    assert "Mia Member · due" in response.content.decode()
    assert "Undo" in response.content.decode()


def test_the_alliance_list_shows_a_change_at_once_though_pages_are_kept(client, alliance, mia):
    todo = _todo(alliance, mia, "Book the hall", 3)
    client.force_login(mia.user)
    url = _list_url(alliance)
    assert _titles(client.get(url, {"status": "done"}).content.decode()) == []

    services.mark_done(todo=todo, by=mia)

    assert _titles(client.get(url, {"status": "done"}).content.decode()) == ["Book the hall"]


def test_the_alliance_list_costs_the_same_queries_for_few_and_many_to_dos(
    client, alliance, mia, stella, page_cache_off
):
    client.force_login(mia.user)
    meeting = MeetingFactory(alliance=alliance)
    _todo(alliance, mia, "One", 3, meeting=meeting)
    few = _queries(client, _list_url(alliance))

    for n in range(120):
        owner = MemberFactory(alliance=alliance) if n % 10 == 0 else (mia if n % 2 else stella)
        _todo(
            alliance, owner, f"Task {n}", n - 60, meeting=MeetingFactory(alliance=alliance) if n % 7 == 0 else meeting
        )
    many = _queries(client, _list_url(alliance))
    filtered = _queries(client, f"{_list_url(alliance)}?owner={mia.pk}&status=open&meeting={meeting.pk}&page=2")

    assert many == few
    assert filtered == few
    html = client.get(_list_url(alliance)).content.decode()
    assert len(_titles(html)) == 50
    assert html.count('name="csrfmiddlewaretoken"') == 3


def test_an_outsider_gets_not_found_for_the_alliance_list_and_a_to_do(client, alliance, mia, outsider):
    todo = _todo(alliance, mia, "Book the hall", 3)
    MemberFactory(alliance=AllianceFactory(), user=outsider, is_steward=True)
    client.force_login(outsider)

    assert client.get(_list_url(alliance)).status_code == 404
    assert client.get(reverse("tasks:todo_detail", kwargs={"slug": alliance.slug, "pk": todo.pk})).status_code == 404


def test_a_to_do_of_another_alliance_is_not_found_through_mine(client, alliance, stella):
    other = AllianceFactory()
    todo = _todo(other, MemberFactory(alliance=other), "Theirs", 3)
    client.force_login(stella.user)

    for name in ("todo_detail", "todo_done", "todo_edit"):
        url = reverse(f"tasks:{name}", kwargs={"slug": alliance.slug, "pk": todo.pk})
        assert client.post(url).status_code == 404, name


# --- One to-do ----------------------------------------------------------------------------------------


def _detail(alliance: Alliance, todo: Todo, name: str = "todo_detail") -> str:
    return reverse(f"tasks:{name}", kwargs={"slug": alliance.slug, "pk": todo.pk})


def test_the_to_do_page_shows_its_updates_and_its_owner_adds_one(client, alliance, mia):
    todo = _todo(alliance, mia, "Book the hall", 3)
    TodoUpdateFactory(todo=todo, text="Called them; waiting.")
    client.force_login(mia.user)

    page = client.get(_detail(alliance, todo)).content.decode()
    added = client.post(_detail(alliance, todo, "todo_update_add"), {"text": "They said yes."})

    assert "Called them; waiting." in page
    assert "Mia Member, " in page
    assert added.status_code == 302
    assert list(TodoUpdate.objects.filter(todo=todo).values_list("text", flat=True)) == [
        "Called them; waiting.",
        "They said yes.",
    ]
    assert "They said yes." in client.get(_detail(alliance, todo)).content.decode()


def test_an_empty_update_is_refused_on_the_page_and_nothing_is_saved(client, alliance, mia):
    todo = _todo(alliance, mia, "Book the hall", 3)
    client.force_login(mia.user)

    response = client.post(_detail(alliance, todo, "todo_update_add"), {"text": "   "})

    assert response.status_code == 400
    assert "Write the update first." in response.content.decode()
    assert not TodoUpdate.objects.exists()


def test_a_plain_member_reads_someone_elses_to_do_without_buttons(client, alliance, mia, stella):
    todo = _todo(alliance, stella, "Stella's", 3)
    client.force_login(mia.user)

    page = client.get(_detail(alliance, todo)).content.decode()

    assert "Stella&#x27;s" in page
    assert "Mark done" not in page
    assert "Add the update" not in page
    assert client.post(_detail(alliance, todo, "todo_update_add"), {"text": "Hi"}).status_code == 403
    assert client.get(_detail(alliance, todo, "todo_edit")).status_code == 403


def test_dropping_needs_a_reason_and_keeps_it(client, alliance, mia):
    todo = _todo(alliance, mia, "Book the hall", 3)
    client.force_login(mia.user)

    refused = client.post(_detail(alliance, todo, "todo_drop"), {"reason": ""})
    todo.refresh_from_db()
    assert refused.status_code == 400
    assert "Say why the to-do is dropped" in refused.content.decode()
    assert todo.status == Todo.Status.OPEN

    dropped = client.post(_detail(alliance, todo, "todo_drop"), {"reason": "The hall closed for good."})
    todo.refresh_from_db()
    assert dropped.status_code == 302
    assert todo.status == Todo.Status.DROPPED
    page = client.get(_detail(alliance, todo)).content.decode()
    assert "The hall closed for good." in page
    assert "Reopen" in page


def test_mark_done_and_reopen_from_the_to_do_page_come_back_to_it(client, alliance, mia):
    todo = _todo(alliance, mia, "Book the hall", 3)
    client.force_login(mia.user)
    back = _detail(alliance, todo)

    done = client.post(_detail(alliance, todo, "todo_done"), {"back": back})
    todo.refresh_from_db()
    assert done["Location"] == back
    assert todo.status == Todo.Status.DONE
    assert "done on" in client.get(back).content.decode()

    client.post(_detail(alliance, todo, "todo_reopen"), {"back": back})
    todo.refresh_from_db()
    assert todo.status == Todo.Status.OPEN


def test_editing_a_to_do_changes_it(client, alliance, mia, stella):
    todo = _todo(alliance, mia, "Book the hall", 3)
    client.force_login(mia.user)

    form = client.get(_detail(alliance, todo, "todo_edit")).content.decode()
    response = client.post(
        _detail(alliance, todo, "todo_edit"),
        {"text": "Book the big hall", "owner": stella.pk, "due_on": _days(5).isoformat(), "version": todo.version},
    )
    todo.refresh_from_db()

    assert 'value="Book the hall"' in form
    assert response.status_code == 302
    assert (todo.text, todo.owner, todo.due_on) == ("Book the big hall", stella, _days(5))


def test_an_edit_made_on_a_stale_copy_shows_both_texts_and_saves_nothing(client, alliance, mia, stella):
    todo = _todo(alliance, mia, "Book the hall", 3)
    stale = todo.version
    services.update_todo(todo=todo, by=stella, expected_version=stale, text="Book the school hall")
    client.force_login(mia.user)

    response = client.post(
        _detail(alliance, todo, "todo_edit"),
        {"text": "Book the hall for May", "owner": mia.pk, "due_on": _days(3).isoformat(), "version": stale},
    )
    todo.refresh_from_db()
    html = response.content.decode()

    assert response.status_code == 409
    assert todo.text == "Book the school hall"
    assert re.search(r'class="todo-theirs">Book the school hall', html)
    assert re.search(r'class="todo-yours[^"]*">Book the hall for May', html)
    assert f'name="version" value="{todo.version}"' in html  # saving the merged text is accepted
    merged = client.post(
        _detail(alliance, todo, "todo_edit"),
        {
            "text": "Book the school hall for May",
            "owner": mia.pk,
            "due_on": _days(3).isoformat(),
            "version": todo.version,
        },
    )
    todo.refresh_from_db()
    assert merged.status_code == 302
    assert todo.text == "Book the school hall for May"


# --- A new to-do --------------------------------------------------------------------------------------


def _new_url(alliance: Alliance) -> str:
    return reverse("tasks:todo_create", kwargs={"slug": alliance.slug})


def test_any_member_adds_a_to_do_between_meetings_due_by_default_a_week_from_today(client, alliance, mia, stella):
    client.force_login(mia.user)

    form = client.get(_new_url(alliance)).content.decode()
    response = client.post(
        _new_url(alliance), {"text": "Ask the library", "owner": stella.pk, "due_on": _days(4).isoformat()}
    )
    todo = Todo.objects.get()

    assert f'value="{services.default_due_on(alliance=alliance).isoformat()}"' in form
    assert f'<option value="{mia.pk}" selected>Mia Member</option>' in form
    assert response.status_code == 302
    assert response["Location"] == _detail(alliance, todo)
    assert (todo.text, todo.owner, todo.created_by, todo.meeting) == ("Ask the library", stella, mia, None)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"text": "", "due_on": "+4"}, "Say what is to be done."),
        ({"text": "   ", "due_on": "+4"}, "Say what is to be done."),
        ({"text": "x" * 501, "due_on": "+4"}, "A to-do can be at most 500 characters long; this one has 501."),
        ({"text": "Ask", "due_on": "-1"}, "has already passed"),
        ({"text": "Ask", "due_on": "not a date"}, "Enter a date such as 2027-03-16."),
        ({"text": "Ask", "due_on": "+4", "owner": "outsider"}, "Choose an active member of the alliance."),
        ({"text": "Ask", "due_on": "+4", "owner": ""}, "Choose an active member of the alliance."),
    ],
)
def test_the_new_to_do_form_refuses_bad_input_with_a_clear_message_and_saves_nothing(
    client, alliance, mia, outsider, data, message
):
    client.force_login(mia.user)
    post = {"owner": mia.pk, **data}
    if post["due_on"][0] in "+-":
        post["due_on"] = _days(int(post["due_on"])).isoformat()
    if post["owner"] == "outsider":
        post["owner"] = MemberFactory(alliance=AllianceFactory(), user=outsider).pk

    response = client.post(_new_url(alliance), post)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Todo.objects.exists()
