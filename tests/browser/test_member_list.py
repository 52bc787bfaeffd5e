"""The members page of a large alliance in a real browser: a steward finds a member with the search box,
pages through the list, and uses a row's buttons, which share one form (each posts to its own row's URL
through formaction) — with JavaScript and without it."""

import re

import pytest

from accounts.tests.factories import PASSWORD, UserFactory
from alliances.models import Member
from alliances.tests.factories import AllianceFactory, InvitationFactory, MemberFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def alliance(db):
    steward = UserFactory(email="stella@example.org", display_name="Stella Steward", language="en")
    alliance = AllianceFactory(name="Barrio Readers", slug="barrio-readers")
    MemberFactory(alliance=alliance, user=steward, is_steward=True)
    for number in range(60):
        MemberFactory(alliance=alliance, user__display_name=f"Person {number:03}")
    MemberFactory(alliance=alliance, user__display_name="Mia Member")
    InvitationFactory(alliance=alliance, email="ana@example.org", invited_by=steward)
    return alliance


@pytest.mark.parametrize("javascript", [True, False], ids=["with-js", "without-js"])
def test_a_steward_searches_pages_and_acts_on_one_row(browser, site, alliance, javascript):
    context = browser.new_context(java_script_enabled=javascript)
    page = context.new_page()
    page.goto(f"{site.url}/accounts/login/")
    page.get_by_label(re.compile(r"^\s*Email address")).fill("stella@example.org")
    page.get_by_label(re.compile(r"^\s*Password")).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{site.url}/alliances/")

    page.goto(f"{site.url}/alliances/barrio-readers/members/")
    page.get_by_text("62 members").wait_for()
    page.get_by_role("link", name="Next page").click()
    page.get_by_text("Page 2 of 2").wait_for()
    second = page.locator("#member-actions").inner_text()
    assert "Person 059" in second  # by name: Mia, Person 000-059, Stella
    assert "Mia Member" not in second

    page.get_by_label("Search by name or organisation").fill("mia")
    page.get_by_role("button", name="Search", exact=True).click()
    page.get_by_text("1 member matches “mia”.").wait_for()
    page.get_by_role("button", name="Make steward (Mia Member)").click()
    page.get_by_text("Mia Member is now a steward.").wait_for()
    assert Member.objects.get(user__display_name="Mia Member").is_steward
    page.get_by_text("1 member matches “mia”.").wait_for()  # back on the same search

    page.get_by_role("link", name="Show all members").click()
    page.get_by_role("button", name="Remove from alliance (Person 000)").click()
    page.get_by_text("Person 000 is no longer a member.").wait_for()
    page.get_by_role("button", name="Cancel invitation (ana@example.org)").click()
    page.get_by_text("The invitation to ana@example.org is cancelled.").wait_for()
    context.close()
