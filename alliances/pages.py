"""How a page inside an alliance is rendered: the alliance, the reader's membership and the tabs.

Every alliance view ends in `render_alliance()`, so a new page gets the same header and tabs without
rebuilding the context by hand. The tabs are data: a new app adds a line to `TABS`.
"""

from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from alliances.models import Member


@dataclass(frozen=True)
class TabSpec:
    url_name: str
    label: Promise
    # The pages (URL names) that belong to this tab: on them, the tab shows as the current one.
    pages: frozenset[str]
    stewards_only: bool = False


TABS = [
    TabSpec("alliance_detail", _("Overview"), frozenset({"alliance_detail"})),
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
        frozenset({"member_list", "member_edit", "member_leave", "invitation_create"}),
    ),
    TabSpec("delivery_list", _("Undelivered emails"), frozenset({"delivery_list"}), stewards_only=True),
]


@dataclass(frozen=True)
class Tab:
    label: str
    url: str
    # "page" on the tab's own page, "true" on a page inside it (WAI-ARIA), empty elsewhere.
    aria_current: str


def alliance_tabs(request: HttpRequest, member: Member) -> list[Tab]:
    match = request.resolver_match
    current = match.url_name if match and match.namespace == "alliances" else ""
    tabs = []
    for spec in TABS:
        if spec.stewards_only and not member.is_steward:
            continue
        if current == spec.url_name:
            aria_current = "page"
        elif current in spec.pages:
            aria_current = "true"
        else:
            aria_current = ""
        url = reverse(f"alliances:{spec.url_name}", kwargs={"slug": member.alliance.slug})
        tabs.append(Tab(label=str(spec.label), url=url, aria_current=aria_current))
    return tabs


def render_alliance(
    request: HttpRequest, member: Member, template: str, context: dict | None = None, *, status: int = 200
) -> HttpResponse:
    """Render an alliance page for `member`: `alliance`, `member` and `tabs` are in every context."""
    page = {"alliance": member.alliance, "member": member, "tabs": alliance_tabs(request, member)}
    page.update(context or {})
    return render(request, template, page, status=status)
