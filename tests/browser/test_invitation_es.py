"""The issue's "done when" for invitations, in a real browser, as a new user would meet them: a steward
invites someone in Spanish; she opens the emailed link on a phone, reads Spanish, creates her account and
joins. And someone signed in with another account who opens the link is told to whom it was sent, and
"sign out and continue" brings the page back ready for the invited person."""

import re

import pytest

from accounts.models import User
from accounts.tests.factories import PASSWORD, UserFactory
from alliances import services
from alliances.models import Invitation, Member
from alliances.tests.factories import AllianceFactory, MemberFactory
from outbox.models import Delivery
from tests.browser.conftest import link_in_email

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
NEW_PASSWORD = "una contraseña larga y privada"


@pytest.fixture
def alliance(db):
    steward = UserFactory(email="stella@example.org", display_name="Stella Steward", language="en")
    alliance = AllianceFactory(name="Barrio Readers", slug="barrio-readers", purpose="Every child reads.")
    MemberFactory(alliance=alliance, user=steward, is_steward=True)
    return alliance


def _sign_in(page, site, email: str) -> None:
    page.goto(f"{site.url}/accounts/login/")
    page.get_by_label(re.compile(r"^\s*Email address")).fill(email)
    page.get_by_label(re.compile(r"^\s*Password")).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{site.url}/alliances/")


def _fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_steward_invites_in_spanish_and_the_person_joins_from_a_phone(browser, site, alliance):
    # The steward reads English and writes this invitation in Spanish.
    steward_page = browser.new_page()
    _sign_in(steward_page, site, "stella@example.org")
    steward_page.goto(f"{site.url}/alliances/barrio-readers/members/")
    steward_page.get_by_label("Email addresses").fill("ana@example.org")
    steward_page.get_by_label("Language of the invitation").select_option("es")
    steward_page.get_by_role("button", name="Send invitations").click()
    steward_page.get_by_text("Invitation sent to ana@example.org.").wait_for()
    steward_page.get_by_text("written in Spanish").wait_for()

    email = Delivery.objects.get(to_email="ana@example.org", message__template="invitation")
    assert email.status == Delivery.Status.SENT
    assert email.subject == "[Barrio Readers] Invitación para unirse a la alianza"

    # Ana has no account; her phone's browser asks for English, but the steward chose Spanish for her.
    context = browser.new_context(viewport=PHONE, locale="en-US")
    page = context.new_page()
    page.goto(link_in_email(email, "/invitations/"))
    page.get_by_role("heading", name="Únase a Barrio Readers").wait_for()
    assert page.locator("html").get_attribute("lang") == "es"
    # The switch is on the page itself, not hidden in the phone's collapsed menu.
    assert page.get_by_role("button", name="English").is_visible()
    assert _fits_the_screen(page), "the invitation page scrolls sideways"
    page.get_by_text("Para unirse, cree su cuenta con ana@example.org.").wait_for()

    page.get_by_label("Su nombre").fill("Ana Rivera")
    page.get_by_label(re.compile(r"^\s*Contraseña\*?\s*$")).fill(NEW_PASSWORD)
    page.get_by_label("Repita la contraseña").fill(NEW_PASSWORD)
    assert page.get_by_label("Idioma preferido").input_value() == "es"
    page.get_by_label("Organización que representa").fill("Escuela Montessori")
    page.get_by_role("button", name="Crear mi cuenta y unirme").click()
    page.get_by_text("¡Le damos la bienvenida a Barrio Readers!").wait_for()
    page.get_by_text("Every child reads.").wait_for()
    assert page.locator("html").get_attribute("lang") == "es"
    assert _fits_the_screen(page), "the alliance page scrolls sideways"
    context.close()

    ana = User.objects.get(email="ana@example.org")
    assert ana.language == "es"
    assert ana.is_email_confirmed
    assert Member.objects.active().filter(alliance=alliance, user=ana, organisation="Escuela Montessori").exists()
    steward_page.close()


def test_another_account_is_told_to_whom_it_was_sent_and_signs_out_to_continue(browser, site, alliance):
    UserFactory(email="otto@example.org", display_name="Otto Outsider", language="en")
    steward = alliance.members.get().user
    invitation = services.invitation_create(
        alliance=alliance, email="ana@example.org", invited_by=steward, language="es"
    )
    link = f"{site.url}{invitation.get_absolute_url()}"

    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    _sign_in(page, site, "otto@example.org")
    page.goto(link)
    page.get_by_text("This invitation was sent to ana@example.org. Only that address can accept it.").wait_for()
    page.get_by_text("You are signed in as otto@example.org.").wait_for()
    assert page.get_by_role("button", name="Join the alliance").count() == 0
    assert _fits_the_screen(page)

    page.get_by_role("button", name="Sign out and continue").click()
    page.wait_for_url(link)
    # Signed out, the page is for the invited person: in the invitation's language, ready for her account.
    page.get_by_role("heading", name="Únase a Barrio Readers").wait_for()
    page.get_by_text("Para unirse, cree su cuenta con ana@example.org.").wait_for()
    page.get_by_role("button", name="Crear mi cuenta y unirme").wait_for()
    # She reads English better: the switch on the page brings it back in English.
    page.get_by_role("button", name="English").click()
    page.wait_for_url(link)
    page.get_by_role("heading", name="Join Barrio Readers").wait_for()
    page.get_by_text("Create your account for ana@example.org to join.").wait_for()
    context.close()

    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.PENDING
    assert not Member.objects.filter(alliance=alliance, user__email="otto@example.org").exists()
