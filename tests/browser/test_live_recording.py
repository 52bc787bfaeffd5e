"""Recording at the live meeting in real browsers: the note taker's words survive a cut connection and a
reload, and a participant records their own stance from their own device."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from alliances.tests.factories import AllianceFactory, MemberFactory
from meetings import agenda, attendance, consensus, round_robins, run, steps
from meetings.models import AgendaItem, Stance, Turn
from meetings.services import meeting_schedule
from tasks import services as todo_services
from tests.browser.conftest import signed_in_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def on_the_item(db):
    """A meeting on its decision item, three members present, a round robin under way."""
    alliance = AllianceFactory(name="Barrio Readers", slug="barrio-readers")
    steward = MemberFactory(alliance=alliance, is_steward=True, user__display_name="Stella Steward")
    facilitator = MemberFactory(alliance=alliance, user__display_name="Fran Facilitator")
    note_taker = MemberFactory(alliance=alliance, user__display_name="Nat Notes")
    participant = MemberFactory(alliance=alliance, user__display_name="Pia Participant")
    meeting = meeting_schedule(
        alliance=alliance,
        by=steward,
        starts_at=timezone.now() + timedelta(minutes=5),
        duration_minutes=90,
        facilitator=facilitator,
        note_taker=note_taker,
    )
    item = agenda.agenda_item_add(
        meeting=meeting, by=facilitator, title="Library hours", minutes=10, kind=AgendaItem.Kind.DECISION
    )
    meeting = run.start_meeting(meeting=meeting, by=facilitator)
    for member in (facilitator, note_taker, participant):
        attendance.mark_attendance(meeting=meeting, member=member, status="present", by=note_taker)
    while meeting.current_step != steps.item_key(item):
        meeting = run.go_to_next_step(meeting=meeting, by=facilitator)
    round_robin = round_robins.start_round_robin(meeting=meeting, by=facilitator, item=item)
    return {
        "meeting": meeting,
        "item": item,
        "turn": round_robin.turns.order_by("position").first(),
        "facilitator": facilitator,
        "note_taker": note_taker,
        "participant": participant,
    }


def _live_url(site, meeting) -> str:
    return f"{site.url}/alliances/barrio-readers/meetings/{meeting.pk}/live/"


def _page(browser, site, member):
    page = signed_in_page(browser, site, member)
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    return page, problems


def _thought(turn: Turn) -> str:
    turn.refresh_from_db()
    return turn.thought


def test_nothing_the_note_taker_types_is_lost_when_the_connection_is_cut_for_ten_seconds(browser, site, on_the_item):
    turn = on_the_item["turn"]
    page, problems = _page(browser, site, on_the_item["note_taker"])
    page.goto(_live_url(site, on_the_item["meeting"]))
    field = page.locator(f"#record-turn-{turn.pk}-text")
    status = page.locator(f"#record-turn-{turn.pk}-status")

    field.press_sequentially("Fran says the library should open", delay=20)
    expect(status).to_have_text("Saved", timeout=5000)
    assert _thought(turn) == "Fran says the library should open"

    # Mid-sentence, the connection goes for ten seconds while the note taker keeps typing.
    page.context.set_offline(True)
    more = " on Saturdays, from ten to two, staffed by volunteers."
    field.press_sequentially(more, delay=10_000 // len(more))
    expect(status).to_have_text(re.compile("Offline"))
    typed = "Fran says the library should open" + more
    expect(field).to_have_value(typed)
    stored = page.evaluate(
        f"JSON.parse(localStorage.getItem('rt:draft:m{turn.round_robin.meeting_id}:turn-{turn.pk}:thought')).text"
    )
    assert stored == typed
    assert _thought(turn) == "Fran says the library should open"

    page.context.set_offline(False)
    expect(status).to_have_text("Saved", timeout=8000)
    assert _thought(turn) == typed
    assert page.evaluate("Object.keys(localStorage).filter((k) => k.startsWith('rt:draft:')).length") == 0
    assert problems == []


def test_a_reload_while_the_server_cannot_be_reached_puts_the_unsaved_text_back(browser, site, on_the_item):
    turn = on_the_item["turn"]
    page, _problems = _page(browser, site, on_the_item["note_taker"])
    url = _live_url(site, on_the_item["meeting"])
    page.goto(url)
    field = page.locator(f"#record-turn-{turn.pk}-text")

    page.context.set_offline(True)
    field.press_sequentially("Words typed without a connection", delay=10)
    expect(page.locator(f"#record-turn-{turn.pk}-status")).to_have_text(re.compile("Offline"))
    # A browser offline cannot load the page at all; what matters is that the copy outlives the page.
    # So the page is reloaded with the connection back but every save still failing (the server
    # unreachable), and the text must come back from the browser's storage.
    page.route("**/record/**", lambda route: route.abort() if route.request.method == "POST" else route.continue_())
    page.context.set_offline(False)
    page.reload()

    field = page.locator(f"#record-turn-{turn.pk}-text")
    expect(field).to_have_value("Words typed without a connection")
    assert _thought(turn) == ""

    page.unroute("**/record/**")
    expect(page.locator(f"#record-turn-{turn.pk}-status")).to_have_text("Saved", timeout=10_000)
    assert _thought(turn) == "Words typed without a connection"


def test_a_participant_records_their_own_stance_and_the_note_taker_sees_it(browser, site, on_the_item):
    meeting, participant = on_the_item["meeting"], on_the_item["participant"]
    round_robins.end_round_robin(round_robin=on_the_item["turn"].round_robin, by=on_the_item["facilitator"])
    proposal = consensus.write_proposal(
        item=on_the_item["item"], text="Open on Saturdays.", by=on_the_item["note_taker"]
    )
    theirs, _p = _page(browser, site, participant)
    notes, _n = _page(browser, site, on_the_item["note_taker"])
    theirs.goto(_live_url(site, meeting))
    notes.goto(_live_url(site, meeting))
    form = theirs.locator(f"#record-stance-form-{proposal.pk}")

    # Standing aside without a reason: refused, with the message on the form, and nothing saved.
    form.get_by_label("Stand aside").check()
    form.get_by_role("button", name="Record my stance").click()
    expect(theirs.locator(f"#record-stance-form-{proposal.pk}")).to_contain_text("Standing aside needs a reason")
    assert not Stance.objects.exists()

    form = theirs.locator(f"#record-stance-form-{proposal.pk}")
    form.get_by_label("Agree").check()
    form.get_by_role("button", name="Record my stance").click()
    expect(theirs.locator("#record-notice")).to_contain_text("Stance recorded: Pia Participant")
    stance = Stance.objects.get()
    assert (stance.member, stance.recorded_by, stance.kind) == (participant, participant, Stance.Kind.AGREE)

    # The note taker's page, never reloaded, shows it among the stances and no longer as missing.
    expect(notes.locator(f"#record-proposal-{proposal.pk}-title").locator("..")).to_contain_text(
        "Pia Participant: Agree", timeout=4000
    )
    expect(notes.locator("#record-missing")).not_to_contain_text("Pia Participant")


def test_the_recording_parts_pass_axe_on_a_phone_and_fit_its_width(browser, site, on_the_item):
    from tests.browser.test_accessibility import _violations

    meeting, note_taker, facilitator = on_the_item["meeting"], on_the_item["note_taker"], on_the_item["facilitator"]
    round_robins.end_round_robin(round_robin=on_the_item["turn"].round_robin, by=facilitator)
    consensus.write_proposal(item=on_the_item["item"], text="Open on Saturdays.", by=note_taker)
    page = signed_in_page(browser, site, note_taker, viewport={"width": 390, "height": 844})
    problems = {}

    def check(name: str) -> None:
        problems[name] = _violations(page)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 390:
            problems[name].append(f"the page is {width} px wide")

    page.goto(_live_url(site, meeting))
    check("item with a proposal under check")
    page.locator("form[id^='record-stance-others-form-']").get_by_label("Block").check()
    page.locator("form[id^='record-stance-others-form-']").get_by_role("button", name="Record the stance").click()
    expect(page.locator("form[id^='record-stance-others-form-']")).to_contain_text("A block needs a reason")
    check("a stance refused for its reason")

    todo_services.capture_todo(
        alliance=meeting.alliance,
        meeting=meeting,
        item=on_the_item["item"],
        text="Ask the library",
        owner=on_the_item["participant"],
        by=note_taker,
    )
    consensus.defer_item(item=on_the_item["item"], by=facilitator)
    for key in ("decisions_review", "next_meeting", "evaluation"):
        while meeting.current_step != key:
            meeting = run.go_to_next_step(meeting=meeting, by=facilitator)
        if key == "evaluation":
            round_robins.start_round_robin(meeting=meeting, by=facilitator, evaluation=True)
        page.goto(_live_url(site, meeting))
        expect(page.locator("#record-step h4").first).to_be_visible()
        check(key)

    report = [f"{name}: {problem}" for name, found in problems.items() for problem in found]
    assert not report, "problems:\n" + "\n".join(report)


def test_two_people_editing_the_same_notes_see_both_texts_and_merge_them(browser, site, on_the_item):
    meeting, item = on_the_item["meeting"], on_the_item["item"]
    notes, notes_problems = _page(browser, site, on_the_item["note_taker"])
    fran, fran_problems = _page(browser, site, on_the_item["facilitator"])
    notes.goto(_live_url(site, meeting))
    fran.goto(_live_url(site, meeting))
    field_id = f"#record-item-{item.pk}-discussion"

    # Both start from the empty notes; the facilitator's field has the focus, so it is kept as it is
    # when the note taker's save reaches her page.
    fran.locator(f"{field_id}-text").click()
    notes.locator(f"{field_id}-text").press_sequentially("Saturday opening agreed in principle.", delay=10)
    expect(notes.locator(f"{field_id}-status")).to_have_text("Saved", timeout=5000)
    fran.locator(f"{field_id}-text").press_sequentially("Volunteers needed.", delay=10)

    conflict = fran.locator(f"{field_id}-conflict")
    expect(conflict.locator("[data-record-theirs]")).to_have_text("Saturday opening agreed in principle.")
    expect(conflict.locator("[data-record-yours]")).to_have_text("Volunteers needed.")
    expect(fran.locator(f"{field_id}-status")).to_contain_text("someone else saved")
    item.refresh_from_db()
    assert item.discussion == "Saturday opening agreed in principle."

    merged = conflict.get_by_label("Merged text (edit it, then save)")
    expect(merged).to_have_value("Saturday opening agreed in principle.\n\nVolunteers needed.")
    merged.fill("Saturday opening agreed in principle. Volunteers needed.")
    conflict.get_by_role("button", name="Save the merged text").click()

    expect(fran.locator(f"{field_id}-status")).to_have_text("Saved")
    expect(fran.locator(f"{field_id}-text")).to_have_value("Saturday opening agreed in principle. Volunteers needed.")
    item.refresh_from_db()
    assert item.discussion == "Saturday opening agreed in principle. Volunteers needed."
    # The note taker's field kept its focus, so it was left as it was; once she leaves it, it shows the
    # merged text.
    notes.locator(f"{field_id}-text").blur()
    expect(notes.locator(f"{field_id}-text")).to_have_value(
        "Saturday opening agreed in principle. Volunteers needed.", timeout=4000
    )
    assert notes_problems == fran_problems == []


def test_without_javascript_the_note_taker_saves_a_thought_and_a_participant_a_stance(browser, site, on_the_item):
    turn, meeting = on_the_item["turn"], on_the_item["meeting"]
    notes = signed_in_page(browser, site, on_the_item["note_taker"], java_script_enabled=False)
    notes.goto(_live_url(site, meeting))

    notes.locator(f"#record-turn-{turn.pk}-text").fill("Fran: Saturdays, ten to two.")
    notes.locator(f"#record-turn-{turn.pk}").get_by_role("button", name="Save").click()

    expect(notes.locator(f"#record-turn-{turn.pk}-text")).to_have_value("Fran: Saturdays, ten to two.")
    assert _thought(turn) == "Fran: Saturdays, ten to two."

    round_robins.end_round_robin(round_robin=turn.round_robin, by=on_the_item["facilitator"])
    proposal = consensus.write_proposal(
        item=on_the_item["item"], text="Open on Saturdays.", by=on_the_item["note_taker"]
    )
    theirs = signed_in_page(browser, site, on_the_item["participant"], java_script_enabled=False)
    theirs.goto(_live_url(site, meeting))
    form = theirs.locator(f"#record-stance-form-{proposal.pk}")
    form.get_by_label("Block").check()
    form.get_by_role("button", name="Record my stance").click()
    expect(theirs.locator(f"#record-stance-form-{proposal.pk}")).to_contain_text("A block needs a reason")
    assert not Stance.objects.exists()

    form = theirs.locator(f"#record-stance-form-{proposal.pk}")
    form.get_by_label("Block").check()
    form.get_by_label("Reason").fill("Nobody can open the library on Saturdays yet.")
    form.get_by_role("button", name="Record my stance").click()
    expect(theirs.get_by_text("Stance recorded: Pia Participant — Block.")).to_be_visible()
    assert Stance.objects.get().reason == "Nobody can open the library on Saturdays yet."


def test_a_note_being_written_when_the_meeting_moves_on_stays_until_it_is_saved(browser, site, on_the_item):
    meeting, item, facilitator = on_the_item["meeting"], on_the_item["item"], on_the_item["facilitator"]
    notes, problems = _page(browser, site, on_the_item["note_taker"])
    notes.goto(_live_url(site, meeting))
    field = notes.locator(f"#record-item-{item.pk}-discussion-text")
    field.press_sequentially("Saturdays need", delay=20)

    round_robins.end_round_robin(round_robin=on_the_item["turn"].round_robin, by=facilitator)
    consensus.defer_item(item=item, by=facilitator)
    run.go_to_next_step(meeting=meeting, by=facilitator)
    expect(notes.locator("#live-now-heading")).to_contain_text("Review of decisions")
    expect(notes.locator("#record-review-decisions-heading")).to_be_visible()

    # The field stayed, with its focus: the note taker finishes the sentence where she was.
    expect(notes.locator("#record-carried")).to_contain_text("From the previous step")
    field.press_sequentially(" two volunteers.", delay=20)
    expect(field).to_be_focused()
    expect(notes.locator(f"#record-item-{item.pk}-discussion-status")).to_have_text("Saved", timeout=5000)
    item.refresh_from_db()
    assert item.discussion == "Saturdays need two volunteers."
    assert problems == []


def test_a_refresh_of_the_recording_part_that_fails_is_asked_again(browser, site, on_the_item):
    meeting, participant = on_the_item["meeting"], on_the_item["participant"]
    round_robins.end_round_robin(round_robin=on_the_item["turn"].round_robin, by=on_the_item["facilitator"])
    theirs, problems = _page(browser, site, participant)
    theirs.goto(_live_url(site, meeting))
    expect(theirs.locator("#record-consensus-heading")).to_be_visible()
    refused: list[str] = []

    def refuse_once(route) -> None:
        if refused:
            route.continue_()
        else:
            refused.append(route.request.url)
            route.fulfill(status=500, body="A passing server error")

    theirs.route("**/record/", refuse_once)

    consensus.write_proposal(item=on_the_item["item"], text="Open on Saturdays.", by=on_the_item["note_taker"])

    # The page learnt of the proposal, its first fetch of the part failed, and it asked again by itself:
    # without that, the part would wait for the meeting's next change to show the stance form.
    expect(theirs.locator("#live-check-heading")).to_be_visible(timeout=2500)
    expect(theirs.locator(f"#record-stance-form-{meeting.items.get().proposals.get().pk}")).to_be_visible(timeout=5000)
    assert len(refused) == 1
    assert problems == []
