"""The frame every alliance page shares: the alliance's name and tabs that say where the reader is."""

import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def _tabs(html: str) -> list[tuple[str, str]]:
    """(label, aria-current) for each tab link in the alliance navigation."""
    nav = re.search(r'<nav aria-label="Alliance".*?</nav>', html, re.S).group(0)
    return [
        (label.strip(), current or "")
        for current, label in re.findall(
            r'<a class="nav-link[^"]*" href="[^"]*"(?: aria-current="([^"]*)")?>([^<]*)</a>', nav
        )
    ]


def test_the_members_page_marks_its_tab_as_the_current_page(client, alliance, member_user):
    client.force_login(member_user)
    html = client.get(reverse("alliances:member_list", args=[alliance.slug])).content.decode()
    assert _tabs(html) == [
        ("Overview", ""),
        ("Meetings", ""),
        ("Decisions", ""),
        ("To-dos", ""),
        ("Charter", ""),
        ("Members", "page"),
    ]


def test_the_meetings_tab_is_current_on_every_page_of_the_meetings_app(client, alliance, member_user):
    # Tabs name pages across namespaces: "meetings:meeting_list" is the tab's own page, and the tab
    # claims every other page of the "meetings" namespace (the roles page here).
    client.force_login(member_user)
    listing = client.get(reverse("meetings:meeting_list", args=[alliance.slug])).content.decode()
    roles = client.get(reverse("meetings:roles", args=[alliance.slug])).content.decode()
    assert ("Meetings", "page") in _tabs(listing)
    assert _tabs(roles) == [
        ("Overview", ""),
        ("Meetings", "true"),
        ("Decisions", ""),
        ("To-dos", ""),
        ("Charter", ""),
        ("Members", ""),
    ]


def test_a_page_inside_the_charter_marks_the_charter_tab_without_claiming_to_be_it(client, alliance, member_user):
    client.force_login(member_user)
    html = client.get(reverse("alliances:charter_history", args=[alliance.slug])).content.decode()
    assert ("Charter", "true") in _tabs(html)
    assert 'aria-current="page"' not in html


def test_stewards_see_the_undelivered_emails_tab_and_members_do_not(client, alliance, steward_user, member_user):
    url = reverse("alliances:alliance_detail", args=[alliance.slug])
    client.force_login(steward_user)
    assert [label for label, _ in _tabs(client.get(url).content.decode())] == [
        "Overview",
        "Meetings",
        "Decisions",
        "To-dos",
        "Charter",
        "Members",
        "Undelivered emails",
    ]
    client.force_login(member_user)
    assert "Undelivered emails" not in [label for label, _ in _tabs(client.get(url).content.decode())]


def test_a_broken_rule_on_a_plain_post_comes_back_as_a_message_and_changes_nothing(client, alliance, steward_user):
    """The last steward cannot leave: the service's error is shown on the page the reader lands on."""
    client.force_login(steward_user)
    response = client.post(reverse("alliances:member_leave", args=[alliance.slug]), follow=True)
    assert "The last steward cannot leave" in response.content.decode()
    assert alliance.members.get(user=steward_user).is_active
