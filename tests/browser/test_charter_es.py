"""The issue's "done when" for the charter, in a real browser, as a newcomer would try it: in Spanish, on a
phone. A steward who reads Spanish sets the logistics and adds norms; a Spanish member on a 390 px screen
reads the charter and its history in Spanish, with nothing cut and nothing pushed out of line.

The words checked are the Spanish catalogue's (locale/es/LC_MESSAGES/django.po) for strings that were
already translated; strings new in this change are checked by what the person sees happen instead.
"""

import re

import pytest

from accounts.tests.factories import PASSWORD, UserFactory
from alliances import services
from alliances.models import Alliance, CharterChange, Norm
from alliances.tests.factories import AllianceFactory, MemberFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
LONG_NORM = (
    "Cada reunión empieza con una ronda breve en la que cada persona dice cómo llega, sin interrupciones, "
    "y termina con una ronda de cierre en la que decimos qué nos llevamos y qué haremos antes de la próxima."
)


@pytest.fixture
def people(db):
    alliance = AllianceFactory(name="Lectores del Barrio", slug="lectores-del-barrio", language="es")
    steward = UserFactory(email="sofia@example.org", display_name="Sofía Steward", language="es")
    reader = UserFactory(email="mateo@example.org", display_name="Mateo Miembro", language="es")
    MemberFactory(alliance=alliance, user=steward, is_steward=True)
    MemberFactory(alliance=alliance, user=reader)
    services.norm_add(alliance=alliance, text="Empezamos a la hora.", agreed_on=None, by=steward)
    return {"alliance": alliance, "steward": steward, "reader": reader}


def _phone_in_spanish(browser):
    # A browser asking for Spanish, as a newcomer's phone in Puerto Rico would.
    return browser.new_context(viewport=PHONE, locale="es-PR", timezone_id="America/Puerto_Rico")


def _sign_in(page, site, email: str) -> None:
    page.goto(f"{site.url}/accounts/login/")
    page.get_by_label(re.compile(r"^\s*Correo electrónico")).fill(email)
    page.get_by_label(re.compile(r"^\s*Contraseña")).fill(PASSWORD)
    page.get_by_role("button", name="Iniciar sesión").click()
    page.wait_for_url(f"{site.url}/alliances/")


def _no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "the page scrolls sideways"


def _tabs_on_one_line(page) -> None:
    # The alliance tabs scroll sideways inside their own bar if they must, rather than wrap.
    tops = page.locator(".alliance-tabs .nav-item").evaluate_all(
        "items => items.map(i => i.getBoundingClientRect().top)"
    )
    assert len(tops) >= 3
    assert len(set(tops)) == 1, f"the tabs wrap onto several lines: {tops}"


def test_a_spanish_member_on_a_phone_reads_the_charter_and_its_history_in_spanish(browser, site, people, tmp_path):
    alliance = people["alliance"]

    # The steward, in Spanish on a phone, sets the logistics from the alliance's overview.
    context = _phone_in_spanish(browser)
    page = context.new_page()
    _sign_in(page, site, "sofia@example.org")
    page.goto(f"{site.url}/alliances/lectores-del-barrio/")
    # "Set the logistics" is new, not in the catalogue yet: found by its place, the logistics section.
    page.locator("section[aria-labelledby=logistics-heading] a").click()
    page.wait_for_url(f"{site.url}/alliances/lectores-del-barrio/charter/logistics/")
    page.get_by_label(re.compile(r"^\s*Con qué frecuencia nos reunimos")).select_option("monthly")
    page.get_by_label(re.compile(r"^\s*Día habitual")).select_option("1")
    page.get_by_label(re.compile(r"^\s*Hora habitual de inicio")).fill("18:30")
    page.locator("select[name=time_zone]").select_option("America/New_York")
    page.get_by_role("button", name="Guardar la logística").click()
    page.get_by_text("Se guardó la logística.").wait_for()

    # A steward has four tabs, with longer words in Spanish: still one line.
    _tabs_on_one_line(page)
    _no_sideways_scroll(page)
    page.screenshot(path=tmp_path / "steward-charter-390.png", full_page=True)

    # A long norm over the limit is refused whole, with an error, and nothing says it was added.
    page.get_by_role("link", name="Agregar una norma").click()
    norm_field = page.locator("textarea[name=text]")
    assert norm_field.get_attribute("maxlength") is None, "the browser would cut the norm without a word"
    norm_field.fill("x" * 1001)
    page.get_by_role("button", name="Agregar la norma").click()
    page.locator("#id_text.is-invalid").wait_for()
    assert page.locator(".invalid-feedback, .invalid-feedback *").first.is_visible()
    assert page.get_by_text("Se agregó la norma.").count() == 0
    assert norm_field.input_value() == "x" * 1001, "the typed norm is kept, not cut"
    assert Norm.objects.filter(alliance=alliance).count() == 1

    # A long, two-line norm is added whole.
    norm_field.fill(LONG_NORM + "\nSi alguien falta, le enviamos las notas.")
    page.get_by_role("button", name="Agregar la norma").click()
    page.get_by_text("Se agregó la norma.").wait_for()
    assert Norm.objects.filter(alliance=alliance).current().last().text.endswith("le enviamos las notas.")
    context.close()

    change = CharterChange.objects.get(alliance=alliance, kind=CharterChange.Kind.LOGISTICS)
    assert change.after_values["cadence"] == "monthly"

    # A Spanish member reads the charter on a 390 px screen.
    context = _phone_in_spanish(browser)
    page = context.new_page()
    _sign_in(page, site, "mateo@example.org")
    page.goto(f"{site.url}/alliances/lectores-del-barrio/charter/")
    _no_sideways_scroll(page)

    _tabs_on_one_line(page)

    # A long norm stays beside its number, like a short one; its line breaks are kept.
    items = page.locator("#norm-list li")
    for index in range(items.count()):
        item, body = items.nth(index).bounding_box(), items.nth(index).locator(".norm-body").bounding_box()
        assert body["y"] - item["y"] < 20, f"norm {index + 1} dropped below its number"
        assert body["x"] - item["x"] > 20, f"norm {index + 1} is not beside its number"
    long_norm = items.nth(1).locator(".norm-text")
    assert long_norm.inner_text().endswith("\nSi alguien falta, le enviamos las notas.")
    page.screenshot(path=tmp_path / "charter-390.png", full_page=True)

    # The history: the steward's change, labelled and worded in Spanish, as plain text.
    page.get_by_role("link", name="Historial de la carta").click()
    page.get_by_role("heading", name="Historial de la carta").wait_for()
    _no_sideways_scroll(page)
    entry = page.locator("li", has_text="Logística modificada")
    setting = entry.locator("dt", has_text="Con qué frecuencia nos reunimos")
    setting.wait_for()
    assert "Mensual" in setting.locator("xpath=following-sibling::dd[1]").inner_text()
    day = entry.locator("dt", has_text="Día habitual").locator("xpath=following-sibling::dd[1]").inner_text()
    assert "Martes" in day
    time = entry.locator("dt", has_text="Hora habitual de inicio").locator("xpath=following-sibling::dd[1]")
    assert "18:30" in time.inner_text()
    zone = entry.locator("dt", has_text="Zona horaria").locator("xpath=following-sibling::dd[1]")
    assert "Estados Unidos — Nueva York" in zone.inner_text()
    text = entry.inner_text()
    for english in ("Monthly", "Tuesday", "how often we meet", "usual day", "time zone"):
        assert english not in text
    assert "Antes:" in text
    assert "Después:" in text
    # Before and after must not look like links: not underlined, not link-coloured, no links at all.
    assert entry.locator("a, ins").count() == 0
    decoration, colour, link_colour = entry.locator("dd").first.evaluate(
        """dd => {
            const link = document.createElement("a");
            link.href = "#";
            dd.parentElement.appendChild(link);
            const linkColour = getComputedStyle(link).color;
            link.remove();
            return [getComputedStyle(dd).textDecorationLine, getComputedStyle(dd).color, linkColour];
        }"""
    )
    assert decoration == "none"
    assert colour != link_colour
    page.screenshot(path=tmp_path / "history-390.png", full_page=True)
    context.close()

    assert Alliance.objects.get(pk=alliance.pk).time_zone == "America/New_York"
