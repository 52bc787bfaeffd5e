"""Who may see and change what in an alliance.

Every alliance page fetches the reader's membership through `get_membership()`: someone who is not an
active member gets 404, whether or not the alliance exists, so that its existence does not leak.

A page that is read (GET) takes the membership from the cache when it was read under the alliance's
current version (alliances/versions.py): every change to a membership, its alliance or its person gives the
alliance a new version, so a member removed, or a steward who is one no more, is refused at once, exactly
as when the database is asked. The membership, the alliance's version and the reader's kept copy of the
page (roundtable/page_cache.py) come back in one round trip to the cache: a kept page then costs the
sign-in's two queries and that round trip, where the membership query alone cost more than the ceiling's
two (bench/RESULTS.md). A write (POST) always asks the database: what it may do is decided on the row as
it is now.
"""

from django.conf import settings
from django.core.cache import cache
from django.http import Http404, HttpRequest

from alliances import versions
from alliances.models import Member
from alliances.services import require_steward
from roundtable import page_cache

# The reader's membership of the alliance at a slug: (alliance id, the alliance's version it was read
# under, the Member with its alliance). An entry whose version is not the current one is read again.
_MEMBERSHIP_KEY = "membership:{}:{}"
# Unused entries go after an hour; a version that moves on retires them sooner (they are never read).
_MEMBERSHIP_SECONDS = 3600

# The alliance at each slug this process has met. Only a hint, so that the alliance's version comes in the
# same round trip as the membership: a membership is kept only when the database's answer names this
# alliance too (a slug now given to another alliance is noticed there).
_ALLIANCE_AT_SLUG: dict[str, int] = {}
_SLUGS_REMEMBERED = 10_000


def alliance_page_scope(slug: str, user_id: int) -> str:
    """What an alliance page's kept copy is keyed on beyond every page's key; its stamp holds the version."""
    return f"alliance-page:{slug}:{user_id}"


def get_membership(request: HttpRequest, slug: str) -> Member:
    user_id = request.user.pk
    if not settings.PAGE_CACHE_SECONDS or request.method not in {"GET", "HEAD"} or user_id is None:
        return _with_reader(_read(request, slug), request, None)
    entry_key = _MEMBERSHIP_KEY.format(slug, user_id)
    hint = _ALLIANCE_AT_SLUG.get(slug)
    keys = [entry_key] + ([versions.version_key(hint)] if hint is not None else [])
    page_scope, page_key = alliance_page_scope(slug, user_id), None
    if page_cache.may_keep(request):
        page_key = page_cache.page_key(request, page_scope)
        keys.append(page_key)
    found = cache.get_many(keys)
    if page_key is not None:
        page_cache.prefetched(request, page_scope, page_key, found.get(page_key))

    entry = found.get(entry_key)
    alliance_id = entry[0] if entry else hint
    version = None
    if alliance_id is not None:
        version = found.get(versions.version_key(alliance_id)) if alliance_id == hint else None
        version = version or versions.version_of(alliance_id)  # a token not met before: one more round trip
    if entry is not None and entry[1] == version and entry[2].user_id == user_id:
        _remember(slug, entry[0])
        return _with_reader(entry[2], request, version)

    # The version was read before the database is: a change that commits in between gives the alliance a
    # new version, so what is read now is never kept under a version newer than itself.
    member = _read(request, slug)
    _remember(slug, member.alliance_id)
    if member.alliance_id != alliance_id:
        # This process has not met the slug yet (or it names another alliance now): the version was not read
        # first, so the membership is not kept; the next read keeps it.
        return _with_reader(member, request, None)
    cache.set(entry_key, (alliance_id, version, member), _MEMBERSHIP_SECONDS)
    return _with_reader(member, request, version)


def _read(request: HttpRequest, slug: str) -> Member:
    # The query every page paid before the cache (docs/performance.md): no join on the user, whom the session
    # has already loaded, and no ORDER BY (Member's default ordering would join the user to sort one row).
    try:
        return Member.objects.active().select_related("alliance").get(alliance__slug=slug, user=request.user)
    except Member.DoesNotExist:
        raise Http404 from None


def _with_reader(member: Member, request: HttpRequest, version: str | None) -> Member:
    member.user = request.user  # type: ignore[assignment]  # signed in: the views require it
    # The version the membership was checked under: the page cache stamps the copy it keeps with it
    # (alliances.pages.cached_alliance_page), rather than asking the cache for it again.
    member.alliance_version = version  # type: ignore[attr-defined]
    return member


def _remember(slug: str, alliance_id: int) -> None:
    if _ALLIANCE_AT_SLUG.get(slug) != alliance_id:
        if len(_ALLIANCE_AT_SLUG) >= _SLUGS_REMEMBERED:
            _ALLIANCE_AT_SLUG.clear()
        _ALLIANCE_AT_SLUG[slug] = alliance_id


def forget_slugs() -> None:
    """Forget the alliances met at each slug, as a new process starts (for tests: ids come back after a rollback)."""
    _ALLIANCE_AT_SLUG.clear()


def get_stewardship(request: HttpRequest, slug: str) -> Member:
    """The membership of a steward: 404 to a non-member, 403 to a member who is not a steward."""
    member = get_membership(request, slug)
    require_steward(member)
    return member
