from typing import Any

from django import forms
from django.forms.utils import flatatt
from django.utils import translation
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from accounts import time_zones


class TimeZoneSelect(forms.Select):
    """A <select> of the offered time zones in the reader's language, with a type-to-find box.

    The options come ready-made from `time_zones.options_html` (one string per language, built once);
    rendering marks the chosen one with a single text replacement instead of rendering ~420 option
    templates. static/js/app.js adds the search box described by the data attributes: without
    JavaScript the plain grouped list still works.
    """

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> SafeString:
        final_attrs = self.build_attrs(self.attrs, attrs)
        final_attrs["name"] = name
        final_attrs.setdefault("data-time-zone-search", gettext("Find by city or country"))
        final_attrs.setdefault("data-time-zone-matches", gettext("Time zones that match: {count}"))
        final_attrs.setdefault("data-time-zone-none", gettext("No time zone matches. Try a city or a country."))
        options: str = time_zones.options_html(translation.get_language() or "en")
        chosen = time_zones.canonical("" if value is None else str(value))
        marker = f'value="{escape(chosen)}">'
        if chosen and marker in options:
            options = options.replace(marker, f'value="{escape(chosen)}" selected>', 1)
        elif chosen:
            # A zone stored before the list was trimmed (e.g. "Etc/GMT+4") stays shown and chosen.
            options = format_html('<option value="{}" selected>{}</option>', chosen, chosen) + options
        return mark_safe(f"<select{flatatt(final_attrs)}>{options}</select>")  # noqa: S308 (escaped above)
