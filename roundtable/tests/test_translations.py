"""The Spanish catalogue is complete, compiled, and actually used by the pages and the emails."""

from pathlib import Path
from types import SimpleNamespace

import polib
import pytest
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

CATALOGUE = Path(settings.LOCALE_PATHS[0]) / "es" / "LC_MESSAGES"
PO_PATH = CATALOGUE / "django.po"
MO_PATH = CATALOGUE / "django.mo"


def _translations(catalogue: polib._BaseFile) -> dict[tuple[str | None, str], object]:
    """Every real entry (not the header) keyed by context and msgid, with its singular or plural forms."""
    result = {}
    for entry in catalogue:
        if entry.msgid == "" or entry.obsolete:
            continue
        if entry.msgid_plural:
            value = (entry.msgid_plural, tuple(entry.msgstr_plural[i] for i in sorted(entry.msgstr_plural)))
        else:
            value = entry.msgstr
        result[(entry.msgctxt, entry.msgid)] = value
    return result


@pytest.fixture(scope="module")
def po() -> polib.POFile:
    return polib.pofile(str(PO_PATH))


def test_every_entry_is_translated_and_none_is_fuzzy(po):
    untranslated = [entry.msgid for entry in po.untranslated_entries()]
    fuzzy = [entry.msgid for entry in po.fuzzy_entries()]

    assert untranslated == []
    assert fuzzy == []
    assert po.percent_translated() == 100
    assert po.metadata["Language"] == "es"
    assert po.metadata["Plural-Forms"] == "nplurals=2; plural=(n != 1);"


def test_the_compiled_catalogue_matches_the_po_file(po):
    assert MO_PATH.exists(), "Run `manage.py compilemessages -l es`."
    mo = polib.mofile(str(MO_PATH))

    assert _translations(mo) == _translations(po), "django.mo is stale: run `manage.py compilemessages -l es`."


@pytest.mark.django_db
def test_the_sign_in_page_is_in_spanish_for_a_spanish_reader(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"

    response = client.get(reverse("accounts:login"))

    assert response.status_code == 200
    html = response.content.decode()
    assert 'lang="es"' in html
    assert "Iniciar sesión" in html
    assert "¿Olvidó su contraseña?" in html
    assert "Forgot your password?" not in html


@pytest.mark.django_db
def test_the_sign_in_page_stays_in_english_by_default(client):
    response = client.get(reverse("accounts:login"))

    html = response.content.decode()
    assert 'lang="en"' in html
    assert "Forgot your password?" in html


def test_the_invitation_email_is_written_in_spanish():
    context = {
        "invited_by": SimpleNamespace(display_name="Ana"),
        "alliance": SimpleNamespace(name="Líderes de Cataño", purpose="Mejorar la escuela."),
        "invitation": SimpleNamespace(expires_at=None),
        "accept_url": "http://testserver/accept/",
    }

    with translation.override("es"):
        text = render_to_string("emails/invitation.txt", context)

    assert "Ana le invita a unirse a Líderes de Cataño en Round Table" in text
    assert "Acepte la invitación aquí:" in text
