"""Every change to an alliance, its charter and its members. Views, commands and admin call these."""

from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User, normalize_email
from alliances import versions
from alliances.models import Alliance, CharterChange, Invitation, Member, Norm, norm_too_long_message, setting_value
from meetings.services import member_roles_hand_on
from outbox.models import Delivery
from outbox.services import Address, absolute_url, deliveries_skip_pending, mail_send
from roundtable.errors import DomainError

LOGISTICS_FIELDS = [
    "cadence",
    "cadence_custom",
    "meeting_weekday",
    "meeting_time",
    "meeting_duration_minutes",
    "time_zone",
    "language",
    "venue_address",
    "video_link",
    "info_sharing",
    "info_link",
    "nudge_days_before",
    "nudge_overdue_every_days",
]


# Slugs that name the alliance app's own pages (/alliances/new/): an alliance there could never be opened.
RESERVED_SLUGS = frozenset({"new"})


class AllianceError(DomainError):
    """A rule of the alliance was broken; the message is safe to show to the user."""


def require_steward(member: Member) -> None:
    if not (member.is_active and member.is_steward):
        raise PermissionDenied


# --- Alliance and charter ---------------------------------------------------------------------------


@transaction.atomic
def alliance_create(*, name: str, slug: str, created_by: User, organisation: str = "") -> Alliance:
    """Create an alliance; its creator becomes its first steward."""
    if slug in RESERVED_SLUGS:
        raise AllianceError(_("That web address is taken. Choose another."))
    try:
        # A savepoint: two people choosing the same address at once get a clear error, not a 500.
        with transaction.atomic():
            alliance = Alliance.objects.create(
                name=name,
                slug=slug,
                created_by=created_by,
                time_zone=created_by.time_zone,
                # Invitations are written in this language by default: its founder's is the best guess.
                language=created_by.language,
            )
    except IntegrityError as exc:
        raise AllianceError(_("That web address is taken. Choose another.")) from exc
    Member.objects.create(alliance=alliance, user=created_by, is_steward=True, organisation=organisation)
    return alliance


def _lock_alliance(alliance: Alliance) -> Alliance:
    # Every charter edit re-reads the row under a lock: "before" is what was saved, whatever the caller's
    # instance holds (a ModelForm fills its instance with the typed values while validating), and two
    # stewards saving at once are recorded one after the other.
    return Alliance.objects.select_for_update().get(pk=alliance.pk)


@transaction.atomic
def charter_set_purpose(*, alliance: Alliance, purpose: str, agreed_on: date | None, by: User) -> Alliance:
    alliance = _lock_alliance(alliance)
    before = alliance.purpose
    alliance.purpose = purpose
    alliance.purpose_agreed_on = agreed_on
    alliance.save(update_fields=["purpose", "purpose_agreed_on"])
    CharterChange.objects.create(
        alliance=alliance, kind=CharterChange.Kind.PURPOSE, before=before, after=purpose, changed_by=by
    )
    return alliance


def _logistics_values(alliance: Alliance) -> dict:
    # Raw values, not labels: the history is rendered in each reader's language when it is read.
    return {name: setting_value(getattr(alliance, name)) for name in LOGISTICS_FIELDS}


@transaction.atomic
def charter_set_logistics(*, alliance: Alliance, by: User, **values) -> Alliance:
    unknown = set(values) - set(LOGISTICS_FIELDS)
    if unknown:
        raise TypeError(f"Not logistics fields: {sorted(unknown)}")
    alliance = _lock_alliance(alliance)
    before = _logistics_values(alliance)
    for name, value in values.items():
        setattr(alliance, name, value)
    if alliance.cadence != Alliance.Cadence.CUSTOM:
        alliance.cadence_custom = ""
    elif not alliance.cadence_custom.strip():
        raise AllianceError(_("Describe how often you meet."))
    alliance.save(update_fields=LOGISTICS_FIELDS)
    after = _logistics_values(alliance)
    if after != before:
        CharterChange.objects.create(
            alliance=alliance,
            kind=CharterChange.Kind.LOGISTICS,
            before_values=before,
            after_values=after,
            changed_by=by,
        )
    return alliance


def _renumber(alliance: Alliance, norms: list[Norm]) -> None:
    for position, norm in enumerate(norms, start=1):
        norm.position = position
    Norm.objects.bulk_update(norms, ["position"])
    versions.bump(alliance.pk)  # bulk_update sends no signal


def _check_norm_text(text: str) -> None:
    # The form says this first; a command or a script gets the same words instead of a database error.
    if len(text) > Norm.TEXT_MAX_LENGTH:
        raise AllianceError(norm_too_long_message(len(text)))


@transaction.atomic
def norm_add(*, alliance: Alliance, text: str, agreed_on: date | None, by: User) -> Norm:
    _check_norm_text(text)
    # Lock the alliance row so two stewards adding at once do not take the same position.
    Alliance.objects.select_for_update().get(pk=alliance.pk)
    count = Norm.objects.filter(alliance=alliance).current().count()
    norm = Norm.objects.create(alliance=alliance, text=text, agreed_on=agreed_on, position=count + 1, created_by=by)
    CharterChange.objects.create(
        alliance=alliance, kind=CharterChange.Kind.NORM_ADDED, norm=norm, after=text, changed_by=by
    )
    return norm


@transaction.atomic
def norm_edit(*, norm: Norm, text: str, agreed_on: date | None, by: User) -> Norm:
    _check_norm_text(text)
    # Re-read under a lock, as the charter edits do: "before" is the saved text, and a norm retired a
    # moment ago is seen as retired.
    norm = Norm.objects.select_for_update().get(pk=norm.pk)
    if norm.is_retired:
        raise AllianceError(_("A retired norm cannot be edited."))
    before = norm.text
    norm.text = text
    norm.agreed_on = agreed_on
    norm.save(update_fields=["text", "agreed_on"])
    if before != text:
        CharterChange.objects.create(
            alliance=norm.alliance,
            kind=CharterChange.Kind.NORM_EDITED,
            norm=norm,
            before=before,
            after=text,
            changed_by=by,
        )
    return norm


@transaction.atomic
def norm_move(*, norm: Norm, direction: str, by: User) -> Norm:
    """Move a current norm one place up or down in the ordered list."""
    if direction not in ("up", "down"):
        raise AllianceError(_("Choose up or down."))
    Alliance.objects.select_for_update().get(pk=norm.alliance_id)
    norms = list(Norm.objects.filter(alliance_id=norm.alliance_id).current())
    index = next((i for i, n in enumerate(norms) if n.pk == norm.pk), None)
    if index is None:
        raise AllianceError(_("A retired norm cannot be moved."))
    target = index - 1 if direction == "up" else index + 1
    if not 0 <= target < len(norms):
        return norm
    norms[index], norms[target] = norms[target], norms[index]
    _renumber(norm.alliance, norms)
    CharterChange.objects.create(
        alliance=norm.alliance,
        kind=CharterChange.Kind.NORM_MOVED,
        norm=norm,
        before=str(index + 1),
        after=str(target + 1),
        changed_by=by,
    )
    norm.refresh_from_db()
    return norm


@transaction.atomic
def norm_retire(*, norm: Norm, by: User) -> Norm:
    if norm.is_retired:
        return norm
    Alliance.objects.select_for_update().get(pk=norm.alliance_id)
    norm.retired_at = timezone.now()
    norm.retired_by = by
    norm.save(update_fields=["retired_at", "retired_by"])
    _renumber(norm.alliance, list(Norm.objects.filter(alliance_id=norm.alliance_id).current()))
    CharterChange.objects.create(
        alliance=norm.alliance, kind=CharterChange.Kind.NORM_RETIRED, norm=norm, before=norm.text, changed_by=by
    )
    return norm


# --- Invitations ------------------------------------------------------------------------------------


class InvitationSkip(models.TextChoices):
    """Why an address of a batch was not invited; the other addresses still are."""

    ALREADY_MEMBER = "already_member", gettext_lazy("already a member")
    ALREADY_INVITED = "already_invited", gettext_lazy("already invited")


class InvitationSkipped(AllianceError):
    """This address is not invited again; a batch skips it and goes on with the others."""

    def __init__(self, *, email: str, reason: InvitationSkip) -> None:
        if reason == InvitationSkip.ALREADY_MEMBER:
            text = _("%(email)s is already a member.")
        else:
            text = _("%(email)s has already been invited. Resend the invitation from the list below.")
        super().__init__(text % {"email": email})
        self.email = email
        self.reason = reason


@dataclass(frozen=True)
class InvitationResult:
    """One address of a batch: the invitation sent to it, or why it was skipped."""

    email: str
    invitation: Invitation | None = None
    skipped: InvitationSkip | None = None


def _send_invitation_email(invitation: Invitation) -> None:
    user = User.objects.filter(email__iexact=invitation.email).first()
    if user:
        recipient = Address.for_user(user)
    else:
        # No account, so no preference of theirs: the language the steward chose for this invitation, and
        # the alliance's time zone for the expiry date.
        recipient = Address(
            email=invitation.email, language=invitation.language, time_zone=invitation.alliance.time_zone
        )
    mail_send(
        template="invitation",
        recipients=[recipient],
        context={
            "alliance": invitation.alliance,
            "invited_by": invitation.invited_by,
            "invitation": invitation,
            "accept_url": absolute_url(invitation.get_absolute_url()),
        },
        scope=invitation.alliance.mail_scope,
        secret=True,
        reply_to=invitation.invited_by.email if invitation.invited_by else "",
    )


@transaction.atomic
def invitation_create(*, alliance: Alliance, email: str, invited_by: User, language: str | None = None) -> Invitation:
    """Invite one address, in `language` (default: the alliance's). Raises InvitationSkipped for an
    address that is already a member or already invited."""
    email = normalize_email(email)
    if len(email) > Invitation.EMAIL_MAX_LENGTH:
        # The form says this first; a command or a script gets the same words instead of a database error.
        raise AllianceError(
            _("An email address can have at most %(limit)s characters.") % {"limit": Invitation.EMAIL_MAX_LENGTH}
        )
    language = language or alliance.language
    if language not in dict(settings.LANGUAGES):
        raise AllianceError(_("Choose a language from the list."))
    if Member.objects.active().filter(alliance=alliance, user__email__iexact=email).exists():
        raise InvitationSkipped(email=email, reason=InvitationSkip.ALREADY_MEMBER)
    existing = Invitation.objects.filter(alliance=alliance, email=email, status=Invitation.Status.PENDING).first()
    if existing and not existing.is_expired:
        raise InvitationSkipped(email=email, reason=InvitationSkip.ALREADY_INVITED)
    if existing:
        # An expired invitation makes way for the new one.
        existing.status = Invitation.Status.CANCELLED
        existing.cancelled_at = timezone.now()
        existing.save(update_fields=["status", "cancelled_at"])
    try:
        with transaction.atomic():
            invitation = Invitation.objects.create(
                alliance=alliance,
                email=email,
                language=language,
                invited_by=invited_by,
                expires_at=Invitation.default_expiry(),
            )
    except IntegrityError as exc:
        # Two stewards inviting the same address at the same moment.
        raise InvitationSkipped(email=email, reason=InvitationSkip.ALREADY_INVITED) from exc
    _send_invitation_email(invitation)
    return invitation


@transaction.atomic
def invitation_resend(*, invitation: Invitation, by: User) -> Invitation:
    """Send a pending invitation again with a fresh link and a fresh 14 days; the old link stops working."""
    if invitation.status != Invitation.Status.PENDING:
        raise AllianceError(_("Only a pending invitation can be resent."))
    invitation.token = Invitation._meta.get_field("token").default()
    invitation.expires_at = Invitation.default_expiry()
    invitation.invited_by = by
    invitation.save(update_fields=["token", "expires_at", "invited_by"])
    _send_invitation_email(invitation)
    return invitation


@transaction.atomic
def invitation_cancel(*, invitation: Invitation, by: User) -> Invitation:
    changed = Invitation.objects.filter(pk=invitation.pk, status=Invitation.Status.PENDING).update(
        status=Invitation.Status.CANCELLED, cancelled_at=timezone.now()
    )
    if not changed:
        raise AllianceError(_("This invitation is no longer pending."))
    versions.bump(invitation.alliance_id)  # update() sends no signal
    invitation.refresh_from_db()
    return invitation


class InvitationInvalid(Exception):
    """An invitation link that cannot be used; `reason` picks what the page explains."""

    class Reason(models.TextChoices):
        # The labels are the page's heading.
        INVALID = "invalid", gettext_lazy("This invitation link is not valid")
        USED = "used", gettext_lazy("This invitation has been used already")
        CANCELLED = "cancelled", gettext_lazy("This invitation was cancelled")
        EXPIRED = "expired", gettext_lazy("This invitation has expired")

    def __init__(self, reason: "InvitationInvalid.Reason", invitation: Invitation | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.invitation = invitation


def invitation_check(invitation: Invitation) -> None:
    if invitation.status == Invitation.Status.ACCEPTED:
        raise InvitationInvalid(InvitationInvalid.Reason.USED, invitation)
    if invitation.status == Invitation.Status.CANCELLED:
        raise InvitationInvalid(InvitationInvalid.Reason.CANCELLED, invitation)
    if invitation.is_expired:
        raise InvitationInvalid(InvitationInvalid.Reason.EXPIRED, invitation)


@transaction.atomic
def invitation_accept(*, invitation: Invitation, user: User, organisation: str = "") -> Member:
    """Join the alliance with the invited address's account. The link works once, for that address only."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    invitation_check(invitation)
    if not invitation.is_for(user):
        # Whoever holds the link is not necessarily the person invited (a forwarded email, a shared screen):
        # the invitation page explains this before anyone gets here.
        raise PermissionDenied
    member = Member.objects.filter(alliance=invitation.alliance, user=user).first()
    if member and member.is_active:
        raise AllianceError(_("You are already a member of %(alliance)s.") % {"alliance": invitation.alliance})
    if member:
        # A former member comes back: the same row, so their history stays in one place.
        member.is_active = True
        member.ended_at = None
        member.ended_by = None
        member.end_reason = ""
        member.joined_at = timezone.now()
        member.organisation = organisation
        member.save()
    else:
        member = Member.objects.create(alliance=invitation.alliance, user=user, organisation=organisation)
    if not user.is_email_confirmed:
        # The link reached this address: that confirms it.
        user.email_confirmed_at = timezone.now()
        user.save(update_fields=["email_confirmed_at"])
    invitation.status = Invitation.Status.ACCEPTED
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["status", "accepted_at", "accepted_by"])
    return member


@transaction.atomic
def invitation_accept_new_user(
    *,
    invitation: Invitation,
    display_name: str,
    password: str,
    language: str,
    time_zone: str,
    organisation: str = "",
) -> Member:
    """Create the invited person's account (its address is confirmed by the link) and join."""
    if User.objects.filter(email__iexact=invitation.email).exists():
        raise AllianceError(_("An account with this address exists already. Sign in to accept."))
    user = User.objects.create_user(
        invitation.email,
        password,
        display_name=display_name,
        language=language,
        time_zone=time_zone,
        email_confirmed_at=timezone.now(),
    )
    return invitation_accept(invitation=invitation, user=user, organisation=organisation)


# --- Members ----------------------------------------------------------------------------------------


def _lock_stewards(alliance_id: int) -> list[Member]:
    # Lock every steward row: two stewards demoting each other at once must not leave none.
    return list(Member.objects.stewards().select_for_update().filter(alliance_id=alliance_id))


@transaction.atomic
def member_set_steward(*, member: Member, is_steward: bool, by: User) -> Member:
    stewards = _lock_stewards(member.alliance_id)
    member.refresh_from_db()
    if not member.is_active:
        raise AllianceError(_("A former member cannot be a steward."))
    if not is_steward and member.is_steward and len(stewards) <= 1:
        raise AllianceError(_("The alliance needs at least one steward. Make someone else a steward first."))
    member.is_steward = is_steward
    member.save(update_fields=["is_steward"])
    return member


def _end_membership(member: Member, *, reason: str, by: User) -> Member:
    stewards = _lock_stewards(member.alliance_id)
    member.refresh_from_db()
    if not member.is_active:
        return member
    if member.is_steward and len(stewards) <= 1:
        raise AllianceError(_("The last steward cannot leave or be removed. Make someone else a steward first."))
    member.is_active = False
    member.is_steward = False
    member.ended_at = timezone.now()
    member.ended_by = by
    member.end_reason = reason
    member.save(update_fields=["is_active", "is_steward", "ended_at", "ended_by", "end_reason"])
    # The alliance's emails still waiting to be sent are no longer theirs to read.
    skip_reason = Delivery.SkipReason.LEFT if reason == Member.EndReason.LEFT else Delivery.SkipReason.REMOVED
    deliveries_skip_pending(recipient=member.user, scope=member.alliance.mail_scope, reason=skip_reason)
    # Nor is a role in an upcoming meeting: the rotation hands it on.
    member_roles_hand_on(member=member)
    return member


@transaction.atomic
def member_deactivate(*, member: Member, by: User) -> Member:
    return _end_membership(member, reason=Member.EndReason.DEACTIVATED, by=by)


@transaction.atomic
def member_leave(*, member: Member) -> Member:
    return _end_membership(member, reason=Member.EndReason.LEFT, by=member.user)


@transaction.atomic
def member_set_organisation(*, member: Member, organisation: str) -> Member:
    # Re-read under a lock: the caller's instance may hold a form's typed values, or be a membership
    # that ended a moment ago.
    member = Member.objects.select_for_update().get(pk=member.pk)
    if not member.is_active:
        raise AllianceError(_("You are no longer a member of this alliance."))
    member.organisation = organisation
    member.save(update_fields=["organisation"])
    return member


@transaction.atomic
def invitations_create(
    *, alliance: Alliance, emails: list[str], invited_by: User, language: str | None = None
) -> list[InvitationResult]:
    """Invite several people at once, in `language` (default: the alliance's).

    An address that is already a member or already invited is skipped, and its result says why; the
    others are invited. Any other problem (a bad language, an address too long) invites nobody.
    """
    results = []
    for email in emails:
        try:
            invitation = invitation_create(alliance=alliance, email=email, invited_by=invited_by, language=language)
        except InvitationSkipped as skipped:
            results.append(InvitationResult(email=skipped.email, skipped=skipped.reason))
        else:
            results.append(InvitationResult(email=invitation.email, invitation=invitation))
    return results
