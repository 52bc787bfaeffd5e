"""Running a service call from a plain form post and telling the person how it went."""

from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest

from roundtable.errors import DomainError


def attempt(request: HttpRequest, action: Callable[[], object], *, success: str) -> bool:
    """Call `action`; on success queue `success` as a message, on a broken rule queue its error.

    For actions whose page redirects afterwards, so the outcome is shown on the next page. Forms
    that re-render show errors on the form instead (`form.add_error`). Returns whether it succeeded.
    """
    try:
        action()
    except DomainError as error:
        messages.error(request, str(error))
        return False
    messages.success(request, success)
    return True
