"""axe-core on every page, as a visitor and as a steward, on a desktop and on a phone-sized screen.

axe is injected with page.evaluate (our CSP blocks an injected <script> tag) from the copy that the
axe-playwright-python package ships.
"""

import re
from datetime import timedelta
from pathlib import Path

import axe_playwright_python
import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.tests.factories import PASSWORD, UserFactory
from alliances import services
from alliances.tests.factories import AllianceFactory, InvitationFactory, MemberFactory
from meetings import attendance, round_robins, run, steps
from meetings import services as meeting_services
from meetings.models import AgendaItem, Decision, Meeting, Proposal, RoundRobin, Stance
from meetings.tests.factories import AgendaItemFactory, MeetingFactory
from outbox.models import Delivery
from outbox.tests.factories import DeliveryFactory, MessageFactory
from tasks import services as todo_services
from tasks.links import done_token
from tasks.nudges import unsubscribe_token

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE_SOURCE = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


def _violations(page) -> list[str]:
    page.evaluate(AXE_SOURCE)
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
    ]


@pytest.fixture
def data(db):
    steward = UserFactory(email="stella@example.org", display_name="Stella Steward", is_staff=True, is_superuser=True)
    alliance = AllianceFactory(name="Barrio Readers", slug="barrio-readers")
    MemberFactory(alliance=alliance, user=steward, is_steward=True, organisation="Escuela Montessori")
    MemberFactory(alliance=alliance, user__display_name="Mia Member")
    # More than a page of members: the members page shows its search box and page links.
    MemberFactory.create_batch(55, alliance=alliance)
    norm = services.norm_add(alliance=alliance, text="We start on time.", agreed_on=None, by=steward)
    services.norm_add(alliance=alliance, text="We decide by consensus.", agreed_on=timezone.localdate(), by=steward)
    services.charter_set_logistics(
        alliance=alliance,
        by=steward,
        cadence="monthly",
        cadence_custom="",
        meeting_weekday=1,
        meeting_time=None,
        meeting_duration_minutes=90,
        time_zone="America/Puerto_Rico",
        venue_address="Biblioteca Municipal",
        video_link="https://meet.example.org/readers",
        info_sharing="A shared folder.",
        info_link="",
    )
    invitation = InvitationFactory(alliance=alliance, invited_by=steward)
    delivery = DeliveryFactory(
        message=MessageFactory(scope=alliance.mail_scope), status=Delivery.Status.FAILED, last_error="550 No such user"
    )
    steward_member = alliance.members.get(user=steward)
    meeting = meeting_services.meeting_schedule(
        alliance=alliance,
        by=steward_member,
        starts_at=timezone.now() + timedelta(days=10),
        duration_minutes=90,
        facilitator=steward_member,
        note_taker=alliance.members.get(user__display_name="Mia Member"),
        support_offered="Interpretation into Spanish.",
    )
    _decision(alliance, by=steward_member)
    # To-dos: the steward's own (one with an update, one done) and the member's, for the to-do pages.
    todo = todo_services.capture_todo(
        alliance=alliance, text="Ask the library for the room", owner=steward_member, by=steward_member
    )
    todo_services.add_update(todo=todo, text="Called them; waiting for an answer.", by=steward_member)
    done = todo_services.capture_todo(alliance=alliance, text="Send the flyer", owner=steward_member, by=steward_member)
    todo_services.mark_done(todo=done, by=steward_member)
    mia = alliance.members.get(user__display_name="Mia Member")
    todo_services.capture_todo(alliance=alliance, text="Bring the sign-up sheet", owner=mia, by=steward_member)
    return {
        "todo": todo,
        "todo_link": f"/todos/done/{done_token(todo)}/",
        "used_link": f"/todos/done/{done_token(done)}/",
        "unsubscribe": f"/unsubscribe/{unsubscribe_token(steward)}/",
        "steward": steward,
        "alliance": alliance,
        "norm": norm,
        "invitation": invitation,
        "delivery": delivery,
        "meeting": meeting,
    }


def _decision(alliance, *, by) -> None:
    """A decision of a past meeting, with a stand-aside, for the decision log."""
    meeting = MeetingFactory(alliance=alliance, starts_at=timezone.now() - timedelta(days=20))
    item = AgendaItemFactory(meeting=meeting, title="Where we meet", kind=AgendaItem.Kind.DECISION)
    proposal = Proposal.objects.create(
        item=item, number=1, text="We meet at the library.", outcome=Proposal.Outcome.CONSENSUS
    )
    Stance.objects.create(proposal=proposal, member=by, kind=Stance.Kind.STAND_ASIDE, reason="It is far for me.")
    Decision.objects.create(alliance=alliance, meeting=meeting, item=item, proposal=proposal, text=proposal.text)


def _run_to_the_evaluation_round(data) -> None:
    meeting, steward = data["meeting"], data["alliance"].members.get(user=data["steward"])
    meeting = run.start_meeting(meeting=meeting, by=steward)
    attendance.mark_attendance(meeting=meeting, member=steward, status="present", by=steward)
    while meeting.current_step != steps.LAST:
        meeting = run.go_to_next_step(meeting=meeting, by=steward)
    round_robins.start_round_robin(meeting=meeting, by=steward, evaluation=True, turn_seconds=120)


def _end_the_meeting(data) -> None:
    meeting, steward = data["meeting"], data["alliance"].members.get(user=data["steward"])
    round_robins.end_round_robin(round_robin=RoundRobin.objects.get(meeting=meeting, ended_at=None), by=steward)
    run.end_meeting(meeting=Meeting.objects.get(pk=meeting.pk), by=steward)


def _visitor_pages(data) -> list[str]:
    return [
        "/",
        "/accounts/login/",
        "/accounts/signup/",
        "/accounts/signup/resend/",
        "/accounts/password/reset/",
        f"/invitations/{data['invitation'].token}/",
        "/invitations/not-a-real-token/",
        # The one-click link from an email, open without signing in: the page, a used link, a broken one.
        data["todo_link"],
        data["used_link"],
        "/todos/done/not-a-real-token/",
        # The "stop these emails" link of every nudge: its page, and a broken one.
        data["unsubscribe"],
        "/unsubscribe/not-a-real-token/",
    ]


def _steward_pages(data) -> list[str]:
    base = "/alliances/barrio-readers"
    return [
        "/alliances/",
        "/alliances/new/",
        f"{base}/",
        f"{base}/charter/",
        f"{base}/charter/history/",
        f"{base}/charter/purpose/",
        f"{base}/charter/logistics/",
        f"{base}/charter/norms/new/",
        f"{base}/charter/norms/{data['norm'].pk}/edit/",
        f"{base}/members/",
        f"{base}/members/?page=2",
        f"{base}/members/?q=mia",
        f"{base}/members/?q=nobody",
        f"{base}/members/former/",
        f"{base}/members/me/",
        f"{base}/members/leave/",
        f"{base}/deliveries/",
        f"{base}/meetings/",
        f"{base}/meetings/new/",
        f"{base}/meetings/{data['meeting'].pk}/",
        f"{base}/meetings/{data['meeting'].pk}/edit/",
        # The live run of show before the start (the facilitator's start button, the attendance panel).
        f"{base}/meetings/{data['meeting'].pk}/live/",
        f"{base}/meetings/{data['meeting'].pk}/live/screen/",
        f"{base}/roles/",
        f"{base}/roles/?page=2",
        f"{base}/roles/?q=nobody",
        "/todos/",
        "/todos/?status=all",
        f"{base}/todos/",
        f"{base}/todos/?status=open&owner={data['todo'].owner_id}",
        f"{base}/todos/{data['todo'].pk}/",
        f"{base}/todos/{data['todo'].pk}/edit/",
        f"{base}/todos/new/",
        f"{base}/decisions/",
        f"{base}/decisions/?q=library",
        "/outbox/",
        f"/outbox/{data['delivery'].pk}/",
        "/accounts/profile/",
        "/accounts/password/change/",
        "/alliances/no-such-alliance/",
    ]


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_every_page_passes_axe(browser, site, data, viewport):
    # Reduced motion: Bootstrap then draws a button's hover colours at once instead of fading to them, so
    # axe never measures the contrast of a colour half-way through its transition.
    context = browser.new_context(viewport=VIEWPORTS[viewport], reduced_motion="reduce")
    page = context.new_page()
    problems = {}
    for path in _visitor_pages(data):
        page.goto(f"{site.url}{path}")
        problems[path] = _violations(page)
    # Forms showing their errors must be accessible too.
    page.goto(f"{site.url}/accounts/signup/")
    page.get_by_role("button", name="Create my account").click()
    problems["/accounts/signup/ (errors)"] = _violations(page)

    page.goto(f"{site.url}/accounts/login/")
    page.get_by_label(re.compile(r"^\s*Email address")).fill("stella@example.org")
    page.get_by_label(re.compile(r"^\s*Password")).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{site.url}/alliances/")
    for path in _steward_pages(data):
        page.goto(f"{site.url}{path}")
        problems[path] = _violations(page)
    page.goto(f"{site.url}/alliances/barrio-readers/charter/logistics/")
    page.get_by_label(re.compile(r"^\s*Usual duration")).fill("1")
    page.get_by_role("button", name="Save the logistics").click()
    problems["logistics (errors)"] = _violations(page)
    page.goto(f"{site.url}/alliances/barrio-readers/meetings/new/")
    page.get_by_label(re.compile(r"^\s*Date")).fill("2001-01-01")
    page.get_by_role("button", name="Schedule the meeting").click()
    expect(page.get_by_text("A meeting can only be scheduled in the future.")).to_be_visible()
    problems["schedule a meeting (errors)"] = _violations(page)
    page.goto(f"{site.url}/alliances/barrio-readers/todos/new/")
    page.get_by_role("button", name="Add the to-do").click()
    expect(page.get_by_text("Say what is to be done.")).to_be_visible()
    problems["new to-do (errors)"] = _violations(page)
    # Mark done in one click (htmx): the row says so, and its Undo takes the focus.
    page.goto(f"{site.url}/todos/")
    page.get_by_role("button", name="Mark done (Ask the library for the room)").click()
    expect(page.get_by_role("button", name="Undo (Ask the library for the room)")).to_be_focused()
    page.mouse.move(0, 0)  # the Undo appeared under the pointer: judge it as most readers see it, not hovered
    problems["my to-dos (marked done)"] = _violations(page)
    # The live run of show under way: the steps, a round robin with its countdown, every button shown.
    _run_to_the_evaluation_round(data)
    for suffix in ("live/", "live/screen/"):
        path = f"/alliances/barrio-readers/meetings/{data['meeting'].pk}/{suffix}"
        page.goto(f"{site.url}{path}")
        expect(page.locator("[data-until]").first).to_be_visible()
        problems[f"{path} (round robin)"] = _violations(page)
    # The notes once the meeting has ended: the draft with its Send button, then sent with the amendment
    # form, and the print page.
    _end_the_meeting(data)
    notes = f"/alliances/barrio-readers/meetings/{data['meeting'].pk}/notes/"
    page.goto(f"{site.url}{notes}")
    problems[f"{notes} (draft)"] = _violations(page)
    page.get_by_role("button", name="Send notes").click()
    expect(page.get_by_role("heading", name="Amend the notes")).to_be_visible()
    problems[f"{notes} (sent)"] = _violations(page)
    page.goto(f"{site.url}{notes}print/")
    problems[f"{notes}print/"] = _violations(page)
    context.close()

    report = [f"{path}: {problem}" for path, found in problems.items() for problem in found]
    assert not report, "axe found problems:\n" + "\n".join(report)
