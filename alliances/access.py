"""Who may see and change what in an alliance.

Every alliance page fetches the reader's membership through `get_membership()`: someone who is not an
active member gets 404, whether or not the alliance exists, so that its existence does not leak.
"""

from django.http import Http404, HttpRequest

from alliances.models import Member
from alliances.services import require_steward


def get_membership(request: HttpRequest, slug: str) -> Member:
    # Every alliance page pays for this query (docs/performance.md): no join on the user, whom the session
    # has already loaded, and no ORDER BY (Member's default ordering would join the user to sort one row).
    try:
        member = Member.objects.active().select_related("alliance").get(alliance__slug=slug, user=request.user)
    except Member.DoesNotExist:
        raise Http404 from None
    member.user = request.user
    return member


def get_stewardship(request: HttpRequest, slug: str) -> Member:
    """The membership of a steward: 404 to a non-member, 403 to a member who is not a steward."""
    member = get_membership(request, slug)
    require_steward(member)
    return member
