"""The agenda in a real browser: a facilitator reorders items by drag and drop, from the keyboard, and
without JavaScript; the order is saved each time, and our own script runs under the strict CSP."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from alliances.models import Member
from alliances.tests.factories import AllianceFactory, MemberFactory
from meetings import agenda
from meetings.models import AgendaItem
from meetings.services import meeting_schedule
from tests.browser.conftest import signed_in_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def prepared(db):
    alliance = AllianceFactory(name="Barrio Readers", slug="barrio-readers")
    steward = MemberFactory(alliance=alliance, is_steward=True, user__display_name="Stella Steward")
    facilitator = MemberFactory(alliance=alliance, user__display_name="Fran Facilitator")
    meeting = meeting_schedule(
        alliance=alliance,
        by=steward,
        starts_at=timezone.now() + timedelta(days=7),
        duration_minutes=90,
        facilitator=facilitator,
        note_taker=None,
    )
    for title in ("Alpha", "Bravo", "Charlie"):
        agenda.agenda_item_add(meeting=meeting, by=facilitator, title=title, minutes=10)
    return {"meeting": meeting, "facilitator": facilitator}


def _titles(meeting) -> list[str]:
    return list(AgendaItem.objects.filter(meeting=meeting).on_agenda().values_list("title", flat=True))


def _signed_in_page(browser, site, member_user: Member, *, javascript: bool = True):
    page = signed_in_page(browser, site, member_user, java_script_enabled=javascript)
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    return page, problems


def _shown_titles(page) -> list[str]:
    texts = page.locator("#agenda-items li[data-item-id] span[id^=agenda-item-]").all_inner_texts()
    return [text.split(". ", 1)[1] for text in texts]


def test_a_facilitator_reorders_by_drag_and_drop_and_from_the_keyboard(browser, site, prepared):
    meeting = prepared["meeting"]
    page, problems = _signed_in_page(browser, site, prepared["facilitator"])
    page.goto(f"{site.url}{meeting.get_absolute_url()}")

    # Drag Charlie onto the top half of Alpha: it goes first.
    charlie = page.locator("li[data-item-id]", has_text="Charlie")
    alpha = page.locator("li[data-item-id]", has_text="Alpha")
    with page.expect_response(lambda response: response.url.endswith("/agenda/order/")) as answer:
        charlie.drag_to(alpha, target_position={"x": 20, "y": 5})
    assert answer.value.status == 200
    expect(page.locator("#agenda-items li[data-item-id]").first).to_contain_text("Charlie")
    assert _titles(meeting) == ["Charlie", "Alpha", "Bravo"]
    assert _shown_titles(page) == ["Charlie", "Alpha", "Bravo"]

    # From the keyboard: Tab to Charlie's "Down" button and press Enter.
    down = page.locator("li[data-item-id]", has_text="Charlie").get_by_role("button", name="Down")
    down.focus()
    with page.expect_response(lambda response: "/move/" in response.url):
        page.keyboard.press("Enter")
    # (Playwright's expect, not wait_for_function: a polled string predicate is an eval, which our CSP refuses.)
    expect(page.locator("#agenda-items li[data-item-id]").first).to_contain_text("Alpha")
    assert _titles(meeting) == ["Alpha", "Charlie", "Bravo"]
    assert _shown_titles(page) == ["Alpha", "Charlie", "Bravo"]
    # The focus stays on Charlie's Down button after the list is replaced: Enter again moves it on.
    expect(page.locator("li[data-item-id]", has_text="Charlie").get_by_role("button", name="Down")).to_be_focused()
    with page.expect_response(lambda response: "/move/" in response.url):
        page.keyboard.press("Enter")
    expect(page.locator("#agenda-items li[data-item-id]").last).to_contain_text("Charlie")
    assert _titles(meeting) == ["Alpha", "Bravo", "Charlie"]
    assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p], problems


def test_without_javascript_the_up_button_still_moves_an_item(browser, site, prepared):
    meeting = prepared["meeting"]
    page, _problems = _signed_in_page(browser, site, prepared["facilitator"], javascript=False)
    page.goto(f"{site.url}{meeting.get_absolute_url()}")

    page.locator("li[data-item-id]", has_text="Bravo").get_by_role("button", name="Up").click()

    page.wait_for_load_state()
    assert _titles(meeting) == ["Bravo", "Alpha", "Charlie"]
    assert _shown_titles(page) == ["Bravo", "Alpha", "Charlie"]


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_the_agenda_pages_pass_axe(browser, site, prepared, viewport):
    from tests.browser.test_accessibility import VIEWPORTS, _violations

    meeting = prepared["meeting"]
    member = MemberFactory(alliance=meeting.alliance, user__display_name="Mia Member")
    proposal = agenda.agenda_proposal_submit(meeting=meeting, by=member, title="Library hours", minutes=10)
    agenda.reflection_set(
        meeting=meeting, by=prepared["facilitator"], kind="quote", text="Together.", source="Helen Keller", link=""
    )
    base = meeting.get_absolute_url()
    pages = [
        base,
        f"{base}agenda/items/new/",
        f"{base}agenda/items/{AgendaItem.objects.filter(meeting=meeting).on_agenda().first().pk}/edit/",
        f"{base}agenda/segments/",
        f"{base}agenda/proposals/{proposal.pk}/decline/",
        f"{base}reflection/",
        f"{base}agenda/print/",
        f"{base}agenda/propose/",
    ]
    page, _problems = _signed_in_page(browser, site, prepared["facilitator"])
    page.set_viewport_size(VIEWPORTS[viewport])
    found = {}
    for path in pages:
        page.goto(f"{site.url}{path}")
        violations = _violations(page)
        if violations:
            found[path] = violations
    assert not found, found


def test_a_facilitator_drafts_the_agenda_and_a_member_proposes_as_new_users_would(browser, site, prepared):
    meeting = prepared["meeting"]
    mia = MemberFactory(alliance=meeting.alliance, user__display_name="Mia Member", organisation="Library Friends")
    meeting_url = f"{site.url}{meeting.get_absolute_url()}"

    # A member proposes an item from the meeting page.
    page, problems = _signed_in_page(browser, site, mia)
    page.goto(meeting_url)
    page.get_by_role("link", name="Propose an item").click()
    page.get_by_label("Title").fill("Library hours")
    page.get_by_label("Time box (minutes)").fill("10")
    page.get_by_role("button", name="Send the proposal").click()
    expect(page.locator("#agenda")).to_contain_text("Your proposals")
    expect(page.locator("#agenda")).to_contain_text("Library hours — Proposed")

    # The facilitator adds an item (a zero time box is refused first), chooses the reflection, accepts.
    page, problems = _signed_in_page(browser, site, prepared["facilitator"])
    page.goto(meeting_url)
    page.get_by_role("link", name="Add an item").click()
    page.get_by_label("Title").fill("Rent strike")
    page.get_by_label("Description").fill("See **the plan** <script>alert(1)</script>")
    page.get_by_label("Kind").select_option(label="Decision")
    page.get_by_label("Presenter").select_option(label="Mia Member")
    page.get_by_label("Time box (minutes)").fill("0")
    page.get_by_role("button", name="Add the item").click()
    expect(page.get_by_text("The time box must be at least one minute.")).to_be_visible()
    page.get_by_label("Time box (minutes)").fill("20")
    page.get_by_role("button", name="Add the item").click()
    agenda_box = page.locator("#agenda")
    expect(agenda_box).to_contain_text("4. Rent strike")
    expect(agenda_box).to_contain_text("Presenter: Mia Member")
    expect(agenda_box.locator("strong", has_text="the plan")).to_be_visible()

    page.get_by_role("link", name="Opening reflection").click()
    page.get_by_label("Kind").select_option(label="Poem")
    page.get_by_label("Text").fill("Tell me, what is it you plan to do with your one wild and precious life?")
    page.get_by_label("Author or source").fill("Mary Oliver")
    page.get_by_role("button", name="Save the reflection").click()
    expect(agenda_box).to_contain_text("— Mary Oliver")

    page.get_by_role("button", name="Accept").click()
    expect(page.locator("#agenda li[data-item-id]").last).to_contain_text("Library hours")
    assert _titles(meeting) == ["Alpha", "Bravo", "Charlie", "Rent strike", "Library hours"]

    page.get_by_role("link", name="Printable agenda").click()
    expect(page.get_by_role("heading", name="Attendance sheet")).to_be_visible()
    expect(page.locator(".attendance")).to_contain_text("Library Friends")
    assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p], problems
