"""The decision log (/alliances/<slug>/decisions/): every decision of the alliance, newest first, with
its meeting, outcome and stand-asides, 50 a page, and a search that understands the reader's language on
PostgreSQL (full-text, read from a GIN index) and finds the words as typed on SQLite."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from alliances.models import Alliance, Member
from alliances.tests.factories import AllianceFactory, MemberFactory
from alliances.tests.helpers import membership_of
from meetings.models import AgendaItem, Decision, Meeting, Proposal, Stance, search_config
from meetings.tests.factories import AgendaItemFactory, MeetingFactory

pytestmark = pytest.mark.django_db

MARCH_3 = datetime(2026, 3, 3, 18, 0, tzinfo=UTC)


def _decision(
    alliance: Alliance,
    text: str,
    *,
    meeting: Meeting | None = None,
    decided_at: datetime = MARCH_3,
    title: str = "Where we meet",
    number: int = 1,
    stand_asides: tuple[tuple[Member, str], ...] = (),
) -> Decision:
    """A decision as the consensus check records it: its item, the proposal nobody blocked (after
    `number - 1` blocked versions), its stances."""
    meeting = meeting or MeetingFactory(alliance=alliance, starts_at=decided_at - timedelta(hours=1))
    item = AgendaItemFactory(meeting=meeting, title=title, kind=AgendaItem.Kind.DECISION)
    for earlier in range(1, number):
        Proposal.objects.create(item=item, number=earlier, text=f"Draft {earlier}", outcome=Proposal.Outcome.BLOCKED)
    proposal = Proposal.objects.create(
        item=item, number=number, text=text, outcome=Proposal.Outcome.CONSENSUS, resolved_at=decided_at
    )
    for member, reason in stand_asides:
        Stance.objects.create(proposal=proposal, member=member, kind=Stance.Kind.STAND_ASIDE, reason=reason)
    return Decision.objects.create(
        alliance=alliance, meeting=meeting, item=item, proposal=proposal, text=text, decided_at=decided_at
    )


def _url(alliance: Alliance, **query: str) -> str:
    url = reverse("meetings:decision_list", kwargs={"slug": alliance.slug})
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def _texts(html: str) -> list[str]:
    """The decisions' texts on the page, in order."""
    return re.findall(r'<p class="norm-text">([^<]*)</p>', html)


@pytest.fixture
def sqlite() -> None:
    if connection.vendor != "sqlite":
        pytest.skip("The search's fallback is for SQLite; PostgreSQL searches the full text.")


# --- What the log shows -------------------------------------------------------------------------------


def test_the_log_shows_each_decision_newest_first_with_its_meeting_outcome_and_stand_asides(
    client, alliance, member_user
):
    ana = MemberFactory(alliance=alliance, user__display_name="Ana Ortiz")
    older = _decision(alliance, "We meet at the library.", decided_at=MARCH_3, title="Venue")
    newer = _decision(
        alliance,
        "We hold a book fair in May.",
        decided_at=MARCH_3 + timedelta(days=14),
        title="Book fair",
        number=2,
        stand_asides=((ana, "May is too soon for me to help."),),
    )
    client.force_login(member_user)

    html = client.get(_url(alliance)).content.decode()

    assert _texts(html) == ["We hold a book fair in May.", "We meet at the library."]
    assert f'<h3 class="h5" id="decision-{newer.pk}">Book fair</h3>' in html
    assert f'<a href="{newer.meeting.get_absolute_url()}">Meeting of March 17, 2026</a>' in html
    assert f'<a href="{older.meeting.get_absolute_url()}">Meeting of March 3, 2026</a>' in html
    assert "Consensus on the amended proposal (version 2)" in html
    assert "<strong>Consensus</strong>" in html
    assert "<li>Ana Ortiz: May is too soon for me to help.</li>" in html
    assert html.count("Nobody stood aside.") == 1
    assert "2 decisions, newest first." in html


def test_a_block_is_not_a_stand_aside_and_only_the_decided_version_counts(client, alliance, member_user):
    ana = MemberFactory(alliance=alliance, user__display_name="Ana Ortiz")
    decision = _decision(alliance, "We meet at the library.", number=2)
    first = Proposal.objects.get(item=decision.item, number=1)
    Stance.objects.create(proposal=first, member=ana, kind=Stance.Kind.STAND_ASIDE, reason="On the first draft.")
    Stance.objects.create(
        proposal=decision.proposal, member=membership_of(alliance, member_user), kind=Stance.Kind.AGREE
    )
    client.force_login(member_user)

    html = client.get(_url(alliance)).content.decode()

    assert "On the first draft." not in html
    assert "Nobody stood aside." in html


def test_the_log_shows_only_this_alliances_decisions(client, alliance, member_user):
    _decision(alliance, "Ours: we meet at the library.")
    _decision(AllianceFactory(), "Theirs: they meet at the park.")
    client.force_login(member_user)

    assert _texts(client.get(_url(alliance)).content.decode()) == ["Ours: we meet at the library."]


def test_an_alliance_without_decisions_says_how_they_arrive_and_offers_no_search(client, alliance, member_user):
    client.force_login(member_user)

    html = client.get(_url(alliance)).content.decode()

    assert "No decisions yet." in html
    assert 'role="search"' not in html


def test_the_decisions_tab_is_the_current_page_and_the_meetings_tab_is_not(client, alliance, member_user):
    client.force_login(member_user)

    nav = re.search(r'<nav aria-label="Alliance".*?</nav>', client.get(_url(alliance)).content.decode(), re.S)

    assert f'href="{_url(alliance)}" aria-current="page">Decisions</a>' in nav.group(0)
    assert 'aria-current="true"' not in nav.group(0)


def test_someone_outside_the_alliance_gets_404(client, alliance, outsider):
    _decision(alliance, "We meet at the library.")
    client.force_login(outsider)

    assert client.get(_url(alliance)).status_code == 404


def test_a_former_member_gets_404(client, alliance, member_user):
    _decision(alliance, "We meet at the library.")
    Member.objects.filter(alliance=alliance, user=member_user).update(is_active=False)
    client.force_login(member_user)

    assert client.get(_url(alliance)).status_code == 404


def test_a_new_decision_shows_at_once_although_the_page_is_kept(client, alliance, member_user):
    client.force_login(member_user)
    assert "No decisions yet." in client.get(_url(alliance)).content.decode()

    _decision(alliance, "We meet at the library.")

    assert _texts(client.get(_url(alliance)).content.decode()) == ["We meet at the library."]


# --- 50 a page ----------------------------------------------------------------------------------------


def _many(alliance: Alliance, count: int, *, text: str = "Decision {n}") -> None:
    meeting = MeetingFactory(alliance=alliance, starts_at=MARCH_3)
    ana = MemberFactory(alliance=alliance, user__display_name="Ana Ortiz")
    for n in range(count):
        _decision(
            alliance,
            text.format(n=n),
            meeting=meeting,
            decided_at=MARCH_3 + timedelta(minutes=n),
            stand_asides=((ana, f"Reason {n}"),),
        )


def test_a_long_log_shows_50_a_page_and_the_page_links_keep_the_search(client, alliance, member_user):
    _many(alliance, 55, text="Library decision {n}")
    client.force_login(member_user)

    first = client.get(_url(alliance)).content.decode()
    second = client.get(_url(alliance, page="2")).content.decode()
    searched = client.get(_url(alliance, q="library")).content.decode()

    assert len(_texts(first)) == 50
    assert _texts(first)[0] == "Library decision 54"
    assert _texts(second) == [f"Library decision {n}" for n in range(4, -1, -1)]
    assert "Page 1 of 2" in first
    assert 'href="?q=library&amp;page=2">Next page</a>' in searched


def _queries(client, url: str) -> int:
    client.get(url)  # warm what is cached per process (translations, content types)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    assert "Reason 2" in response.content.decode()  # the page shows its rows' stand-asides
    return len(captured)


@pytest.mark.usefixtures("page_cache_off")
@pytest.mark.parametrize("query", [{}, {"q": "library"}])
def test_the_log_costs_the_same_queries_with_3_decisions_and_with_60(client, member_user, query):
    small, large = AllianceFactory(), AllianceFactory()
    for alliance, count in ((small, 3), (large, 60)):
        MemberFactory(alliance=alliance, user=member_user)
        _many(alliance, count, text="Library decision {n}")
    client.force_login(member_user)

    # session, user, membership, the page of decisions with their count, the page's stand-asides
    assert _queries(client, _url(small, **query)) == _queries(client, _url(large, **query)) == 5
    assert _queries(client, _url(large, page="2", **query)) == 5


# --- Search: the input, and the fallback on SQLite ----------------------------------------------------


@pytest.mark.parametrize("typed", ["\x00library", "x" * 500, '  "unbalanced & | ! ( quote  ', "<script>"])
def test_any_search_text_answers_a_page(client, alliance, member_user, typed):
    _decision(alliance, "We meet at the library.")
    client.force_login(member_user)

    response = client.get(_url(alliance), {"q": typed})

    assert response.status_code == 200
    assert "<script>" not in response.content.decode()


def test_a_search_that_matches_nothing_says_so(client, alliance, member_user):
    _decision(alliance, "We meet at the library.")
    client.force_login(member_user)

    html = client.get(_url(alliance, q="zeppelin")).content.decode()

    assert "No decision matches your search." in html
    assert 'value="zeppelin"' in html


@pytest.mark.usefixtures("sqlite")
def test_on_sqlite_the_search_finds_the_words_as_typed_whatever_their_case(client, alliance, member_user):
    _decision(alliance, "We meet at the Library on Tuesdays.")
    _decision(alliance, "The newsletter goes out monthly.")
    client.force_login(member_user)

    html = client.get(_url(alliance, q="LIBRARY")).content.decode()

    assert _texts(html) == ["We meet at the Library on Tuesdays."]
    assert "1 decision matches “LIBRARY”." in html


# --- Search on PostgreSQL: full text in the reader's language, from the index --------------------------


def test_the_search_configuration_follows_the_readers_language():
    assert search_config("es") == "spanish"
    assert search_config("en") == "english"
    assert search_config("en-gb") == "english"
    assert search_config("fr") == "simple"
    assert search_config(None) == "simple"


@pytest.mark.usefixtures("postgresql")
def test_a_spanish_reader_finds_biblioteca_when_searching_bibliotecas(client, alliance, member_user):
    _decision(alliance, "Nos reunimos en la biblioteca del barrio.")
    _decision(alliance, "El boletín sale cada mes.")
    member_user.language = "es"
    member_user.save()
    client.force_login(member_user)

    html = client.get(_url(alliance, q="bibliotecas")).content.decode()

    assert _texts(html) == ["Nos reunimos en la biblioteca del barrio."]


@pytest.mark.usefixtures("postgresql")
def test_an_english_reader_finds_meeting_when_searching_meetings_and_ignores_stop_words(client, alliance, member_user):
    _decision(alliance, "The monthly meeting moves to Thursday.")
    _decision(alliance, "We print the newsletter.")
    client.force_login(member_user)

    assert _texts(client.get(_url(alliance, q="meetings")).content.decode()) == [
        "The monthly meeting moves to Thursday."
    ]
    # "the" is a stop word: the search is for "newsletter" alone.
    assert _texts(client.get(_url(alliance, q="the newsletters")).content.decode()) == ["We print the newsletter."]
    # websearch syntax: a word after "-" is excluded.
    assert _texts(client.get(_url(alliance, q="monthly -thursday")).content.decode()) == []


@pytest.mark.usefixtures("postgresql")
@pytest.mark.parametrize(("language", "config"), [("es", "spanish"), ("en", "english"), ("fr", "simple")])
def test_the_search_reads_the_gin_index_of_the_readers_language(alliance, language, config):
    _decision(alliance, "Nos reunimos en la biblioteca del barrio.")
    # Without the alliance's condition (whose own index the planner prefers for a handful of rows) and
    # with the table scan forbidden, the plan can only read the GIN index if the index's expression is the
    # query's (a query that did not repeat it exactly could only scan).
    found = Decision.objects.matching("bibliotecas", language=language)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        sql, params = found.query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert f"meetings_decision_search_{config}" in plan
