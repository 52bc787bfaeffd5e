"""Who gets what, for every URL under /alliances/<slug>/.

The cases are built from `alliance_patterns`, so a URL added there is tried by every kind of reader
here; the classification test below fails until the new URL is said to be a member page or a
steward's page.

About GET on a POST-only URL: Django's `@require_POST` answers 405 before the view looks at the
reader, so an outsider, a former member and a non-steward get 405 there instead of 404 or 403. That
answer is the same for an alliance that does not exist, so it reveals nothing; the tests hold it to
exactly that.
"""

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.urls import reverse
from django.urls.resolvers import URLPattern
from django.utils import timezone

from alliances import services
from alliances.models import Alliance, Member
from alliances.tests.factories import AllianceFactory, InvitationFactory, MemberFactory, NormFactory
from alliances.urls import alliance_patterns
from meetings import services as meeting_services
from meetings.models import AgendaItem, Meeting, Proposal, RoundRobin, Turn
from meetings.tests.factories import AgendaItemFactory
from meetings.urls import meeting_patterns
from outbox.models import Delivery
from outbox.tests.factories import DeliveryFactory
from tasks.links import done_link
from tasks.models import Todo
from tasks.tests.factories import TodoFactory
from tasks.urls import alliance_todo_patterns

pytestmark = pytest.mark.django_db

MEMBER_PAGES = {
    "alliance_detail",
    "charter_detail",
    "charter_history",
    "member_list",
    "member_edit",
    "member_leave",
    "former_member_list",
}
STEWARD_ONLY = {
    "charter_purpose_edit",
    "charter_logistics_edit",
    "norm_create",
    "norm_edit",
    "norm_move",
    "norm_retire",
    "invitation_create",
    "invitation_cancel",
    "invitation_resend",
    "member_steward",
    "member_deactivate",
    "delivery_list",
    "delivery_retry",
}
POST_ONLY = {
    "norm_move",
    "norm_retire",
    "invitation_create",
    "invitation_cancel",
    "invitation_resend",
    "member_steward",
    "member_deactivate",
    "delivery_retry",
}
NO_SUCH_SLUG = "no-such-alliance"

PATTERNS: dict[str, URLPattern] = {pattern.name: pattern for pattern in alliance_patterns}


def _cases(names: set[str] | None = None) -> list:
    """A GET and a POST for each URL (of `names`, or all), named like `norm_move-get`."""
    return [
        pytest.param(name, method, id=f"{name}-{method}")
        for name in PATTERNS
        if names is None or name in names
        for method in ("get", "post")
    ]


@pytest.fixture
def targets(alliance, steward_user) -> dict[str, int]:
    """One object of each kind a URL can point at, keyed by the entity its URL name starts with."""
    delivery = DeliveryFactory(message__scope=alliance.mail_scope, status=Delivery.Status.FAILED)
    return {
        "norm": NormFactory(alliance=alliance).pk,
        "member": MemberFactory(alliance=alliance, user__display_name="Tom Target").pk,
        "invitation": InvitationFactory(alliance=alliance, invited_by=steward_user).pk,
        "delivery": delivery.pk,
    }


@pytest.fixture
def url_for(targets) -> Callable[[str, str], str]:
    def build(name: str, slug: str) -> str:
        # The slug comes from the enclosing `<slug:slug>/` include; the pattern's own converters follow.
        kwargs = {"slug": slug}
        for param in PATTERNS[name].pattern.converters:
            if param == "pk":
                entity = name.split("_")[0]
                assert entity in targets, f"No test object for the pk of {name!r}: add one to `targets`."
                kwargs["pk"] = targets[entity]
            else:
                pytest.fail(f"No test value for URL parameter {param!r} of {name!r}.")
        return reverse(f"alliances:{name}", kwargs=kwargs)

    return build


def _request(client, method: str, url: str):
    return getattr(client, method)(url)


def _refused(name: str, method: str, status: int) -> int:
    """What someone without the right gets: `status`, except 405 for GET on a POST-only URL."""
    return 405 if method == "get" and name in POST_ONLY else status


def test_every_alliance_url_is_classified_as_a_member_page_or_a_stewards_page():
    names = set(PATTERNS)

    assert names == MEMBER_PAGES | STEWARD_ONLY, "Add the new URL to MEMBER_PAGES or STEWARD_ONLY."
    assert not MEMBER_PAGES & STEWARD_ONLY
    assert names >= POST_ONLY


@pytest.mark.parametrize(("name", "method"), _cases())
def test_an_outsider_gets_not_found_as_for_an_alliance_that_does_not_exist(
    client, alliance, outsider, url_for, name, method
):
    # A steward of another alliance is still an outsider here.
    MemberFactory(alliance=AllianceFactory(), user=outsider, is_steward=True)
    client.force_login(outsider)

    response = _request(client, method, url_for(name, alliance.slug))
    missing = _request(client, method, url_for(name, NO_SUCH_SLUG))

    assert response.status_code == _refused(name, method, 404)
    assert missing.status_code == response.status_code


@pytest.mark.parametrize(("name", "method"), _cases())
def test_a_former_member_gets_not_found(client, alliance, steward_user, member_user, url_for, name, method):
    services.member_deactivate(member=Member.objects.get(alliance=alliance, user=member_user), by=steward_user)
    client.force_login(member_user)

    response = _request(client, method, url_for(name, alliance.slug))

    assert response.status_code == _refused(name, method, 404)


@pytest.mark.parametrize(("name", "method"), _cases())
def test_a_member_who_left_gets_not_found(client, alliance, steward_user, member_user, url_for, name, method):
    services.member_leave(member=Member.objects.get(alliance=alliance, user=member_user))
    client.force_login(member_user)

    response = _request(client, method, url_for(name, alliance.slug))

    assert response.status_code == _refused(name, method, 404)


@pytest.mark.parametrize(("name", "method"), _cases())
def test_an_anonymous_reader_is_sent_to_sign_in(client, alliance, url_for, name, method):
    url = url_for(name, alliance.slug)

    response = _request(client, method, url)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('accounts:login')}?next={url}"


@pytest.mark.parametrize(("name", "method"), _cases(STEWARD_ONLY))
def test_a_member_who_is_not_a_steward_is_forbidden_stewards_pages(
    client, alliance, steward_user, member_user, url_for, name, method
):
    client.force_login(member_user)

    response = _request(client, method, url_for(name, alliance.slug))

    assert response.status_code == _refused(name, method, 403)


@pytest.mark.parametrize(("name", "method"), _cases(MEMBER_PAGES))
def test_a_member_who_is_not_a_steward_may_use_member_pages(
    client, alliance, steward_user, member_user, url_for, name, method
):
    client.force_login(member_user)

    response = _request(client, method, url_for(name, alliance.slug))

    if method == "get" and name in POST_ONLY:
        assert response.status_code == 405
    else:
        assert response.status_code in (200, 302)


@pytest.mark.parametrize(("name", "method"), _cases())
def test_a_steward_may_use_every_page(client, alliance, steward_user, member_user, url_for, name, method):
    client.force_login(steward_user)

    response = _request(client, method, url_for(name, alliance.slug))

    if method == "get" and name in POST_ONLY:
        assert response.status_code == 405
    elif method == "get":
        assert response.status_code == 200
    else:
        # An empty POST may be refused as bad input (400) or redirect, but never for lack of rights.
        assert response.status_code in (200, 302, 400)


def test_a_steward_of_another_alliance_cannot_act_on_this_ones_objects(
    client, alliance, steward_user, member_user, targets
):
    other = AllianceFactory()
    MemberFactory(alliance=other, user=steward_user, is_steward=True)
    client.force_login(steward_user)

    for name in STEWARD_ONLY:
        if "pk" not in PATTERNS[name].pattern.converters:
            continue
        url = reverse(f"alliances:{name}", kwargs={"slug": other.slug, "pk": targets[name.split("_")[0]]})
        assert client.post(url).status_code == 404, name


def test_an_anonymous_reader_is_sent_to_sign_in_from_the_alliance_list_and_the_new_alliance_page(client, db):
    for url in (reverse("alliances:alliance_list"), reverse("alliances:alliance_create")):
        response = client.get(url)

        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))


def test_invitation_links_are_open_to_anonymous_readers(client, alliance):
    invitation = InvitationFactory(alliance=alliance)

    assert client.get(invitation.get_absolute_url()).status_code == 200


def test_the_calendar_feed_opens_to_its_token_alone_without_signing_in(client, alliance, member_user, outsider):
    """/calendar/<token>.ics: the token is the credential (meetings/feed.py), a session opens no other feed;
    replacing the token is the signed-in person's own POST."""
    feed = reverse("calendar_feed", args=[member_user.calendar_token])
    with_another_key = reverse("calendar_feed", args=[outsider.calendar_key + member_user.calendar_secret])
    replace = reverse("accounts:calendar_link_replace")

    assert client.get(feed).status_code == 200
    assert client.post(replace).status_code == 302  # to sign in
    client.force_login(outsider)
    assert client.get(with_another_key).status_code == 404
    assert client.get(reverse("calendar_feed", args=["x" * 44])).status_code == 404


def test_a_reader_with_no_alliance_sees_no_alliance_in_their_list(client, alliance, outsider):
    client.force_login(outsider)

    response = client.get(reverse("alliances:alliance_list"))

    assert list(response.context["memberships"]) == []
    assert alliance.name not in response.content.decode()


def test_the_alliances_a_reader_is_listed_are_exactly_those_whose_pages_open(
    client, alliance, steward_user, member_user, outsider
):
    # The list page reads `visible_to`, the alliance pages go through get_membership(): a reader must
    # never see an alliance listed that then answers 404, nor open one that their list leaves out.
    other = AllianceFactory(name="Other Alliance", slug="other-alliance")
    MemberFactory(alliance=other, user=steward_user)
    left = AllianceFactory(name="Left Alliance", slug="left-alliance")
    MemberFactory(alliance=left, user=member_user, is_active=False, end_reason=Member.EndReason.LEFT)
    alliances = [alliance, other, left]

    opened = {}
    for reader in (steward_user, member_user, outsider):
        client.force_login(reader)
        listing = client.get(reverse("alliances:alliance_list")).content.decode()
        listed = {a.slug for a in alliances if f'href="{a.get_absolute_url()}"' in listing}
        opened[reader.display_name] = {a.slug for a in alliances if client.get(a.get_absolute_url()).status_code == 200}
        assert listed == opened[reader.display_name], reader.display_name
        assert {a.slug for a in Alliance.objects.visible_to(reader)} == listed

    assert opened == {
        "Stella Steward": {"barrio-readers", "other-alliance"},
        "Mia Member": {"barrio-readers"},
        "Otto Outsider": set(),
    }


# --- The meetings app: every URL of meetings.urls.meeting_patterns --------------------------------------
# Adding a meeting URL: put its name in exactly one of MEETING_MEMBER_PAGES, MEETING_EDITOR_ONLY and
# MEETING_SCHEDULER_ONLY, and also in MEETING_POST_ONLY (@require_POST) or MEETING_GET_ONLY (@require_GET)
# if it takes one method only. A URL parameter other than `pk` (the meeting) needs a value in
# `meeting_kwargs` below. /work/notes/MEETINGS-permissions.md says the same for m2 and m3.

# Any active member: reading, apologies, proposing an item.
MEETING_MEMBER_PAGES = {
    "meeting_list",
    "meeting_detail",
    "roles",
    "apology_send",
    "apology_withdraw",
    "agenda_proposal_create",
    "agenda_print",
    "agenda_ics",
    # The live run of show: every member follows it (meetings/views/live.py).
    "live_detail",
    "live_state",
    "live_screen",
    # Recording at the live meeting (meetings/views/record.py): the current step's part and the review are
    # every member's to read; a stance and a takeaway are each member's own (the test's takeaway turn is the
    # plain member's), and a to-do is corrected by its owner (the test's to-do is the plain member's).
    "record_step",
    "meeting_review",
    "stance_record",
    "turn_takeaway_save",
    "todo_correct",
    # The decision log (meetings/views/decisions.py).
    "decision_list",
    # The notes (meetings/views/notes.py): every member reads them once sent; before that the page says
    # they are coming, and the print page and the export send a plain member back to it (302).
    "notes_detail",
    "notes_print",
    "notes_markdown",
}
# The meeting's facilitator and the stewards (403 for another member). Skipping and swapping a turn are
# also open to the member whose turn it is; the plain member of these tests holds no role.
MEETING_EDITOR_ONLY = {
    "meeting_edit",
    "meeting_cancel",
    "role_turn_skip",
    "role_turn_swap",
    "agenda_item_create",
    "agenda_item_edit",
    "agenda_item_remove",
    "agenda_item_move",
    "agenda_reorder",
    "agenda_segments_edit",
    "agenda_proposal_accept",
    "agenda_proposal_decline",
    "reflection_edit",
    "agenda_send",
    # Driving the live run of show. Attendance is also the note taker's, and passing the speaker's own.
    "live_start",
    "live_next_step",
    "live_previous_step",
    "live_end",
    "live_round_robin_start",
    "live_next_speaker",
    "live_pass",
    "live_round_robin_end",
    "live_attendance",
    # The consensus check and the to-dos of the live meeting: the note taker too. The next meeting: whoever
    # may schedule one (the stewards and the facilitator of the latest meeting, this one).
    "proposal_write",
    "proposal_check",
    "item_defer",
    "todo_capture",
    "next_meeting_set",
    # Sending and amending the notes: the note taker too.
    "notes_send",
    "notes_amend",
}
# The texts typed live: only the meeting's facilitator and note taker (a steward gets 403 too:
# meetings/texts.py).
MEETING_RECORDER_ONLY = {"turn_thought_save", "item_discussion_save", "proposal_text_save"}
# Open to the plain member (their own) and the facilitator, but not to a steward.
MEETING_NOT_FOR_STEWARDS = MEETING_RECORDER_ONLY | {"turn_takeaway_save"}
# A to-do is corrected by its owner, its meeting's note taker and the stewards, not by the facilitator.
MEETING_NOT_FOR_THE_FACILITATOR = {"todo_correct"}
# The stewards and the facilitator of the alliance's latest meeting.
MEETING_SCHEDULER_ONLY = {"meeting_create"}
MEETING_POST_ONLY = {
    "meeting_cancel",
    "apology_send",
    "apology_withdraw",
    "role_turn_skip",
    "role_turn_swap",
    "agenda_item_remove",
    "agenda_item_move",
    "agenda_reorder",
    "agenda_proposal_accept",
    "agenda_send",
    "live_start",
    "live_next_step",
    "live_previous_step",
    "live_end",
    "live_round_robin_start",
    "live_next_speaker",
    "live_pass",
    "live_round_robin_end",
    "live_attendance",
    "turn_thought_save",
    "turn_takeaway_save",
    "item_discussion_save",
    "proposal_write",
    "proposal_text_save",
    "stance_record",
    "proposal_check",
    "item_defer",
    "todo_capture",
    "todo_correct",
    "notes_send",
    "notes_amend",
}
MEETING_GET_ONLY = {
    "agenda_ics",
    "live_state",
    "record_step",
    "meeting_review",
    "notes_detail",
    "notes_print",
    "notes_markdown",
}

MEETING_PATTERNS: dict[str, URLPattern] = {pattern.name: pattern for pattern in meeting_patterns}


def _meeting_cases(names: set[str] | None = None) -> list:
    return [
        pytest.param(name, method, id=f"meetings:{name}-{method}")
        for name in MEETING_PATTERNS
        if names is None or name in names
        for method in ("get", "post")
    ]


def _meeting_refused(name: str, method: str, status: int) -> int:
    if (method == "get" and name in MEETING_POST_ONLY) or (method == "post" and name in MEETING_GET_ONLY):
        return 405
    return status


@pytest.fixture
def facilitator(alliance) -> Member:
    return MemberFactory(alliance=alliance, user__display_name="Fay Facilitator")


@pytest.fixture
def the_meeting(alliance, steward_user, member_user, facilitator) -> Meeting:
    """An upcoming meeting that the plain member `member` holds no role in."""
    return meeting_services.meeting_schedule(
        alliance=alliance,
        by=Member.objects.get(alliance=alliance, user=steward_user),
        starts_at=timezone.now() + timedelta(days=7),
        duration_minutes=90,
        facilitator=facilitator,
        note_taker=MemberFactory(alliance=alliance, user__display_name="Nat Notes"),
    )


@pytest.fixture
def meeting_url(the_meeting, member_user) -> Callable[[str, str], str]:
    item = AgendaItemFactory(meeting=the_meeting)
    proposal = AgendaItemFactory(meeting=the_meeting, status=AgendaItem.Status.PROPOSED)
    # The recording URLs' objects: the plain member's evaluation turn and to-do, a proposal on the item.
    member = Member.objects.get(alliance=the_meeting.alliance_id, user=member_user)
    evaluation = RoundRobin.objects.create(meeting=the_meeting, is_evaluation=True, order=[member.pk])
    turn = Turn.objects.create(round_robin=evaluation, member=member, position=0)
    put_to_check = Proposal.objects.create(item=item, number=1, text="Hold the fair in June.")
    todo = Todo.objects.create(
        alliance_id=the_meeting.alliance_id,
        meeting=the_meeting,
        item=item,
        text="Book the yard",
        owner=member,
        due_on=the_meeting.starts_at.date(),
    )

    def meeting_kwargs(name: str) -> dict[str, object]:
        """A value for each URL parameter: `item` is a proposal for the agenda proposal URLs, else an item."""
        return {
            "pk": the_meeting.pk,
            "item": proposal.pk if name.startswith("agenda_proposal") else item.pk,
            "role": "facilitator",
            "turn": turn.pk,
            "proposal": put_to_check.pk,
            "todo": todo.pk,
        }

    def build(name: str, slug: str) -> str:
        values = meeting_kwargs(name)
        kwargs = {"slug": slug}
        for param in MEETING_PATTERNS[name].pattern.converters:
            assert param in values, f"No test value for URL parameter {param!r} of {name!r}: add it to meeting_kwargs."
            kwargs[param] = values[param]
        return reverse(f"meetings:{name}", kwargs=kwargs)

    return build


def test_every_meeting_url_is_classified():
    names = set(MEETING_PATTERNS)
    classes = [MEETING_MEMBER_PAGES, MEETING_EDITOR_ONLY, MEETING_SCHEDULER_ONLY, MEETING_RECORDER_ONLY]

    assert names == set().union(*classes), "Add the new meeting URL to one of the MEETING_* sets."
    assert sum(len(c) for c in classes) == len(names), "A meeting URL is in two classes."
    assert names >= MEETING_POST_ONLY | MEETING_GET_ONLY
    assert not MEETING_POST_ONLY & MEETING_GET_ONLY


@pytest.mark.parametrize(("name", "method"), _meeting_cases())
def test_an_outsider_gets_not_found_for_every_meeting_url(client, alliance, outsider, meeting_url, name, method):
    MemberFactory(alliance=AllianceFactory(), user=outsider, is_steward=True)
    client.force_login(outsider)

    response = _request(client, method, meeting_url(name, alliance.slug))
    missing = _request(client, method, meeting_url(name, NO_SUCH_SLUG))

    assert response.status_code == _meeting_refused(name, method, 404)
    assert missing.status_code == response.status_code


@pytest.mark.parametrize(("name", "method"), _meeting_cases())
def test_a_former_member_gets_not_found_for_every_meeting_url(
    client, alliance, steward_user, member_user, meeting_url, name, method
):
    services.member_deactivate(member=Member.objects.get(alliance=alliance, user=member_user), by=steward_user)
    client.force_login(member_user)

    response = _request(client, method, meeting_url(name, alliance.slug))

    assert response.status_code == _meeting_refused(name, method, 404)


@pytest.mark.parametrize(("name", "method"), _meeting_cases())
def test_an_anonymous_reader_is_sent_to_sign_in_from_every_meeting_url(client, alliance, meeting_url, name, method):
    url = meeting_url(name, alliance.slug)

    response = _request(client, method, url)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('accounts:login')}?next={url}"


@pytest.mark.parametrize(
    ("name", "method"), _meeting_cases(MEETING_EDITOR_ONLY | MEETING_SCHEDULER_ONLY | MEETING_RECORDER_ONLY)
)
def test_a_member_without_the_role_is_forbidden_to_edit_a_meeting(
    client, alliance, member_user, meeting_url, name, method
):
    client.force_login(member_user)

    response = _request(client, method, meeting_url(name, alliance.slug))

    assert response.status_code == _meeting_refused(name, method, 403)


@pytest.mark.parametrize(("name", "method"), _meeting_cases(MEETING_MEMBER_PAGES))
def test_every_member_reads_meetings_and_sends_apologies(client, alliance, member_user, meeting_url, name, method):
    client.force_login(member_user)

    response = _request(client, method, meeting_url(name, alliance.slug))

    expected = _meeting_refused(name, method, 0)
    assert response.status_code == expected if expected else response.status_code in (200, 302)


@pytest.mark.parametrize("reader", ["facilitator", "steward"])
@pytest.mark.parametrize(("name", "method"), _meeting_cases())
def test_the_meetings_facilitator_and_a_steward_may_use_every_meeting_url(
    client, alliance, steward_user, facilitator, meeting_url, name, method, reader
):
    client.force_login(facilitator.user if reader == "facilitator" else steward_user)

    response = _request(client, method, meeting_url(name, alliance.slug))

    refused = name in (MEETING_NOT_FOR_STEWARDS if reader == "steward" else MEETING_NOT_FOR_THE_FACILITATOR)
    expected = _meeting_refused(name, method, 403 if refused else 0)
    if expected:
        assert response.status_code == expected
    elif method == "get":
        assert response.status_code == 200
    else:
        # An empty POST may be refused as bad input (400) or redirect, but never for lack of rights.
        assert response.status_code in (200, 302, 400)


def test_a_steward_cannot_reach_another_alliances_meeting_through_their_own_alliance(
    client, alliance, steward_user, the_meeting
):
    other = AllianceFactory()
    MemberFactory(alliance=other, user=steward_user, is_steward=True)
    client.force_login(steward_user)

    for name, pattern in MEETING_PATTERNS.items():
        if set(pattern.pattern.converters) != {"pk"}:
            continue
        url = reverse(f"meetings:{name}", kwargs={"slug": other.slug, "pk": the_meeting.pk})
        method = "get" if name in MEETING_GET_ONLY else "post"
        assert _request(client, method, url).status_code == 404, name


# --- The to-dos app: every URL of tasks.urls.alliance_todo_patterns, and the reader's own ------------------
# Adding a to-do URL under the alliance: put its name in TASKS_MEMBER_PAGES (any member) or TASKS_CHANGER_ONLY
# (the to-do's owner, its meeting's note taker and the stewards; 403 for another member), and in
# TASKS_POST_ONLY if it takes POST only. The to-do of these tests belongs to a third member and to no
# meeting, so the plain member may read it but not change it.

TASKS_MEMBER_PAGES = {"todo_list", "todo_create", "todo_detail"}
TASKS_CHANGER_ONLY = {"todo_edit", "todo_done", "todo_reopen", "todo_drop", "todo_update_add"}
TASKS_POST_ONLY = {"todo_done", "todo_reopen", "todo_drop", "todo_update_add"}

TASKS_PATTERNS: dict[str, URLPattern] = {pattern.name: pattern for pattern in alliance_todo_patterns}


def _todo_cases(names: set[str] | None = None) -> list:
    return [
        pytest.param(name, method, id=f"tasks:{name}-{method}")
        for name in TASKS_PATTERNS
        if names is None or name in names
        for method in ("get", "post")
    ]


def _todo_refused(name: str, method: str, status: int) -> int:
    return 405 if method == "get" and name in TASKS_POST_ONLY else status


@pytest.fixture
def the_owner(alliance) -> Member:
    return MemberFactory(alliance=alliance, user__display_name="Owen Owner")


@pytest.fixture
def todo_url(alliance, the_owner) -> Callable[[str, str], str]:
    todo = TodoFactory(alliance=alliance, owner=the_owner)

    def build(name: str, slug: str) -> str:
        kwargs: dict[str, object] = {"slug": slug}
        for param in TASKS_PATTERNS[name].pattern.converters:
            assert param == "pk", f"No test value for URL parameter {param!r} of {name!r}."
            kwargs["pk"] = todo.pk
        return reverse(f"tasks:{name}", kwargs=kwargs)

    return build


def test_every_to_do_url_is_classified():
    names = set(TASKS_PATTERNS)

    assert names == TASKS_MEMBER_PAGES | TASKS_CHANGER_ONLY, "Add the new to-do URL to one of the TASKS_* sets."
    assert not TASKS_MEMBER_PAGES & TASKS_CHANGER_ONLY
    assert names >= TASKS_POST_ONLY


@pytest.mark.parametrize(("name", "method"), _todo_cases())
def test_an_outsider_gets_not_found_for_every_to_do_url(client, alliance, outsider, todo_url, name, method):
    MemberFactory(alliance=AllianceFactory(), user=outsider, is_steward=True)
    client.force_login(outsider)

    response = _request(client, method, todo_url(name, alliance.slug))
    missing = _request(client, method, todo_url(name, NO_SUCH_SLUG))

    assert response.status_code == _todo_refused(name, method, 404)
    assert missing.status_code == response.status_code


@pytest.mark.parametrize(("name", "method"), _todo_cases())
def test_a_former_member_gets_not_found_for_every_to_do_url(
    client, alliance, steward_user, member_user, todo_url, name, method
):
    services.member_deactivate(member=Member.objects.get(alliance=alliance, user=member_user), by=steward_user)
    client.force_login(member_user)

    response = _request(client, method, todo_url(name, alliance.slug))

    assert response.status_code == _todo_refused(name, method, 404)


@pytest.mark.parametrize(("name", "method"), _todo_cases())
def test_an_anonymous_reader_is_sent_to_sign_in_from_every_to_do_url(client, alliance, todo_url, name, method):
    url = todo_url(name, alliance.slug)

    response = _request(client, method, url)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('accounts:login')}?next={url}"


@pytest.mark.parametrize(("name", "method"), _todo_cases(TASKS_CHANGER_ONLY))
def test_a_member_who_does_not_own_the_to_do_is_forbidden_to_change_it(
    client, alliance, member_user, todo_url, name, method
):
    client.force_login(member_user)

    response = _request(client, method, todo_url(name, alliance.slug))

    assert response.status_code == _todo_refused(name, method, 403)


@pytest.mark.parametrize(("name", "method"), _todo_cases(TASKS_MEMBER_PAGES))
def test_every_member_reads_the_to_dos_and_adds_one(client, alliance, member_user, todo_url, name, method):
    client.force_login(member_user)

    response = _request(client, method, todo_url(name, alliance.slug))

    # An empty new to-do is refused as bad input (400), never for lack of rights.
    assert response.status_code in ((200,) if method == "get" else (200, 302, 400))


@pytest.mark.parametrize("reader", ["owner", "steward"])
@pytest.mark.parametrize(("name", "method"), _todo_cases())
def test_the_owner_and_a_steward_may_use_every_to_do_url(
    client, alliance, steward_user, the_owner, todo_url, name, method, reader
):
    client.force_login(the_owner.user if reader == "owner" else steward_user)

    response = _request(client, method, todo_url(name, alliance.slug))

    if method == "get":
        assert response.status_code == _todo_refused(name, method, 200)
    else:
        assert response.status_code in (200, 302, 400)


def test_a_steward_cannot_reach_another_alliances_to_do_through_their_own_alliance(
    client, alliance, steward_user, todo_url
):
    other = AllianceFactory()
    MemberFactory(alliance=other, user=steward_user, is_steward=True)
    client.force_login(steward_user)

    for name in TASKS_PATTERNS:
        if "pk" not in TASKS_PATTERNS[name].pattern.converters:
            continue
        url = todo_url(name, alliance.slug).replace(f"/{alliance.slug}/", f"/{other.slug}/", 1)
        assert client.post(url).status_code == 404, name


def test_my_to_dos_and_its_buttons_send_an_anonymous_reader_to_sign_in(client, alliance, the_owner):
    todo = TodoFactory(alliance=alliance, owner=the_owner)
    for name, kwargs, method in [
        ("my_todos", {}, "get"),
        ("my_todo_done", {"pk": todo.pk}, "post"),
        ("my_todo_reopen", {"pk": todo.pk}, "post"),
    ]:
        url = reverse(f"tasks:{name}", kwargs=kwargs)
        response = _request(client, method, url)
        assert response.status_code == 302, name
        assert response["Location"] == f"{reverse('accounts:login')}?next={url}"


def test_my_to_dos_buttons_find_nobody_elses_to_do(client, alliance, steward_user, the_owner):
    # A steward may change the owner's to-do on the alliance's pages, but My to-dos is only ever the reader's.
    todo = TodoFactory(alliance=alliance, owner=the_owner)
    client.force_login(steward_user)

    for name in ("my_todo_done", "my_todo_reopen"):
        assert client.post(reverse(f"tasks:{name}", kwargs={"pk": todo.pk})).status_code == 404, name
        assert client.get(reverse(f"tasks:{name}", kwargs={"pk": todo.pk})).status_code == 405, name


def test_the_one_click_link_page_is_open_to_anonymous_readers_and_a_bad_link_changes_nothing(
    client, alliance, the_owner
):
    todo = TodoFactory(alliance=alliance, owner=the_owner)

    assert client.get(done_link(todo).removeprefix("http://testserver")).status_code == 200
    bad = reverse("tasks:todo_link", kwargs={"token": "forged:token:here"})
    assert client.get(bad).status_code == 400
    assert client.post(bad).status_code == 400
    todo.refresh_from_db()
    assert todo.is_open
