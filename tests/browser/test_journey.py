"""The issue's "done when", in a real browser: sign up, establish an alliance, write its charter,
invite two people, and each accepts from the link in the email they received."""

import re

import pytest

from accounts.models import User
from alliances.models import Alliance, Member
from outbox.models import Delivery
from tests.browser.conftest import link_in_email

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a long and private passphrase"
# Crispy marks required fields with an asterisk, which is part of the label.
PASSWORD_LABEL = re.compile(r"^\s*Password\*?\s*$")


def _sign_up(page, site, *, name: str, email: str) -> None:
    page.goto(f"{site.url}/accounts/signup/")
    page.get_by_label("Your name").fill(name)
    page.get_by_label("Email address").fill(email)
    page.get_by_label(PASSWORD_LABEL).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_label("Time zone").select_option("America/Puerto_Rico")
    page.get_by_role("button", name="Create my account").click()
    page.get_by_role("heading", name="Check your email").wait_for()


def test_new_user_establishes_an_alliance_and_two_invitees_join(browser, site):
    steward_page = browser.new_page()

    # Sign up, then confirm the address from the email.
    _sign_up(steward_page, site, name="Stella Steward", email="stella@example.org")
    confirmation = Delivery.objects.get(to_email="stella@example.org", message__template="signup_confirm")
    steward_page.goto(link_in_email(confirmation, "/accounts/confirm/"))
    steward_page.get_by_label(re.compile(r"^\s*Your password")).fill(PASSWORD)
    steward_page.get_by_role("button", name="Confirm my address").click()
    steward_page.get_by_text("Your email address is confirmed").wait_for()

    # Establish the alliance.
    steward_page.get_by_role("link", name="Establish an alliance").click()
    steward_page.get_by_label("Name of the alliance").fill("Barrio Readers")
    steward_page.get_by_role("button", name="Create the alliance").click()
    steward_page.get_by_text("Your alliance is ready").wait_for()
    alliance = Alliance.objects.get(slug="barrio-readers")

    # Its charter: purpose, three norms, logistics.
    steward_page.get_by_role("link", name="Charter", exact=True).click()
    steward_page.get_by_role("link", name="Edit the purpose").click()
    steward_page.get_by_label("Shared purpose").fill("Every child in the barrio reads by third grade.")
    steward_page.get_by_role("button", name="Save the purpose").click()
    steward_page.get_by_text("The shared purpose has been saved").wait_for()
    for text in ["We start on time.", "Everyone speaks before anyone speaks twice.", "We decide by consensus."]:
        steward_page.get_by_role("link", name="Add a norm").click()
        steward_page.get_by_label(re.compile(r"^\s*Norm\*?\s*$")).fill(text)
        steward_page.get_by_role("button", name="Add the norm").click()
        steward_page.get_by_text("The norm has been added").wait_for()
    # Reorder with htmx: the list is swapped in place.
    steward_page.get_by_role("button", name="Move norm 3 up").click()
    steward_page.locator("#norm-list li").nth(1).get_by_text("We decide by consensus.").wait_for()
    assert [n.text for n in alliance.norms.current()] == [
        "We start on time.",
        "We decide by consensus.",
        "Everyone speaks before anyone speaks twice.",
    ]
    steward_page.get_by_role("link", name="Edit the logistics").click()
    steward_page.get_by_label("How often we meet").select_option("monthly")
    steward_page.get_by_label("Usual day").select_option("1")
    steward_page.get_by_label("Usual start time").fill("18:30")
    steward_page.get_by_label("Usual duration (minutes)").fill("90")
    steward_page.get_by_label("Time zone").select_option("America/Puerto_Rico")
    steward_page.get_by_label("Usual venue address").fill("Biblioteca Municipal, San Juan")
    steward_page.get_by_label("How we share information").fill("A shared folder.")
    steward_page.get_by_role("button", name="Save the logistics").click()
    steward_page.get_by_text("The logistics have been saved").wait_for()
    steward_page.get_by_text("Biblioteca Municipal, San Juan").wait_for()

    # Invite two people.
    steward_page.get_by_role("link", name="Members", exact=True).click()
    steward_page.get_by_label("Email addresses").fill("ana@example.org\nben@example.org")
    steward_page.get_by_role("button", name="Send invitations").click()
    steward_page.get_by_text("Invitation sent to ana@example.org, ben@example.org").wait_for()

    # Each accepts from the link in the email they received; Ben on a phone-sized screen.
    for name, email, viewport in [
        ("Ana Rivera", "ana@example.org", {"width": 1280, "height": 800}),
        ("Ben Okafor", "ben@example.org", {"width": 390, "height": 844}),
    ]:
        invitation = Delivery.objects.get(to_email=email, message__template="invitation")
        assert invitation.status == Delivery.Status.SENT
        assert "Barrio Readers" in invitation.subject
        context = browser.new_context(viewport=viewport)
        page = context.new_page()
        page.goto(link_in_email(invitation, "/invitations/"))
        page.get_by_role("heading", name="Join Barrio Readers").wait_for()
        page.get_by_label("Your name").fill(name)
        page.get_by_label(PASSWORD_LABEL).fill(PASSWORD)
        page.get_by_label("Password again").fill(PASSWORD)
        page.get_by_label("Organisation you represent").fill(f"{name}'s school")
        page.get_by_role("button", name="Create my account and join").click()
        page.get_by_text("Welcome to Barrio Readers!").wait_for()
        page.get_by_text("Every child in the barrio reads by third grade.").wait_for()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "page scrolls sideways"
        context.close()

    members = Member.objects.active().filter(alliance=alliance)
    assert sorted(m.user.email for m in members) == ["ana@example.org", "ben@example.org", "stella@example.org"]
    assert User.objects.get(email="ben@example.org").is_email_confirmed
    steward_page.reload()
    steward_page.get_by_text("Ben Okafor").first.wait_for()
    steward_page.close()
