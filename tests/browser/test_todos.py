"""To-dos in a real browser: My to-dos marks one done and undoes it in place (htmx) or by a plain post that
comes back to the same filters (no JavaScript); the one-click link from an email opens a page that changes
nothing until its button is pressed."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from alliances.tests.factories import AllianceFactory, MemberFactory
from tasks.links import done_link
from tasks.models import Todo
from tasks.tests.factories import TodoFactory
from tests.browser.conftest import signed_in_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def mia(db):
    alliance = AllianceFactory(name="Barrio Readers", slug="barrio-readers")
    mia = MemberFactory(alliance=alliance, user__display_name="Mia Member", user__language="en")
    garden = AllianceFactory(name="Garden Co-op", slug="garden")
    there = MemberFactory(alliance=garden, user=mia.user)
    today = timezone.localdate()
    TodoFactory(alliance=alliance, owner=mia, text="Call the library", due_on=today - timedelta(days=2))
    TodoFactory(alliance=garden, owner=there, text="Water the beans", due_on=today + timedelta(days=3))
    return mia


@pytest.mark.parametrize("javascript", [True, False], ids=["with-js", "without-js"])
def test_my_to_dos_mark_one_done_and_undo_it(browser, site, mia, javascript):
    page = signed_in_page(browser, site, mia, java_script_enabled=javascript)
    page.goto(f"{site.url}/todos/")
    rows = page.locator("#todo-actions li")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("Call the library")  # overdue first
    expect(rows.first).to_contain_text("Overdue")

    page.get_by_label("Alliance").select_option(label="Garden Co-op")
    page.get_by_role("button", name="Show").click()
    expect(rows).to_have_count(1)
    page.get_by_role("button", name="Mark done (Water the beans)").click()

    if javascript:
        # Swapped in place: the row stays, says so, and its Undo has the focus.
        expect(page.get_by_text("Marked done.")).to_be_visible()
        expect(page.get_by_role("button", name="Undo (Water the beans)")).to_be_focused()
        assert page.url.endswith("/todos/?alliance=garden&status=open")
        page.get_by_role("button", name="Undo (Water the beans)").click()
        expect(page.get_by_role("button", name="Mark done (Water the beans)")).to_be_focused()
    else:
        # A plain post: back to the same filters, with a message; the done one has left the open list.
        expect(page.get_by_text("“Water the beans” is done.")).to_be_visible()
        assert page.url.endswith("/todos/?alliance=garden&status=open")
        expect(rows).to_have_count(0)
        page.get_by_label("Status").select_option(label="Done")
        page.get_by_role("button", name="Show").click()
        page.get_by_role("button", name="Reopen (Water the beans)").click()
        expect(page.get_by_text("“Water the beans” is open again.")).to_be_visible()
    assert Todo.objects.get(text="Water the beans").status == Todo.Status.OPEN
    page.context.close()


def test_the_link_from_an_email_marks_the_to_do_done_only_when_its_button_is_pressed(browser, site, mia):
    todo = Todo.objects.get(text="Call the library")
    context = browser.new_context()
    page = context.new_page()

    page.goto(done_link(todo))
    expect(page.get_by_role("heading", name="Mark your to-do done")).to_be_visible()
    expect(page.get_by_text("Call the library")).to_be_visible()
    todo.refresh_from_db()
    assert todo.status == Todo.Status.OPEN

    page.get_by_role("button", name="Mark done").click()
    expect(page.get_by_role("heading", name="Done. Thank you!")).to_be_visible()
    todo.refresh_from_db()
    assert todo.status == Todo.Status.DONE

    page.goto(done_link(todo))
    expect(page.get_by_role("heading", name="This to-do is already done")).to_be_visible()
    page.get_by_role("link", name="Sign in to see your to-dos").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    context.close()
