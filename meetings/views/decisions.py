"""The decision log: every decision of the alliance, newest first, with a search (meetings/models.py
`DecisionQuerySet.matching`: full-text on PostgreSQL in the reader's language, `icontains` elsewhere).

Built like the members page (docs/performance.md): one query for the page of decisions and their count,
one for the page's stand-asides, rows made in Python, 50 a page, kept whole by the page cache.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.translation import gettext as _

from alliances.access import get_membership
from alliances.models import Member
from alliances.pages import cached_alliance_page, date_text, list_page, render_alliance, row_url
from meetings.models import Decision, Stance
from roundtable.http import AuthenticatedHttpRequest

DECISIONS_PER_PAGE = 50
SEARCH_MAX_LENGTH = 100


@dataclass(frozen=True)
class StandAside:
    name: str
    reason: str


@dataclass(frozen=True)
class DecisionRow:
    pk: int
    title: str  # the agenda item's
    text: str
    outcome: str  # "Consensus", "Consensus on the amended proposal (version 2)"
    decided: str  # "Decided on March 3, 2026"
    meeting: str  # "Meeting of March 3, 2026"
    meeting_url: str
    stand_asides: list[StandAside]


def search_text(request: HttpRequest) -> str:
    """The search box's text, on one line and at most 100 characters; PostgreSQL refuses a NUL in a query."""
    return " ".join(request.GET.get("q", "").replace("\x00", "").split())[:SEARCH_MAX_LENGTH]


def _stand_asides(decisions: list[Decision]) -> dict[int, list[StandAside]]:
    """Who stood aside from each decision's proposal, with their reasons: one query for the whole page."""
    if not decisions:
        return {}
    stances = (
        Stance.objects.filter(proposal_id__in=[d.proposal_id for d in decisions], kind=Stance.Kind.STAND_ASIDE)
        .select_related("member__user")
        .only("proposal_id", "reason", "member__joined_at", "member__user__display_name")
        .order_by("member__joined_at", "member_id")
    )
    found: dict[int, list[StandAside]] = defaultdict(list)
    for stance in stances:
        found[stance.proposal_id].append(StandAside(name=stance.member.user.display_name, reason=stance.reason))
    return found


def decision_rows(decisions: Iterable[Decision], *, reader: Member) -> list[DecisionRow]:
    decisions = list(decisions)
    stand_asides = _stand_asides(decisions)
    meeting_url = row_url("meetings:meeting_detail", slug=reader.alliance.slug)
    consensus = _("Consensus")
    amended = _("Consensus on the amended proposal (version %(number)s)")
    decided_on, meeting_of = _("Decided on %(date)s"), _("Meeting of %(date)s")
    return [
        DecisionRow(
            pk=decision.pk,
            title=decision.item.title,
            text=decision.text,
            outcome=amended % {"number": decision.proposal.number} if decision.proposal.number > 1 else consensus,
            decided=decided_on % {"date": date_text(decision.decided_at)},
            meeting=meeting_of % {"date": date_text(decision.meeting.starts_at)},
            meeting_url=meeting_url(decision.meeting_id),
            stand_asides=stand_asides.get(decision.proposal_id, []),
        )
        for decision in decisions
    ]


def decision_list(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    """The decision log, newest first, 50 a page, with a search box."""
    member = get_membership(request, slug)
    return cached_alliance_page(request, member, lambda: _decision_list(request, member))


def _decision_list(request: HttpRequest, member: Member) -> HttpResponse:
    query = search_text(request)
    decisions = (
        Decision.objects.for_alliance(member.alliance)
        .select_related("meeting", "item", "proposal")
        .only(
            "text",
            "decided_at",
            "alliance_id",
            "meeting_id",
            "proposal_id",
            "meeting__starts_at",
            "item__title",
            "proposal__number",
        )
    )
    if query:
        decisions = decisions.matching(query, language=translation.get_language())
    page = list_page(decisions, request.GET.get("page"), DECISIONS_PER_PAGE)
    context = {"page": page, "decisions": decision_rows(page, reader=member), "query": query}
    return render_alliance(request, member, "meetings/decision_list.html", context)
