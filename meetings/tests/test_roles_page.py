"""The roles page of a large alliance: who is next in line, the reader's place, and everyone's counts 50 a page."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from alliances.models import Alliance, Member
from alliances.tests.factories import MemberFactory
from meetings.tests.factories import MeetingFactory

pytestmark = pytest.mark.django_db


def _roles_url(alliance: Alliance, query: str = "") -> str:
    return reverse("meetings:roles", kwargs={"slug": alliance.slug}) + (f"?{query}" if query else "")


def _names(response) -> list[str]:
    return [row.name for row in response.context["rows"]]


@pytest.fixture
def crowd(alliance, steward_user, member_user) -> list[Member]:
    """Stella the steward joined first, then 120 people in the order of their numbers, then Mia today."""
    start = timezone.now() - timedelta(days=400)
    Member.objects.filter(user=steward_user).update(joined_at=start - timedelta(days=1))
    return [
        MemberFactory(alliance=alliance, user__display_name=f"Person {n:03d}", joined_at=start + timedelta(days=n))
        for n in range(120)
    ]


def test_a_large_rotation_shows_50_members_a_page_in_the_order_they_joined(client, alliance, member_user, crowd):
    client.force_login(member_user)

    first = client.get(_roles_url(alliance))
    last = client.get(_roles_url(alliance, "page=3"))

    assert _names(first)[:3] == ["Stella Steward", "Person 000", "Person 001"]
    assert len(_names(first)) == 50
    assert "Page 1 of 3" in first.content.decode()
    assert _names(last)[-3:] == ["Person 118", "Person 119", "Mia Member"]
    assert len(_names(last)) == 22  # 122 members


def test_anyone_in_a_large_rotation_is_found_by_name(client, alliance, member_user, crowd):
    client.force_login(member_user)

    found = client.get(_roles_url(alliance, "q=person+07"))

    assert _names(found) == [f"Person {n:03d}" for n in range(70, 80)]
    assert "10 members match “person 07”." in found.content.decode()
    assert "No member matches your search." in client.get(_roles_url(alliance, "q=nobody")).content.decode()


def test_the_page_says_who_is_next_in_line_for_each_role_and_where_the_reader_stands(
    client, alliance, member_user, crowd
):
    # Person 000 facilitated and Person 001 took notes: each goes behind everyone who held no role at all,
    # and Person 000 behind Person 001 in the line to facilitate (and the other way round for the notes).
    MeetingFactory(
        alliance=alliance,
        starts_at=timezone.now() - timedelta(days=7),
        facilitator=crowd[0],
        note_taker=crowd[1],
    )
    client.force_login(member_user)

    response = client.get(_roles_url(alliance, "page=2"))

    assert response.context["next_facilitators"] == ["Stella Steward", "Person 002", "Person 003"]
    assert response.context["next_note_takers"] == ["Stella Steward", "Person 002", "Person 003"]
    # Mia joined last of the 120 who held no role; the two who did come after her.
    page = response.content.decode()
    assert "You are number 120 of 122 in line to facilitate, and number 120 to take notes." in page
    assert page.index("Stella Steward") < page.index("Person 002") < page.index("Person 003")


def test_a_rotation_of_one_page_has_no_page_links_and_no_search(client, alliance, member_user):
    client.force_login(member_user)

    page = client.get(_roles_url(alliance)).content.decode()

    assert 'role="search"' not in page
    assert "Page 1 of" not in page
    assert "You are number 1 of 1 in line to facilitate, and number 1 to take notes." in page


@pytest.mark.parametrize("query", ["", "page=2", "q=person+1"])
def test_the_roles_page_queries_do_not_grow_with_the_members(
    client, alliance, member_user, page_cache_off, django_assert_max_num_queries, query
):
    client.force_login(member_user)
    MemberFactory.create_batch(3, alliance=alliance)
    with django_assert_max_num_queries(20) as few:
        client.get(_roles_url(alliance, query))

    MemberFactory.create_batch(110, alliance=alliance, user__display_name="Person")
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(_roles_url(alliance, query)).status_code == 200
