"""Validators that every app's forms can use."""

import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# Control characters (Cc: NUL, tab, CR, LF, DEL, C1…) and the Unicode line and paragraph separators. Format
# characters (Cf) stay allowed: zero-width joiners and direction marks belong in many people's names.
_NOT_ON_ONE_LINE = frozenset({"Cc", "Zl", "Zp"})


def validate_single_line(value: str) -> None:
    """Refuse text that is not one plain line: names and titles end up in email headers and page titles.

    A display name with CR/LF makes every email to that person fail for good (Django refuses an
    email header with a line break), and NUL is refused by PostgreSQL with a 500.
    """
    if any(unicodedata.category(character) in _NOT_ON_ONE_LINE for character in value):
        raise ValidationError(
            _("Write this on one line, without line breaks, tabs or other control characters."),
            code="single_line",
        )
