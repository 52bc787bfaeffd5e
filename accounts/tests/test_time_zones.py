"""The time zone list: real places only, grouped by region, named in the reader's language."""

import re
import unicodedata

import pytest
from django.urls import reverse

from accounts.models import User
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PROFILE_URL = reverse("accounts:profile")


def _select(html: str) -> str:
    match = re.search(r'<select[^>]*name="time_zone".*?</select>', html, re.DOTALL)
    assert match, "no time zone list on the page"
    return match.group(0)


def _options(html: str) -> dict[str, str]:
    """value → visible label of every option of the time zone list."""
    return dict(re.findall(r'<option[^>]*value="([^"]*)"[^>]*>([^<]*)</option>', _select(html)))


def _selected(html: str) -> list[str]:
    return re.findall(r'<option[^>]*value="([^"]*)" selected>', _select(html))


def _profile(client, **user_fields: str) -> tuple[User, str]:
    user = UserFactory(**{"language": "en", "time_zone": "UTC", **user_fields})
    client.force_login(user)
    response = client.get(PROFILE_URL)
    assert response.status_code == 200
    return user, response.content.decode()


def test_the_list_offers_places_not_technical_or_old_names(client):
    _, html = _profile(client)
    options = _options(html)

    for technical in ("Factory", "localtime", "Etc/GMT+4", "US/Eastern", "Asia/Calcutta", "EST5EDT", "posixrules"):
        assert technical not in options
    for place in ("UTC", "Europe/Madrid", "America/New_York", "America/Bogota", "Asia/Kolkata", "Pacific/Auckland"):
        assert place in options
    # About 600 names before; one per place in the zone table now.
    assert 380 < len(options) < 450


def test_zones_are_grouped_by_region_and_named_in_english(client):
    _, html = _profile(client)

    groups = re.findall(r'<optgroup label="([^"]*)">', _select(html))
    assert {"Africa", "Americas", "Asia", "Europe", "Oceania", "Antarctica"} <= set(groups)
    assert _options(html)["Europe/Madrid"] == "Spain — Madrid"
    assert _options(html)["America/New_York"] == "United States — New York"
    europe = re.search(r'<optgroup label="Europe">(.*?)</optgroup>', html, re.DOTALL).group(1)
    assert 'value="Europe/Madrid"' in europe
    assert 'value="America/New_York"' not in europe


def test_a_spanish_reader_reads_places_and_regions_in_spanish(client):
    _, html = _profile(client, language="es")

    options = _options(html)
    assert options["Europe/Madrid"] == "España — Madrid"
    assert options["America/New_York"] == "Estados Unidos — Nueva York"
    assert options["Atlantic/Canary"] == "España — Canarias"
    groups = re.findall(r'<optgroup label="([^"]*)">', _select(html))
    assert {"África", "América", "Europa", "Oceanía"} <= set(groups)
    # Sorted as a Spanish reader expects, accents aside: "Austria" comes before "Bélgica".
    europe = re.findall(
        r"<option[^>]*>([^<]*)</option>", html.split('<optgroup label="Europa">')[1].split("</optgroup>")[0]
    )
    assert europe == sorted(europe, key=lambda label: unicodedata.normalize("NFKD", label).encode("ascii", "ignore"))


def test_the_list_has_a_type_to_find_box_described_in_the_readers_language(client):
    _, html = _profile(client)

    select = _select(html)
    assert 'data-time-zone-search="Find by city or country"' in select
    assert 'id="id_time_zone"' in select
    assert re.search(r'class="[^"]*\bform-select\b', select)


def test_the_readers_zone_is_the_one_chosen(client):
    _, html = _profile(client, time_zone="America/Bogota")

    assert _selected(html) == ["America/Bogota"]


def test_an_old_alias_shows_as_its_place_and_is_saved_as_it(client):
    user, html = _profile(client, time_zone="US/Eastern")

    assert _selected(html) == ["America/New_York"]
    client.post(PROFILE_URL, {"display_name": user.display_name, "language": "en", "time_zone": "US/Eastern"})

    user.refresh_from_db()
    assert user.time_zone == "America/New_York"


def test_a_stored_zone_outside_the_list_is_shown_and_kept_when_saving_something_else(client):
    user, html = _profile(client, time_zone="Etc/GMT+4")

    assert _selected(html) == ["Etc/GMT+4"]
    response = client.post(PROFILE_URL, {"display_name": "New Name", "language": "en", "time_zone": "Etc/GMT+4"})

    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.display_name, user.time_zone) == ("New Name", "Etc/GMT+4")


@pytest.mark.parametrize("zone", ["Factory", "localtime", "Mars/Olympus_Mons", "../../etc/passwd", ""])
def test_a_zone_that_is_no_place_is_refused_with_a_clear_error(client, zone):
    user, _ = _profile(client)

    response = client.post(PROFILE_URL, {"display_name": "New Name", "language": "en", "time_zone": zone})

    assert response.status_code == 200
    assert response.context["form"].errors["time_zone"]
    user.refresh_from_db()
    assert (user.display_name, user.time_zone) == (user.display_name, "UTC")


def test_sign_up_offers_the_same_list_with_the_browsers_zone_detection(client):
    response = client.get(reverse("accounts:signup"))

    select = _select(response.content.decode())
    assert "data-detect-time-zone" in select
    assert 'value="Europe/Madrid"' in select
    # Chrome reports India as "Asia/Calcutta": the option says so, for static/js/app.js.
    assert re.search(r'<option data-aliases="[^"]*\bAsia/Calcutta\b[^"]*" value="Asia/Kolkata">', select)


def test_an_alliances_logistics_offer_the_same_list(client, alliance, steward_user):
    client.force_login(steward_user)

    response = client.get(reverse("alliances:charter_logistics_edit", args=[alliance.slug]))

    options = _options(response.content.decode())
    assert "Europe/Madrid" in options
    assert "Factory" not in options
