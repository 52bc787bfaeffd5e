from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth.decorators import login_not_required
from django.db.models import Count, F, IntegerField, OuterRef, Q, Subquery
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from accounts.models import User
from alliances import services
from alliances.access import get_membership, get_stewardship
from alliances.forms import (
    AllianceForm,
    InvitationAcceptForm,
    InvitationForm,
    LogisticsForm,
    MemberForm,
    NewMemberAccountForm,
    NormForm,
    PurposeForm,
)
from alliances.models import Alliance, CharterChange, Invitation, Member, Norm
from alliances.pages import (
    cached_alliance_page,
    cached_reader_page,
    change_rows,
    former_member_rows,
    invitation_form_html,
    invitation_rows,
    list_page,
    member_rows,
    norm_rows,
    render_alliance,
    retired_norm_rows,
)
from alliances.services import AllianceError, InvitationInvalid, InvitationResult, InvitationSkip
from meetings.models import Meeting
from outbox import services as outbox_services
from outbox.models import Delivery
from roundtable import page_cache
from roundtable.actions import attempt
from roundtable.http import AuthenticatedHttpRequest


def alliance_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    # Kept for the reader until one of their alliances changes (its version) or their memberships do.
    return cached_reader_page(request, "alliances-of", lambda: _alliance_list(request))


def _alliance_list(request: HttpRequest) -> HttpResponse:
    # The count as a subquery per row, and only the columns shown: a join and GROUP BY over every member
    # of every alliance, with the alliances' long texts, cost twice as much (docs/performance.md).
    active_members = (
        Member.objects.active()
        .filter(alliance=OuterRef("alliance"))
        .order_by()
        .values("alliance")
        .annotate(n=Count("pk"))
    )
    memberships = (
        Member.objects.active()
        .filter(user=request.user)
        .select_related("alliance")
        .only("organisation", "is_steward", "alliance__name", "alliance__slug")
        .annotate(member_count=Subquery(active_members.values("n"), output_field=IntegerField()))
        .order_by("alliance__name")
    )
    return render(request, "alliances/alliance_list.html", {"memberships": memberships})


def alliance_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    user = request.user
    # The empty form shows nothing of any alliance, only what the header shows of the reader: that is the
    # copy's whole key (with what every page's key holds). A POST is always built.
    return page_cache.cached_page(
        request,
        scope=lambda: f"alliance-create:{user.pk}:{user.display_name}:{user.is_staff}",
        build=lambda: _alliance_create(request),
    )


def _alliance_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = AllianceForm(request.POST or None)
    if form.is_valid():
        try:
            alliance = services.alliance_create(
                name=form.cleaned_data["name"],
                slug=form.cleaned_data["slug"],
                organisation=form.cleaned_data["organisation"],
                created_by=request.user,
            )
        except AllianceError:
            # Taken a moment ago by someone else: said next to the name or the address, as the form does.
            form.add_slug_taken_error(form.cleaned_data["slug"])
        else:
            messages.success(request, _("Your alliance is ready. Next, write its charter and invite its members."))
            return redirect(alliance)
    return render(request, "alliances/alliance_form.html", {"form": form})


# A page of a members list: the cost of a page is the cost of its rows (docs/performance.md).
MEMBERS_PER_PAGE = 50


def _members(alliance: Alliance):
    # Only what the lists show: a member row is built from these (alliances.pages.member_rows).
    return (
        Member.objects.active()
        .filter(alliance=alliance)
        .select_related("user")
        .only("organisation", "is_steward", "joined_at", "user_id", "alliance_id", "user__display_name")
    )


def alliance_detail(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    member = get_membership(request, slug)
    return cached_alliance_page(request, member, lambda: _alliance_detail(request, member))


def _alliance_detail(request: HttpRequest, member: Member) -> HttpResponse:
    alliance = member.alliance
    # The first page of the members list; a large alliance's others are on the members page.
    members = list_page(_members(alliance), None, MEMBERS_PER_PAGE)
    context = {
        "norms": Norm.objects.filter(alliance=alliance).current(),
        "members": members.object_list,
        "member_count": members.paginator.count,
        "invitations": Invitation.objects.pending().filter(alliance=alliance) if member.is_steward else None,
        "next_meeting": _next_meeting(alliance),
        "awaiting_notes": _awaiting_notes(alliance),
    }
    return render_alliance(request, member, "alliances/alliance_detail.html", context)


def _next_meeting(alliance: Alliance) -> Meeting | None:
    # Only what the home page shows: the whole rows of a meeting, two members and two users cost twice the
    # Python of these columns (docs/performance.md, "What a query costs").
    meeting = (
        Meeting.objects.for_alliance(alliance)
        .upcoming()
        .select_related("facilitator__user", "note_taker__user")
        .only(
            "starts_at",
            "duration_minutes",
            "time_zone",
            "status",
            "alliance_id",
            "facilitator__user__display_name",
            "note_taker__user__display_name",
        )
        .first()
    )
    if meeting is not None:
        meeting.alliance = alliance  # its link names the alliance: no query to fetch it again
    return meeting


# Meetings that ended and whose notes are not sent yet: the few most recent (the reminders follow them up).
AWAITING_NOTES_SHOWN = 5


def _awaiting_notes(alliance: Alliance) -> list[Meeting]:
    meetings = list(
        Meeting.objects.for_alliance(alliance)
        .awaiting_notes()
        .select_related("note_taker__user")
        .only("starts_at", "duration_minutes", "time_zone", "alliance_id", "note_taker__user__display_name")[
            :AWAITING_NOTES_SHOWN
        ]
    )
    for meeting in meetings:
        meeting.alliance = alliance
    return meetings


# --- Charter ----------------------------------------------------------------------------------------


def charter_detail(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    member = get_membership(request, slug)

    def build() -> HttpResponse:
        context = {"norms": norm_rows(Norm.objects.filter(alliance=member.alliance).current(), reader=member)}
        return render_alliance(request, member, "alliances/charter_detail.html", context)

    return cached_alliance_page(request, member, build)


# The history only grows: newest first, 50 changes a page.
CHARTER_CHANGES_PER_PAGE = 50


def charter_history(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    member = get_membership(request, slug)
    return cached_alliance_page(request, member, lambda: _charter_history(request, member))


def _charter_history(request: HttpRequest, member: Member) -> HttpResponse:
    # The people and norms named in the history: their names and texts only, not their whole rows.
    changes = (
        CharterChange.objects.filter(alliance=member.alliance)
        .select_related("changed_by", "norm")
        .only(*(field.name for field in CharterChange._meta.concrete_fields), "changed_by__display_name", "norm__text")
    )
    page = list_page(changes, request.GET.get("page"), CHARTER_CHANGES_PER_PAGE)
    context = {"page": page, "changes": change_rows(page)}
    if page.number == 1:
        retired = (
            Norm.objects.filter(alliance=member.alliance, retired_at__isnull=False)
            .select_related("retired_by")
            .only("text", "retired_at", "alliance_id", "retired_by__display_name")
        )
        context["retired_norms"] = retired_norm_rows(retired)
    return render_alliance(request, member, "alliances/charter_history.html", context)


def charter_purpose_edit(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    member = get_stewardship(request, slug)
    # The empty form shows only the alliance's purpose: kept until the alliance changes (a POST is built).
    return cached_alliance_page(request, member, lambda: _charter_purpose_edit(request, member))


def _charter_purpose_edit(request: AuthenticatedHttpRequest, member: Member) -> HttpResponse:
    alliance = member.alliance
    form = PurposeForm(request.POST or None, instance=alliance)
    if form.is_valid():
        services.charter_set_purpose(
            alliance=alliance,
            purpose=form.cleaned_data["purpose"],
            agreed_on=form.cleaned_data["purpose_agreed_on"],
            by=request.user,
        )
        messages.success(request, _("The shared purpose has been saved."))
        return redirect("alliances:charter_detail", slug=alliance.slug)
    return render_alliance(request, member, "alliances/purpose_form.html", {"form": form})


def charter_logistics_edit(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    member = get_stewardship(request, slug)
    return cached_alliance_page(request, member, lambda: _charter_logistics_edit(request, member))


def _charter_logistics_edit(request: AuthenticatedHttpRequest, member: Member) -> HttpResponse:
    alliance = member.alliance
    form = LogisticsForm(request.POST or None, instance=alliance)
    if form.is_valid():
        services.charter_set_logistics(
            alliance=alliance, by=request.user, **{name: form.cleaned_data[name] for name in services.LOGISTICS_FIELDS}
        )
        messages.success(request, _("The logistics have been saved."))
        return redirect("alliances:charter_detail", slug=alliance.slug)
    return render_alliance(request, member, "alliances/logistics_form.html", {"form": form})


def norm_create(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    member = get_stewardship(request, slug)
    return cached_alliance_page(request, member, lambda: _norm_create(request, member, slug))


def _norm_create(request: AuthenticatedHttpRequest, member: Member, slug: str) -> HttpResponse:
    form = NormForm(request.POST or None)
    if form.is_valid():
        services.norm_add(
            alliance=member.alliance,
            text=form.cleaned_data["text"],
            agreed_on=form.cleaned_data["agreed_on"],
            by=request.user,
        )
        messages.success(request, _("The norm has been added."))
        return redirect("alliances:charter_detail", slug=slug)
    return render_alliance(request, member, "alliances/norm_form.html", {"form": form})


def _get_norm(member: Member, pk: int) -> Norm:
    return get_object_or_404(Norm.objects.filter(alliance=member.alliance), pk=pk)


def norm_edit(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    member = get_stewardship(request, slug)
    return cached_alliance_page(request, member, lambda: _norm_edit(request, member, slug, pk))


def _norm_edit(request: AuthenticatedHttpRequest, member: Member, slug: str, pk: int) -> HttpResponse:
    norm = _get_norm(member, pk)
    form = NormForm(request.POST or None, instance=norm)
    if form.is_valid():
        try:
            services.norm_edit(
                norm=norm, text=form.cleaned_data["text"], agreed_on=form.cleaned_data["agreed_on"], by=request.user
            )
        except AllianceError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("The norm has been saved."))
            return redirect("alliances:charter_detail", slug=slug)
    return render_alliance(request, member, "alliances/norm_form.html", {"form": form, "norm": norm})


def _norm_list_response(request: HttpRequest, member: Member) -> HttpResponse:
    context = {"norms": norm_rows(Norm.objects.filter(alliance=member.alliance).current(), reader=member)}
    return render_alliance(request, member, "alliances/charter_detail.html#norm-list", context)


@require_POST
def norm_move(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    member = get_stewardship(request, slug)
    norm = _get_norm(member, pk)
    try:
        services.norm_move(norm=norm, direction=request.POST.get("direction", ""), by=request.user)
    except AllianceError as error:
        # Shown with the list that htmx swaps in, or on the charter page after the redirect.
        messages.error(request, str(error))
    if request.htmx:
        return _norm_list_response(request, member)
    return redirect("alliances:charter_detail", slug=slug)


@require_POST
def norm_retire(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    member = get_stewardship(request, slug)
    norm = _get_norm(member, pk)
    services.norm_retire(norm=norm, by=request.user)
    if request.htmx:
        return _norm_list_response(request, member)
    messages.success(request, _("The norm has been retired. It stays in the charter's history."))
    return redirect("alliances:charter_detail", slug=slug)


# --- Members and invitations ------------------------------------------------------------------------


MEMBER_SEARCH_MAX_LENGTH = 100


def _member_search(request: HttpRequest) -> str:
    """The search box's text, on one line; PostgreSQL refuses a NUL in a query, so it is dropped."""
    return " ".join(request.GET.get("q", "").replace("\x00", "").split())[:MEMBER_SEARCH_MAX_LENGTH]


def _back_to_members(request: HttpRequest, slug: str) -> HttpResponse:
    """Back to the page of the members list the steward acted from: its form sends the search and page."""
    url = reverse("alliances:member_list", kwargs={"slug": slug})
    kept = {name: value for name in ("q", "page") if (value := request.POST.get(name, "").strip())}
    return redirect(f"{url}?{urlencode(kept)}" if kept else url)


def _member_list_context(request: HttpRequest, member: Member, form: InvitationForm | None = None) -> dict:
    alliance = member.alliance
    query = _member_search(request)
    members = _members(alliance)
    if query:
        members = members.filter(Q(user__display_name__icontains=query) | Q(organisation__icontains=query))
    page = list_page(members, request.GET.get("page"), MEMBERS_PER_PAGE)
    context: dict[str, object] = {"page": page, "query": query, "members": member_rows(page, reader=member)}
    if member.is_steward:
        context["invitation_form"] = form or InvitationForm(alliance=alliance)
        context["invitation_form_html"] = invitation_form_html(form, alliance=alliance)
        invitations = (
            Invitation.objects.filter(alliance=alliance, status=Invitation.Status.PENDING)
            .select_related("invited_by")
            .only("email", "expires_at", "language", "alliance_id", "invited_by__display_name")
            .order_by("email")
        )
        context["invitations"] = invitation_rows(invitations, reader=member)
    return context


def member_list(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    """The members, 50 a page with a search by name or organisation; stewards also invite here."""
    member = get_membership(request, slug)
    return cached_alliance_page(
        request,
        member,
        lambda: render_alliance(request, member, "alliances/member_list.html", _member_list_context(request, member)),
    )


def former_member_list(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    """Who has left or was removed, most recent first, 50 a page: history, kept off the members page."""
    member = get_membership(request, slug)
    return cached_alliance_page(request, member, lambda: _former_member_list(request, member))


def _former_member_list(request: HttpRequest, member: Member) -> HttpResponse:
    former = (
        Member.objects.filter(alliance=member.alliance, is_active=False)
        .select_related("user")
        .only("organisation", "ended_at", "end_reason", "user_id", "alliance_id", "user__display_name")
        .order_by(F("ended_at").desc(nulls_last=True), "pk")
    )
    page = list_page(former, request.GET.get("page"), MEMBERS_PER_PAGE)
    context = {"page": page, "former_members": former_member_rows(page)}
    return render_alliance(request, member, "alliances/former_member_list.html", context)


# Said once per reason, listing the addresses: a pasted list of twenty can hold many of the same kind.
INVITATION_SKIPPED_MESSAGES = {
    InvitationSkip.ALREADY_MEMBER: gettext_lazy("Not invited, already a member: %(emails)s."),
    InvitationSkip.ALREADY_INVITED: gettext_lazy(
        "Not invited again, already invited: %(emails)s. To send the email again, use “Resend” below."
    ),
}


def _report_invitations(request: HttpRequest, results: list[InvitationResult]) -> None:
    invited = [result.email for result in results if result.invitation]
    if invited:
        messages.success(request, _("Invitation sent to %(emails)s.") % {"emails": ", ".join(invited)})
    for reason, text in INVITATION_SKIPPED_MESSAGES.items():
        skipped = [result.email for result in results if result.skipped == reason]
        if skipped:
            messages.warning(request, text % {"emails": ", ".join(skipped)})


@require_POST
def invitation_create(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    member = get_stewardship(request, slug)
    form = InvitationForm(request.POST, alliance=member.alliance)
    if form.is_valid():
        try:
            results = services.invitations_create(
                alliance=member.alliance,
                emails=form.cleaned_data["emails"],
                invited_by=request.user,
                language=form.cleaned_data["language"],
            )
        except AllianceError as error:
            form.add_error("emails", str(error))
        else:
            _report_invitations(request, results)
            return redirect("alliances:member_list", slug=slug)
    context = _member_list_context(request, member, form)
    return render_alliance(request, member, "alliances/member_list.html", context, status=400)


def _get_invitation(member: Member, pk: int) -> Invitation:
    return get_object_or_404(Invitation.objects.filter(alliance=member.alliance), pk=pk)


@require_POST
def invitation_cancel(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    member = get_stewardship(request, slug)
    invitation = _get_invitation(member, pk)
    attempt(
        request,
        lambda: services.invitation_cancel(invitation=invitation, by=request.user),
        success=_("The invitation to %(email)s is cancelled.") % {"email": invitation.email},
    )
    return _back_to_members(request, slug)


@require_POST
def invitation_resend(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    member = get_stewardship(request, slug)
    invitation = _get_invitation(member, pk)
    attempt(
        request,
        lambda: services.invitation_resend(invitation=invitation, by=request.user),
        success=_("The invitation to %(email)s was sent again.") % {"email": invitation.email},
    )
    return _back_to_members(request, slug)


def _get_member(member: Member, pk: int) -> Member:
    return get_object_or_404(Member.objects.filter(alliance=member.alliance).select_related("user"), pk=pk)


@require_POST
def member_steward(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    steward = get_stewardship(request, slug)
    target = _get_member(steward, pk)
    make = request.POST.get("steward") == "1"
    text = _("%(name)s is now a steward.") if make else _("%(name)s is no longer a steward.")
    attempt(
        request,
        lambda: services.member_set_steward(member=target, is_steward=make, by=request.user),
        success=text % {"name": target.user},
    )
    return _back_to_members(request, slug)


@require_POST
def member_deactivate(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    steward = get_stewardship(request, slug)
    target = _get_member(steward, pk)
    removed = attempt(
        request,
        lambda: services.member_deactivate(member=target, by=request.user),
        success=_("%(name)s is no longer a member.") % {"name": target.user},
    )
    if removed and target.user_id == request.user.id:
        return redirect("alliances:alliance_list")
    return _back_to_members(request, slug)


def member_leave(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    member = get_membership(request, slug)
    if request.method == "POST":
        left = attempt(
            request,
            lambda: services.member_leave(member=member),
            success=_("You have left %(alliance)s.") % {"alliance": member.alliance},
        )
        return redirect("alliances:alliance_list") if left else redirect("alliances:member_list", slug=slug)
    return render_alliance(request, member, "alliances/member_leave.html")


def member_edit(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    """A member's own details in this alliance: the organisation they represent."""
    member = get_membership(request, slug)
    # Shows the reader's own membership, which the alliance's version covers like everything else.
    return cached_alliance_page(request, member, lambda: _member_edit(request, member, slug))


def _member_edit(request: AuthenticatedHttpRequest, member: Member, slug: str) -> HttpResponse:
    form = MemberForm(request.POST or None, instance=member)
    if form.is_valid():
        try:
            services.member_set_organisation(member=member, organisation=form.cleaned_data["organisation"])
        except AllianceError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Your details have been saved."))
            return redirect("alliances:member_list", slug=slug)
    return render_alliance(request, member, "alliances/member_form.html", {"form": form})


def _invitation_invalid(
    request: HttpRequest, reason: InvitationInvalid.Reason, invitation: Invitation | None = None
) -> HttpResponse:
    context = {"reason": reason, "Reason": InvitationInvalid.Reason, "invitation": invitation}
    status = 404 if reason == InvitationInvalid.Reason.INVALID else 410
    return render(request, "alliances/invitation_invalid.html", context, status=status)


def _use_invitation_language(request: HttpRequest, invitation: Invitation) -> None:
    # The invited person may have no account yet, so no language of their own: the one the steward chose,
    # unless this visitor has picked one with the language switch (the cookie) or is signed in.
    if not request.user.is_authenticated and settings.LANGUAGE_COOKIE_NAME not in request.COOKIES:
        translation.activate(invitation.language)
        request.LANGUAGE_CODE = invitation.language


def _invitation_form(
    request: HttpRequest, invitation: Invitation
) -> tuple[InvitationAcceptForm | NewMemberAccountForm | None, bool]:
    """The form for this reader, and whether the invited address has an account to sign in with first."""
    if request.user.is_authenticated:
        return InvitationAcceptForm(request.POST or None), False
    if User.objects.filter(email__iexact=invitation.email).exists():
        return None, True
    initial = {"language": translation.get_language()}
    return NewMemberAccountForm(request.POST or None, email=invitation.email, initial=initial), False


def _join(request: HttpRequest, invitation: Invitation, form: forms.Form) -> Member:
    """Accept with the signed-in account, or create the invited address's account, sign it in and accept."""
    if request.user.is_authenticated:
        return services.invitation_accept(
            invitation=invitation, user=request.user, organisation=form.cleaned_data["organisation"]
        )
    member = services.invitation_accept_new_user(
        invitation=invitation,
        display_name=form.cleaned_data["display_name"],
        password=form.cleaned_data["password1"],
        language=form.cleaned_data["language"],
        time_zone=form.cleaned_data["time_zone"],
        organisation=form.cleaned_data["organisation"],
    )
    auth_login(request, member.user, backend="accounts.backends.EmailBackend")
    return member


@login_not_required
@sensitive_post_parameters("password1", "password2")
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """The link in an invitation email: join with the invited address's account, or make that account."""
    invitation = Invitation.objects.with_token(token).select_related("alliance", "invited_by").first()
    if invitation is None:
        return _invitation_invalid(request, InvitationInvalid.Reason.INVALID)
    _use_invitation_language(request, invitation)
    try:
        services.invitation_check(invitation)
    except InvitationInvalid as exc:
        return _invitation_invalid(request, exc.reason, invitation)

    if request.user.is_authenticated and not invitation.is_for(request.user):
        # Only the invited address may accept: the page says to whom it was sent and offers to sign out.
        status = 403 if request.method == "POST" else 200
        context = {"invitation": invitation, "other_account": True}
        return render(request, "alliances/invitation_accept.html", context, status=status)
    form, existing_account = _invitation_form(request, invitation)
    if request.method == "POST" and form is not None and form.is_valid():
        try:
            member = _join(request, invitation, form)
        except InvitationInvalid as exc:
            return _invitation_invalid(request, exc.reason, invitation)
        except AllianceError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Welcome to %(alliance)s!") % {"alliance": invitation.alliance})
            return redirect(member.alliance)
    context = {"invitation": invitation, "form": form, "existing_account": existing_account}
    return render(request, "alliances/invitation_accept.html", context)


def delivery_list(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    """Stewards: the alliance's emails that could not be delivered, with a way to try again."""
    member = get_stewardship(request, slug)
    deliveries = Delivery.objects.in_scope(member.alliance.mail_scope).filter(status=Delivery.Status.FAILED)
    return render_alliance(request, member, "alliances/delivery_list.html", {"deliveries": deliveries})


@require_POST
def delivery_retry(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    member = get_stewardship(request, slug)
    # Fetched within the alliance's emails: another alliance's delivery is 404 here.
    delivery = get_object_or_404(Delivery.objects.in_scope(member.alliance.mail_scope), pk=pk)
    outbox_services.delivery_retry(delivery=delivery)
    messages.success(request, _("The email to %(email)s will be sent again.") % {"email": delivery.to_email})
    return redirect("alliances:delivery_list", slug=slug)
