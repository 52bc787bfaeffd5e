"""The time zones people choose from, named in the reader's language.

The list is the IANA zones that zone.tab gives for some country (read from the `tzdata` package, not the
operating system), plus UTC: no "Factory", "localtime", "Etc/GMT+4" or old aliases such as "US/Eastern".
Names come from the CLDR data that Babel ships: "España — Madrid", "Estados Unidos — Nueva York". The
options are grouped by region and built once per language: a <select> of about 420 options rendered
through Django's per-option widget templates cost over 100 ms a page.
"""

import functools
import importlib.resources
import unicodedata
import zoneinfo

from babel import Locale
from babel.core import get_global
from babel.dates import get_timezone_location
from django.utils import translation
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext, pgettext

UTC = "UTC"

# A zone's first path part → the CLDR region code whose name the reader sees, or None for the oceans,
# which CLDR does not name. Arctic/Longyearbyen is Svalbard, in Europe; Australia joins Oceania.
_REGIONS: dict[str, str | None] = {
    "Africa": "002",
    "America": "019",
    "Antarctica": "AQ",
    "Arctic": "150",
    "Asia": "142",
    "Atlantic": None,
    "Australia": "009",
    "Europe": "150",
    "Indian": None,
    "Pacific": "009",
}


def _ocean_name(prefix: str) -> str:
    names = {
        "Atlantic": pgettext("time zone region", "Atlantic Ocean"),
        "Indian": pgettext("time zone region", "Indian Ocean"),
    }
    return names[prefix]


@functools.cache
def _zone_countries() -> dict[str, str]:
    """Each offered zone and the country code zone.tab gives it, in the file's order."""
    text = (importlib.resources.files("tzdata.zoneinfo") / "zone.tab").read_text(encoding="utf-8")
    available = zoneinfo.available_timezones()
    zones = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            country, _coordinates, zone = line.split("\t")[:3]
            if zone in available and zone.split("/")[0] in _REGIONS:
                zones[zone] = country
    return zones


@functools.cache
def _aliases() -> dict[str, str]:
    """Old or other names (CLDR's list, e.g. "US/Eastern", "Asia/Calcutta") → the offered zone."""
    offered = _zone_countries()
    aliases = {alias: zone for alias, zone in get_global("zone_aliases").items() if zone in offered}
    for alias in ("Etc/UTC", "Etc/UCT", "Etc/Universal", "Etc/Zulu", "UCT", "Universal", "Zulu"):
        aliases[alias] = UTC
    return aliases


def offered_zones() -> frozenset[str]:
    return frozenset(_zone_countries()) | {UTC}


def canonical(zone: str) -> str:
    """The offered zone a stored or submitted name stands for; other names come back unchanged."""
    if zone in _zone_countries() or zone == UTC:
        return zone
    return _aliases().get(zone, zone)


def is_valid(zone: str) -> bool:
    """Offered zones and their aliases; any other zone Python knows is still accepted, so that a zone
    stored before the list was trimmed (e.g. "Etc/GMT+4") can be kept when a form is saved unchanged."""
    if canonical(zone) in offered_zones():
        return True
    return zone in _known_zones()


@functools.cache
def _known_zones() -> frozenset[str]:
    # available_timezones() walks the zone folders on every call. "Factory" is tzdb's "no zone set" and
    # "localtime" whatever the server's clock says: neither is a place.
    return frozenset(zoneinfo.available_timezones()) - {"Factory", "localtime"}


def _fold(text: str) -> str:
    """A sort key that ignores case and accents, so "Ámsterdam" sorts with the A's."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()


def _locale(language: str) -> Locale:
    try:
        return Locale.parse(translation.to_locale(language))
    except (ValueError, LookupError):
        return Locale.parse("en")


def label(zone: str, *, language: str | None = None) -> str:
    """How a reader names a zone: "España — Madrid" in Spanish; the raw name for a zone not offered."""
    language = language or translation.get_language() or "en"
    return _labels(language).get(canonical(zone), zone)


@functools.cache
def _labels(language: str) -> dict[str, str]:
    locale = _locale(language)
    with translation.override(language):
        labels = {UTC: gettext("Coordinated Universal Time (UTC)")}
    for zone, country_code in _zone_countries().items():
        country = locale.territories.get(country_code, country_code)
        city = get_timezone_location(zone, locale=locale, return_city=True)
        labels[zone] = country if _fold(city) == _fold(country) else f"{country} — {city}"
    return labels


@functools.cache
def options_html(language: str) -> SafeString:
    """The <option>s, grouped by region, for one language; each option's `value` attribute comes last so
    that the widget can mark the chosen one by text replacement (see accounts/widgets.py)."""
    locale = _locale(language)
    labels = _labels(language)
    # Browsers report some zones by another name (Chrome says "Asia/Calcutta"): static/js/app.js reads
    # data-aliases to preselect the visitor's zone on sign-up.
    other_names: dict[str, list[str]] = {}
    for alias, zone in _aliases().items():
        if alias.split("/")[0] in _REGIONS:
            other_names.setdefault(zone, []).append(alias)
    groups: dict[str, list[str]] = {}
    with translation.override(language):
        for zone in _zone_countries():
            prefix = zone.split("/")[0]
            code = _REGIONS[prefix]
            region = locale.territories.get(code, code) if code else _ocean_name(prefix)
            groups.setdefault(region, []).append(zone)

    def option(zone: str) -> SafeString:
        aliases = " ".join(sorted(other_names.get(zone, [])))
        if aliases:
            return format_html('<option data-aliases="{}" value="{}">{}</option>', aliases, zone, labels[zone])
        return format_html('<option value="{}">{}</option>', zone, labels[zone])

    parts = [option(UTC)]
    for region in sorted(groups, key=_fold):
        zones = sorted(groups[region], key=lambda zone: _fold(labels[zone]))
        parts.append(
            format_html(
                '<optgroup label="{}">{}</optgroup>', region, format_html_join("", "{}", ((option(z),) for z in zones))
            )
        )
    return SafeString("".join(parts))
