"""Issue 10's "done when", in real browsers: on the demo alliance (as `seed_demo` leaves it), the facilitator
and the note taker run the upcoming meeting from start to end on two browsers, while a participant on a third
and the big screen on a fourth follow live, never reloaded: attendance with a late arrival, the reflection in
full, a round robin with a pass, a proposal blocked from the participant's own device, amended and agreed
with one stand-aside, two to-dos, the next meeting set with the rotation's roles, five takeaways (one typed
by its own member). The note taker's connection is cut for ten seconds mid-sentence and nothing is lost.

The note taker of the demo's next meeting reads the site in Spanish: her page is driven through ids, values
and names, and the words of its statuses are read from the page itself."""

import logging
import re
from datetime import timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from alliances.models import Alliance, Member
from meetings import rotation
from meetings.models import AgendaItem, Attendance, Decision, Meeting, Proposal, Reflection, Stance, Turn
from tasks.models import Todo
from tests.browser.conftest import signed_in_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# What the issue asks: each change seen within 2 s; 2.5 s leaves room for the browser's own work.
WITHIN_MS = 2500

PROPOSAL = "Apply for the small grant in March, for books in Spanish and English."
BLOCK = "March is too soon: the library's form needs the board's signature, and the board meets in April."
AMENDMENT = "Apply for the small grant in April, once the board has signed, for books in Spanish and English."
STAND_ASIDE = "I would rather spend the grant on the reading buddies, but I won't stand in the way."
THOUGHTS = [
    "Books in both languages, at last.",
    "We can apply together with the school library, which makes it a stronger application.",
    "The deadline is tight.",
    "Mind the signatures this time.",
]
# The note taker's sentence, cut in the middle by the lost connection.
OFFLINE_START = "We can apply together with the school library, "
TAKEAWAYS = [
    "The block saved us a refusal.",
    "Everyone heard once.",
    "The big screen helped.",
    "Late, but I caught it.",
]
OWN_TAKEAWAY = "I blocked and was heard."


@pytest.fixture
def demo(db):
    """The demo alliance as `seed_demo` leaves it, and who plays which part at its upcoming meeting."""
    call_command("seed_demo", stdout=StringIO())
    alliance = Alliance.objects.get(slug="barrio-readers")
    meeting = Meeting.objects.for_alliance(alliance).get(status=Meeting.Status.SCHEDULED)
    members = list(Member.objects.active().filter(alliance=alliance).select_related("user").order_by("joined_at", "pk"))
    assert len(members) == 6
    facilitator = next(m for m in members if m.pk == meeting.facilitator_id)
    note_taker = next(m for m in members if m.pk == meeting.note_taker_id)
    others = [m for m in members if m not in (facilitator, note_taker)]
    # The participant and the big screen read the site in English (the texts asserted on their pages).
    english = [m for m in others if m.user.language == "en"]
    participant, screen_viewer = english[0], english[1]
    late, away = [m for m in others if m not in (participant, screen_viewer)]
    assert facilitator.user.language == "en"
    return {
        "alliance": alliance,
        "meeting": meeting,
        "members": members,
        "facilitator": facilitator,
        "note_taker": note_taker,
        "participant": participant,
        "screen_viewer": screen_viewer,
        "late": late,
        "away": away,
        "decision_item": meeting.items.get(kind=AgendaItem.Kind.DECISION),
        "reflection": Reflection.objects.get(meeting=meeting),
    }


def _name(member: Member) -> str:
    return member.user.display_name


class Screens:
    """Signed-in pages, one per member and browser context, closed before the live server and the database go
    (so that no poll reaches a server being torn down).

    The test database, SQLite in memory shared by the live server's threads, refuses a write that meets
    another thread's read with "database table is locked" (a 500), where the real SQLite file (WAL, a busy
    timeout) and PostgreSQL wait. With four pages polling every second, a button pressed in the test would now
    and then meet that refusal, which no real server gives. So on SQLite a button's request (a POST) is asked
    again when it meets it, as the real server would have waited (the polls and the recording part's refresh
    ask again by themselves); the test checks at its end that every 500 was that lock and nothing else. A
    context cut off from the network is left alone: its requests fail as they should.
    """

    def __init__(self, browser, site) -> None:
        self.browser, self.site = browser, site
        self.pages: list = []
        self.cut: set = set()

    def open(self, member: Member):
        page = signed_in_page(self.browser, self.site, member)
        problems: list[str] = []
        page.on("pageerror", lambda error: problems.append(str(error)))
        self.pages.append(page)
        if connection.vendor == "sqlite":
            page.context.route(re.compile(r".*/meetings/\d+/(live|record)/.*"), self._through_table_locks)
        return page, problems

    def set_offline(self, page, offline: bool) -> None:
        (self.cut.add if offline else self.cut.discard)(page.context)
        page.context.set_offline(offline)

    def _through_table_locks(self, route) -> None:
        request = route.request
        if request.method != "POST" or request.frame.page.context in self.cut:
            route.fallback()
            return
        try:
            for _attempt in range(5):
                response = route.fetch(max_redirects=0)
                if response.status != 500:
                    break
            route.fulfill(response=response)
        except PlaywrightError:
            route.abort()

    def close(self) -> None:
        for page in self.pages:
            page.context.close()


@pytest.fixture
def screens(browser, site):
    opened = Screens(browser, site)
    yield opened
    opened.close()


def _server_errors_other_than_table_locks(caplog) -> list[str]:
    errors = [r for r in caplog.records if r.name == "django.request" and r.levelno >= logging.ERROR]
    return [r.getMessage() for r in errors if not (r.exc_info and "table is locked" in str(r.exc_info[1]))]


def _text_of(page, member: Member):
    """The autosaved text on the note taker's page whose label names the member (a thought, a takeaway)."""
    return page.locator("#record-step .record-text").filter(has=page.locator("label", has_text=_name(member)))


def test_the_demo_meeting_is_run_from_start_to_end_on_four_screens(site, screens, demo, caplog):
    meeting, item = demo["meeting"], demo["decision_item"]
    facilitator, note_taker, participant = demo["facilitator"], demo["note_taker"], demo["participant"]
    late, away, screen_viewer = demo["late"], demo["away"], demo["screen_viewer"]
    present = [facilitator, note_taker, participant, screen_viewer, late]
    url = f"{site.url}/alliances/barrio-readers/meetings/{meeting.pk}/live/"

    fac, fac_problems = screens.open(facilitator)
    notes, notes_problems = screens.open(note_taker)
    theirs, their_problems = screens.open(participant)
    screen, screen_problems = screens.open(screen_viewer)
    for page in (fac, notes, theirs):
        page.goto(url)
    screen.goto(url + "screen/")
    expect(theirs.locator("#live-now-heading")).to_have_text("The meeting has not started yet.")
    expect(screen.locator(".live-screen-step")).to_have_text("The meeting has not started yet.")
    # Marks in the pages' own memory: they would vanish if a page reloaded.
    for page in (theirs, screen):
        page.evaluate("window.journeyMark = 'kept'")

    now_here = fac.locator("#live-now-heading")
    now_there = theirs.locator("#live-now-heading")
    on_screen = screen.locator(".live-screen-step")

    def followed(title: str) -> None:
        """The facilitator's page, then (within 2 s) the participant's page and the big screen show the step."""
        expect(now_here).to_contain_text(title)
        expect(now_there).to_contain_text(title, timeout=WITHIN_MS)
        expect(on_screen).to_contain_text(title, timeout=WITHIN_MS)

    def next_step(title: str) -> None:
        """The facilitator presses "n", the shortcut shown beside the button."""
        fac.keyboard.press("n")
        followed(title)

    # --- The start, and the roll taken during the bonding moment ---------------------------------------
    expect(fac.locator("kbd", has_text="n")).to_be_hidden()
    fac.get_by_role("button", name="Start the meeting").click()
    followed("Bonding social moment")
    expect(fac.locator("kbd", has_text="n")).to_be_visible()

    def mark_present(member: Member) -> None:
        button = notes.locator(f'#live-attendance button[name=mark][value="{member.pk}:present"]')
        button.click()
        expect(button).to_have_attribute("aria-pressed", "true")

    for member in (facilitator, note_taker, participant, screen_viewer):
        mark_present(member)

    # --- The opening reflection, in full; someone arrives late --------------------------------------------
    next_step("Opening reflection")
    reflection = demo["reflection"]
    shown = theirs.locator("#live-state .live-reflection")
    expect(shown.locator("blockquote")).to_have_text(reflection.text)
    expect(shown.locator("figcaption")).to_have_text(reflection.source)
    mark_present(late)
    # The facilitator's attendance panel, never reloaded, says who arrived late (and only them).
    expect(fac.locator(f'[data-attendance-row="{late.pk}"] [data-attendance-late]')).to_be_visible(timeout=WITHIN_MS)
    expect(fac.locator(f'[data-attendance-row="{participant.pk}"] [data-attendance-late]')).to_be_hidden()

    next_step("Agenda review")
    titles = list(meeting.items.order_by("position").values_list("title", flat=True))
    next_step(titles[0])
    next_step(titles[1])
    # The button works as well as its shortcut.
    fac.get_by_role("button", name="Next step").click()
    followed(item.title)
    expect(now_there.locator(".badge")).to_have_text("Decision")

    # --- A round robin on the decision item: the note taker types the thoughts, the participant passes ----
    fac.get_by_label("Seconds per turn (optional)").fill("120")
    fac.get_by_role("button", name="Start a round robin").click()
    speaker = fac.locator("#live-state .live-speaker strong")
    round_robin = fac.locator("#live-state .live-round-robin")
    saved = notes.locator("#record-step").get_attribute("data-text-saved")
    offline = notes.locator("#record-step").get_attribute("data-text-offline")
    thoughts = iter(THOUGHTS)
    typed: dict[int, str] = {}
    for position in range(1, len(present) + 1):
        expect(round_robin).to_contain_text(f"Turn {position} of {len(present)}.")
        name = speaker.inner_text()
        # Who speaks is the same on every screen, with the turn's countdown on the big screen.
        expect(theirs.locator("#live-state .live-speaker strong")).to_have_text(name, timeout=WITHIN_MS)
        expect(screen.locator(".live-screen-name")).to_have_text(name, timeout=WITHIN_MS)
        expect(screen.locator(".live-screen-countdown")).to_be_visible()
        if name == _name(participant):
            pass_button = theirs.get_by_role("button", name="Pass my turn")
            expect(pass_button).to_be_visible(timeout=WITHIN_MS)
            pass_button.click()
            continue
        member = next(m for m in present if _name(m) == name)
        thought = next(thoughts)
        group = _text_of(notes, member)
        field, status = group.locator("textarea"), group.locator(".record-status")
        if thought.startswith(OFFLINE_START):
            _type_through_a_cut(screens, notes, field, status, thought, saved=saved, offline=offline, member=member)
        else:
            # The facilitator moves on as soon as it is typed: the save follows on its own.
            field.press_sequentially(thought, delay=5)
        typed[member.pk] = thought
        fac.keyboard.press("s")
    expect(fac.locator("#live-round-robin-heading")).to_be_hidden()
    for member in (m for m in present if m.pk in typed):
        expect(_text_of(notes, member).locator(".record-status")).to_have_text(saved, timeout=5000)
    expect(theirs.locator("#live-round-robin-heading")).to_be_hidden(timeout=WITHIN_MS)

    # --- The proposal: blocked from the participant's own device ------------------------------------------
    notes.locator(f"#record-proposal-new-{item.pk}").fill(PROPOSAL)
    notes.locator(f"#record-proposal-form-{item.pk} button[type=submit]").click()
    expect(theirs.locator("#live-check-heading")).to_have_text(
        "Consensus check on proposal version 1", timeout=WITHIN_MS
    )
    own = theirs.locator("form[id^='record-stance-form-']")
    expect(own).to_be_visible(timeout=WITHIN_MS)
    expect(theirs.locator("#record-step")).to_contain_text(PROPOSAL)
    own.get_by_label("Block").check()
    own.get_by_label("Reason").fill(BLOCK)
    own.get_by_role("button", name="Record my stance").click()
    expect(theirs.locator("#record-notice")).to_contain_text(f"Stance recorded: {_name(participant)}")
    missing = notes.locator("#record-missing")
    expect(missing).not_to_contain_text(_name(participant), timeout=4000)
    for member in (facilitator, note_taker, screen_viewer, late):
        _record_stance(notes, member, "agree", own=member == note_taker)
    expect(theirs.locator("#live-state")).to_contain_text("Stances recorded: 5 of 5.", timeout=WITHIN_MS)
    _resolve(fac)
    check = theirs.locator("#live-check-heading").locator("..")
    expect(check).to_contain_text("Blocked", timeout=WITHIN_MS)

    # --- Amended, then agreed with one stand-aside ---------------------------------------------------------
    amend = notes.locator(f"#record-proposal-new-{item.pk}")
    expect(amend).to_have_value(PROPOSAL)
    amend.fill(AMENDMENT)
    notes.locator(f"#record-proposal-form-{item.pk} button[type=submit]").click()
    expect(theirs.locator("#live-check-heading")).to_have_text(
        "Consensus check on proposal version 2", timeout=WITHIN_MS
    )
    expect(theirs.locator("#record-step")).to_contain_text(AMENDMENT, timeout=WITHIN_MS)
    own = theirs.locator("form[id^='record-stance-form-']")
    own.get_by_label("Agree").check()
    own.get_by_role("button", name="Record my stance").click()
    expect(theirs.locator("#record-notice")).to_contain_text(f"Stance recorded: {_name(participant)}")
    expect(missing).not_to_contain_text(_name(participant), timeout=4000)
    for member in (facilitator, note_taker, screen_viewer):
        _record_stance(notes, member, "agree", own=member == note_taker)
    _record_stance(notes, late, "stand_aside", reason=STAND_ASIDE)
    _resolve(fac)
    decision = theirs.locator("#live-decision-heading").locator("..")
    expect(decision).to_contain_text(AMENDMENT, timeout=WITHIN_MS)
    expect(theirs.locator("#live-announcer")).to_contain_text(f"Decision on {item.title}", timeout=WITHIN_MS)
    expect(screen.locator(".live-screen-decision")).to_contain_text(AMENDMENT, timeout=WITHIN_MS)

    # --- Two to-dos, each with its owner and due date ----------------------------------------------------------
    today = timezone.now().astimezone(ZoneInfo(demo["alliance"].time_zone)).date()
    todos = [
        ("Ask the board to sign the grant application", screen_viewer, today + timedelta(days=20)),
        ("List the books in Spanish we want", participant, today + timedelta(days=10)),
    ]
    for text, owner, due in todos:
        form = notes.locator("#record-todo-new-form")
        form.locator("#record-todo-new-form-text").fill(text)
        form.locator("#record-todo-new-form-owner").select_option(str(owner.pk))
        form.locator("#record-todo-new-form-due").fill(due.isoformat())
        form.locator("button[type=submit]").click()
        expect(notes.locator("#record-todo-list")).to_contain_text(text)
        expect(theirs.locator("#record-todo-list")).to_contain_text(f"{text} — {_name(owner)}", timeout=WITHIN_MS)

    # --- The review, then the next meeting with the rotation's roles -------------------------------------
    next_step("Review of decisions and to-dos")
    review = fac.locator("#record-step")
    expect(review).to_contain_text(AMENDMENT)
    expect(review).to_contain_text(f"{_name(late)} — {STAND_ASIDE}")
    expect(review).to_contain_text("Amended: 2 versions.")
    for text, _owner, _due in todos:
        expect(review).to_contain_text(text)

    next_step("Next meeting's logistics")
    suggested = rotation.suggest_roles(
        candidates=demo["members"], turns=rotation.role_history(alliance=demo["alliance"])
    )
    assert {m.pk for m in suggested}.isdisjoint({facilitator.pk, note_taker.pk})
    form = fac.locator("#record-next-form")
    expect(form.get_by_label("Facilitator", exact=True)).to_have_value(str(suggested[0].pk))
    expect(form.get_by_label("Note taker", exact=True)).to_have_value(str(suggested[1].pk))
    form.get_by_role("button", name="Set the next meeting").click()
    expect(fac.locator("#record-step")).to_contain_text("The next meeting is set")
    roles = f"Facilitator: {_name(suggested[0])} · Note taker: {_name(suggested[1])}"
    expect(theirs.locator("#record-step")).to_contain_text(roles, timeout=WITHIN_MS)
    # It is the alliance's next meeting at once (the one under way, started before its time, is not).
    home = theirs.context.new_page()
    home.goto(f"{site.url}/alliances/barrio-readers/")
    expect(home.locator("#next-meeting-heading").locator("..")).to_contain_text(roles)
    home.close()

    # --- The closing evaluation: five takeaways, one typed by its own member ------------------------------
    next_step("Closing evaluation round")
    fac.get_by_role("button", name="Start a round robin").click()
    takeaways = iter(TAKEAWAYS)
    said: dict[int, str] = {}
    for position in range(1, len(present) + 1):
        expect(round_robin).to_contain_text(f"Turn {position} of {len(present)}.")
        name = speaker.inner_text()
        expect(screen.locator(".live-screen-name")).to_have_text(name, timeout=WITHIN_MS)
        member = next(m for m in present if _name(m) == name)
        if member == participant:
            mine = theirs.locator("#record-step .record-text").first
            expect(mine.locator("label.form-label")).to_have_text(f"Takeaway of {name}", timeout=WITHIN_MS)
            mine.locator("textarea").press_sequentially(OWN_TAKEAWAY, delay=5)
            mine.get_by_label("4 — Very good").check()
            expect(mine.locator(".record-status")).to_have_text("Saved", timeout=5000)
            said[member.pk] = OWN_TAKEAWAY
        else:
            text = next(takeaways)
            group = _text_of(notes, member)
            expect(group).to_be_visible(timeout=WITHIN_MS)
            group.locator("textarea").press_sequentially(text, delay=5)
            said[member.pk] = text
        fac.keyboard.press("s")
    for member in present:
        if member != participant:
            expect(_text_of(notes, member).locator(".record-status")).to_have_text(saved, timeout=5000)
    end = fac.get_by_role("button", name="End the meeting")
    expect(end).to_be_visible()
    end.click()
    expect(now_here).to_have_text("The meeting has ended.")
    expect(now_there).to_have_text("The meeting has ended.", timeout=WITHIN_MS)
    expect(on_screen).to_have_text("The meeting has ended.", timeout=WITHIN_MS)
    expect(screen.locator(".live-screen-decision")).to_contain_text(AMENDMENT)

    # Nobody reloaded, and no script failed on any of the four screens.
    for page in (theirs, screen):
        assert page.evaluate("window.journeyMark") == "kept"
    assert fac_problems == notes_problems == their_problems == screen_problems == []
    assert _server_errors_other_than_table_locks(caplog) == []

    # --- What the database holds -----------------------------------------------------------------------
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.ENDED
    assert meeting.ended_by_id == facilitator.pk
    roll = {row.member_id: row for row in meeting.attendance.all()}
    assert {pk for pk, row in roll.items() if row.status == Attendance.Status.PRESENT} == {m.pk for m in present}
    assert roll[away.pk].status == Attendance.Status.ABSENT
    assert roll[late.pk].arrived_at is not None
    assert [pk for pk, row in roll.items() if row.arrived_at is not None] == [late.pk]

    discussion_round = meeting.round_robins.get(item=item)
    turns = {turn.member_id: turn for turn in discussion_round.turns.all()}
    assert turns[participant.pk].passed
    assert turns[participant.pk].thought == ""
    assert {pk: turn.thought for pk, turn in turns.items() if not turn.passed} == typed

    first, second = Proposal.objects.filter(item=item).order_by("number")
    assert (first.text, first.outcome) == (PROPOSAL, Proposal.Outcome.BLOCKED)
    block = first.stances.get(kind=Stance.Kind.BLOCK)
    assert (block.member_id, block.recorded_by_id, block.reason) == (participant.pk, participant.pk, BLOCK)
    assert first.stances.filter(kind=Stance.Kind.AGREE).count() == 4
    assert (second.text, second.outcome) == (AMENDMENT, Proposal.Outcome.CONSENSUS)
    decision_row = Decision.objects.get(item=item)
    assert (decision_row.proposal_id, decision_row.text, decision_row.meeting_id) == (second.pk, AMENDMENT, meeting.pk)
    aside = second.stances.get(kind=Stance.Kind.STAND_ASIDE)
    assert (aside.member_id, aside.recorded_by_id, aside.reason) == (late.pk, note_taker.pk, STAND_ASIDE)
    assert not second.stances.filter(kind=Stance.Kind.BLOCK).exists()
    assert second.stances.get(member=participant).recorded_by_id == participant.pk

    assert [(t.text, t.owner_id, t.due_on, t.item_id) for t in Todo.objects.filter(meeting=meeting).order_by("pk")] == [
        (text, owner.pk, due, item.pk) for text, owner, due in todos
    ]

    following = meeting.next_meeting
    assert following is not None
    assert following.status == Meeting.Status.SCHEDULED
    assert following.starts_at > meeting.starts_at
    assert (following.facilitator_id, following.note_taker_id) == (suggested[0].pk, suggested[1].pk)

    evaluation = meeting.round_robins.get(is_evaluation=True)
    assert {turn.member_id: turn.thought for turn in evaluation.turns.all()} == said
    assert evaluation.turns.get(member=participant).rating == 4


def _type_through_a_cut(
    screens: Screens, notes, field, status, thought: str, *, saved: str, offline: str, member: Member
) -> None:
    """The note taker's connection goes for ten seconds in the middle of the sentence she is typing."""
    turn = Turn.objects.get(member=member, round_robin__is_evaluation=False, round_robin__ended_at=None)
    field.press_sequentially(OFFLINE_START, delay=5)
    expect(status).to_have_text(saved, timeout=5000)
    screens.set_offline(notes, True)
    rest = thought[len(OFFLINE_START) :]
    field.press_sequentially(rest, delay=10_000 // len(rest))
    expect(status).to_have_text(offline)
    expect(notes.locator("#live-connection")).to_be_visible()
    expect(field).to_have_value(thought)
    turn.refresh_from_db()
    assert turn.thought == OFFLINE_START
    screens.set_offline(notes, False)
    expect(status).to_have_text(saved, timeout=8000)
    expect(notes.locator("#live-connection")).to_be_hidden(timeout=WITHIN_MS)
    turn.refresh_from_db()
    assert turn.thought == thought


def _record_stance(notes, member: Member, kind: str, *, reason: str = "", own: bool = False) -> None:
    """The note taker records a stance: her own with her own form, anyone else's with the other form."""
    if own:
        form = notes.locator("form[id^='record-stance-form-']")
    else:
        form = notes.locator("form[id^='record-stance-others-form-']")
        form.locator("select").select_option(str(member.pk))
    form.locator(f"input[type=radio][value={kind}]").check()
    if reason:
        form.locator("textarea").fill(reason)
    form.locator("button[type=submit]").click()
    expect(notes.locator("#record-missing")).not_to_contain_text(_name(member))


def _resolve(fac) -> None:
    """The facilitator resolves the check once every stance shows on their page too."""
    expect(fac.locator("#record-missing")).to_have_text("Everyone present has taken a stance.", timeout=4000)
    fac.get_by_role("button", name="Resolve the consensus check").click()
