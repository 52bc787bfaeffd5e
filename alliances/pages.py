"""How a page inside an alliance is rendered: the alliance, the reader's membership and the tabs.

Every alliance view ends in `render_alliance()`, so a new page gets the same header and tabs without
rebuilding the context by hand. The tabs are data: a new app adds a line to `TABS`.
"""

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime

from crispy_forms.templatetags.crispy_forms_filters import as_crispy_form
from django.core.cache import cache
from django.core.paginator import Page, Paginator
from django.db.models import Count, QuerySet, Window
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.functional import Promise
from django.utils.safestring import SafeString
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from alliances import versions
from alliances.access import alliance_page_scope
from alliances.forms import InvitationForm
from alliances.models import Alliance, CharterChange, Invitation, Member, Norm, SettingChange
from roundtable import page_cache
from roundtable.http import AuthenticatedHttpRequest


@dataclass(frozen=True)
class TabSpec:
    # A URL name; without a namespace, one of this app's ("alliances:…").
    url_name: str
    label: Promise
    # The pages (URL names, namespaced like `url_name`) that belong to this tab: on them, the tab shows as
    # the current one. "meetings:" claims every page of that namespace, so an app's new pages need no line;
    # a page that another tab names itself belongs to that tab (the decision log, in "meetings:").
    pages: frozenset[str]
    stewards_only: bool = False


TABS = [
    TabSpec("alliance_detail", _("Overview"), frozenset({"alliance_detail"})),
    TabSpec("meetings:meeting_list", _("Meetings"), frozenset({"meetings:"})),
    TabSpec("meetings:decision_list", _("Decisions"), frozenset({"meetings:decision_list"})),
    TabSpec("tasks:todo_list", _("To-dos"), frozenset({"tasks:"})),
    TabSpec(
        "charter_detail",
        _("Charter"),
        frozenset(
            {
                "charter_detail",
                "charter_history",
                "charter_purpose_edit",
                "charter_logistics_edit",
                "norm_create",
                "norm_edit",
            }
        ),
    ),
    TabSpec(
        "member_list",
        _("Members"),
        frozenset({"member_list", "member_edit", "member_leave", "invitation_create", "former_member_list"}),
    ),
    TabSpec("delivery_list", _("Undelivered emails"), frozenset({"delivery_list"}), stewards_only=True),
]


@dataclass(frozen=True)
class Tab:
    label: str
    url: str
    # "page" on the tab's own page, "true" on a page inside it (WAI-ARIA), empty elsewhere.
    aria_current: str


def _qualified(url_name: str) -> str:
    return url_name if ":" in url_name else f"alliances:{url_name}"


def alliance_tabs(request: HttpRequest, member: Member) -> list[Tab]:
    match = request.resolver_match
    current = match.view_name if match else ""  # "meetings:meeting_detail"
    namespace = f"{match.namespace}:" if match and match.namespace else None
    named = any(current in {_qualified(page) for page in spec.pages} for spec in TABS)
    tabs = []
    for spec in TABS:
        if spec.stewards_only and not member.is_steward:
            continue
        if current == _qualified(spec.url_name):
            aria_current = "page"
        elif (namespace in spec.pages and not named) or current in {_qualified(page) for page in spec.pages}:
            aria_current = "true"
        else:
            aria_current = ""
        url = reverse(_qualified(spec.url_name), kwargs={"slug": member.alliance.slug})
        tabs.append(Tab(label=str(spec.label), url=url, aria_current=aria_current))
    return tabs


def render_alliance(
    request: HttpRequest, member: Member, template: str, context: dict | None = None, *, status: int = 200
) -> HttpResponse:
    """Render an alliance page for `member`: `alliance`, `member` and `tabs` are in every context."""
    page = {"alliance": member.alliance, "member": member, "tabs": alliance_tabs(request, member)}
    page.update(context or {})
    return render(request, template, page, status=status)


def cached_alliance_page(request: HttpRequest, member: Member, build: Callable[[], HttpResponse]) -> HttpResponse:
    """The page `build()` makes, kept for this reader until anything in the alliance changes.

    For the pages that only show the alliance's data: `build()` runs its queries and renders only when the
    cache has no copy for this reader and this version of the alliance (roundtable/page_cache.py). The copy
    is keyed on the reader and the slug, which `get_membership()` knows before the membership, so it
    fetches the copy in the same round trip (alliances/access.py); the copy's stamp holds the membership
    and the version it was built under.
    """

    def stamp() -> str:
        # The version the membership was checked under, if it was: read before anything the page shows.
        version = getattr(member, "alliance_version", None) or versions.version_of(member.alliance_id)
        return f"{member.alliance_id}:{member.pk}:{version}"

    return page_cache.cached_page(
        request,
        scope=lambda: alliance_page_scope(member.alliance.slug, member.user_id),
        stamp=stamp,
        build=build,
    )


def cached_reader_page(request: AuthenticatedHttpRequest, name: str, build: Callable[[], HttpResponse]) -> HttpResponse:
    """A page over all of the reader's alliances ("my alliances", "my to-dos"), kept until one of them
    changes (its version) or the reader's memberships do.

    The copy is keyed on the reader and stamped with their alliances and those alliances' versions, so the
    list of their alliances and the copy come back in one round trip to the cache, and the versions in a
    second (they need the list), where the key holding the versions took three.
    """
    if not page_cache.may_keep(request):
        return build()
    user_id = request.user.pk
    scope = f"{name}:{user_id}"
    key = page_cache.page_key(request, scope)
    list_key = versions.user_alliances_key(user_id)
    found = cache.get_many([list_key, key])
    page_cache.prefetched(request, scope, key, found.get(key))
    # Read before build() reads anything the page shows, as every stamp is.
    tokens = versions.versions_of(versions.alliances_of_user(user_id, found=found))
    stamp = ",".join(f"{pk}={token}" for pk, token in sorted(tokens.items()))
    return page_cache.cached_page(request, scope=lambda: scope, stamp=lambda: stamp, build=build)


# --- Long lists: rows built in Python ---------------------------------------------------------------
# A list with actions on every row is rendered from rows whose text and URLs are ready, so the template
# only prints variables: `{% url %}`, `|date` and `{% blocktranslate %}` in the loop cost 20-90 µs each
# per row (docs/performance.md).


def list_page(rows: QuerySet, number: str | None, per_page: int) -> Page:
    """The page `number` of `rows`, as Paginator.get_page() gives it, in one query instead of two.

    Paginator counts the rows with a query of its own before fetching the page. Here each fetched row
    carries the count of them all (COUNT(*) OVER (), computed by the database while it sorts them for
    the page anyway). Only a page past the end (nothing fetched) falls back to Paginator, which then
    answers the last page.
    """
    try:
        wanted = max(int(number or 1), 1)
    except ValueError:
        wanted = 1
    start = (wanted - 1) * per_page
    fetched = list(rows.annotate(list_total=Window(Count("pk")))[start : start + per_page])
    paginator = Paginator(rows, per_page)
    if not fetched and wanted > 1:
        return paginator.get_page(wanted)
    paginator.count = fetched[0].list_total if fetched else 0  # a cached_property: set, it is not queried
    page = paginator.page(wanted)
    page.object_list = fetched
    return page


# A pk no row has: reversed once, then replaced by each row's own.
_PK_PLACEHOLDER = 987654321987


def row_url(url_name: str, **kwargs: object) -> Callable[[int], str]:
    """One reverse() for a whole list: `row_url("alliances:member_steward", slug=s)(pk)` is each row's URL."""
    url = reverse(url_name, kwargs={**kwargs, "pk": _PK_PLACEHOLDER})
    # The pk is the last number in the path (the slug comes before it and cannot hold a slash).
    head, found, tail = url.rpartition(f"/{_PK_PLACEHOLDER}/")
    if not found:
        raise ValueError(f"{url_name} does not end in /<pk>/...")
    return lambda pk: f"{head}/{int(pk)}/{tail}"


@functools.lru_cache(maxsize=4096)
def _day_text(language: str, day: date) -> str:
    # `language` is the active one (a key only): the same days come back on every page of a list.
    return formats.date_format(day, "DATE_FORMAT")


def date_text(value: date | datetime) -> str:
    """A date as DATE_FORMAT shows it in the reader's language and time zone, each day formatted once.

    Formatting costs about 20 µs; a list of 50 members joined on 50 days would spend a millisecond on it
    per request. The local day is computed per row (the reader's time zone), its text is remembered.
    """
    day = timezone.localdate(value) if isinstance(value, datetime) else value
    return _day_text(translation.get_language(), day)


@functools.lru_cache(maxsize=4096)
def _moment_text(language: str, zone: str, moment: datetime) -> str:
    # `moment` is already in `zone`; equal instants in other zones are other keys.
    return formats.date_format(moment, "DATETIME_FORMAT")


def datetime_text(value: datetime) -> str:
    """A moment as DATETIME_FORMAT shows it in the reader's language and time zone, each formatted once."""
    return _moment_text(translation.get_language(), timezone.get_current_timezone_name(), timezone.localtime(value))


@dataclass(frozen=True)
class MemberRow:
    pk: int
    name: str
    detail: str  # "Organisation · since 3 March 2026"
    is_steward: bool
    is_reader: bool
    steward_url: str
    remove_url: str


def member_rows(members: Iterable[Member], *, reader: Member) -> list[MemberRow]:
    slug = reader.alliance.slug
    steward_url = row_url("alliances:member_steward", slug=slug)
    remove_url = row_url("alliances:member_deactivate", slug=slug)
    since = gettext("since %(date)s")
    rows = []
    for m in members:
        joined = since % {"date": date_text(m.joined_at)}
        rows.append(
            MemberRow(
                pk=m.pk,
                name=m.user.display_name,
                detail=f"{m.organisation} · {joined}" if m.organisation else joined,
                is_steward=m.is_steward,
                is_reader=m.user_id == reader.user_id,
                steward_url=steward_url(m.pk),
                remove_url=remove_url(m.pk),
            )
        )
    return rows


@dataclass(frozen=True)
class FormerMemberRow:
    name: str
    organisation: str
    detail: str  # "Left, March 3, 2026"


def former_member_rows(members: Iterable[Member]) -> list[FormerMemberRow]:
    reasons = {reason: str(label) for reason, label in Member.EndReason.choices}
    rows = []
    for m in members:
        reason = reasons.get(m.end_reason, m.end_reason)
        detail = f"{reason}, {date_text(m.ended_at)}" if m.ended_at else reason
        rows.append(FormerMemberRow(name=m.user.display_name, organisation=m.organisation, detail=detail))
    return rows


@dataclass(frozen=True)
class InvitationRow:
    pk: int
    email: str
    detail: str  # "expires 3 March 2026 · invited by Ana · written in Spanish"
    resend_url: str
    cancel_url: str


def invitation_rows(invitations: Iterable[Invitation], *, reader: Member) -> list[InvitationRow]:
    slug = reader.alliance.slug
    resend_url = row_url("alliances:invitation_resend", slug=slug)
    cancel_url = row_url("alliances:invitation_cancel", slug=slug)
    expired, expires = gettext("expired"), gettext("expires %(date)s")
    invited_by, written_in = gettext("invited by %(name)s"), gettext("written in %(language)s")
    rows = []
    for invitation in invitations:
        parts = [expired if invitation.is_expired else expires % {"date": date_text(invitation.expires_at)}]
        if invitation.invited_by:
            parts.append(invited_by % {"name": invitation.invited_by.display_name})
        parts.append(written_in % {"language": invitation.get_language_display()})
        rows.append(
            InvitationRow(
                pk=invitation.pk,
                email=invitation.email,
                detail=" · ".join(parts),
                resend_url=resend_url(invitation.pk),
                cancel_url=cancel_url(invitation.pk),
            )
        )
    return rows


@dataclass(frozen=True)
class NormRow:
    pk: int
    number: int  # its place in the charter, from 1
    text: str
    agreed: str  # "Agreed on March 3, 2026", or ""
    move_url: str
    edit_url: str
    retire_url: str
    # What the buttons say to a screen reader: "Move norm 2 up", "norm 2".
    up_label: str
    down_label: str
    name: str


def norm_rows(norms: Iterable[Norm], *, reader: Member) -> list[NormRow]:
    slug = reader.alliance.slug
    move_url = row_url("alliances:norm_move", slug=slug)
    edit_url = row_url("alliances:norm_edit", slug=slug)
    retire_url = row_url("alliances:norm_retire", slug=slug)
    agreed_on, up, down, name = (
        gettext("Agreed on %(date)s"),
        gettext("Move norm %(n)s up"),
        gettext("Move norm %(n)s down"),
        gettext("norm %(n)s"),
    )
    return [
        NormRow(
            pk=norm.pk,
            number=number,
            text=norm.text,
            agreed=agreed_on % {"date": date_text(norm.agreed_on)} if norm.agreed_on else "",
            move_url=move_url(norm.pk),
            edit_url=edit_url(norm.pk),
            retire_url=retire_url(norm.pk),
            up_label=up % {"n": number},
            down_label=down % {"n": number},
            name=name % {"n": number},
        )
        for number, norm in enumerate(norms, start=1)
    ]


@dataclass(frozen=True)
class ChangeRow:
    change: CharterChange
    label: str  # "Norm added"
    byline: str  # "by Ana, March 3, 2026, 4:05 p.m."
    settings: list[SettingChange]  # a logistics change's settings, labelled


def change_rows(changes: Iterable[CharterChange]) -> list[ChangeRow]:
    labels = {kind: str(label) for kind, label in CharterChange.Kind.choices}
    by, someone = gettext("by %(who)s, %(when)s"), gettext("someone")
    return [
        ChangeRow(
            change=change,
            label=labels.get(change.kind, change.kind),
            byline=by
            % {
                "who": change.changed_by.display_name if change.changed_by else someone,
                "when": datetime_text(change.changed_at),
            },
            settings=change.setting_changes() if change.has_values else [],
        )
        for change in changes
    ]


@dataclass(frozen=True)
class RetiredNormRow:
    text: str
    byline: str  # "retired by Ana on March 3, 2026"


def retired_norm_rows(norms: Iterable[Norm]) -> list[RetiredNormRow]:
    retired_by, someone = gettext("retired by %(who)s on %(when)s"), gettext("someone")
    rows = []
    for norm in norms:
        assert norm.retired_at is not None  # noqa: S101 - the caller fetches retired norms only
        who = norm.retired_by.display_name if norm.retired_by else someone
        rows.append(
            RetiredNormRow(text=norm.text, byline=retired_by % {"who": who, "when": date_text(norm.retired_at)})
        )
    return rows


# --- Fragments that depend only on the code and a few values -----------------------------------------


@functools.lru_cache(maxsize=64)
def _blank_invitation_form(language: str, alliance_language: str) -> SafeString:
    # `language` is the active one (a key only: the labels are translated in it).
    return as_crispy_form(InvitationForm(initial={"language": alliance_language}))


def invitation_form_html(form: InvitationForm | None, *, alliance: Alliance) -> SafeString:
    """The invitation form as crispy renders it; the empty one is rendered once per process and language.

    Crispy renders a form through a dozen templates per field (about 1.5 ms for this one, on every steward's
    members page). The empty form holds nothing of the reader's or of the request's (the CSRF token is
    outside it), only its labels in the reader's language and the alliance's language chosen: a new
    process (a deploy) renders it again.
    """
    if form is None:
        return _blank_invitation_form(translation.get_language(), alliance.language)
    return as_crispy_form(form)
