"""Sign-up, address confirmation and password reset: the account changes that send email."""

import logging

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.tokens import default_token_generator
from django.core import signing
from django.db import IntegrityError, models, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext_lazy

from accounts import ratelimit
from accounts.models import User, new_calendar_key, new_calendar_secret, normalize_email
from outbox.services import Address, absolute_url, mail_send

CONFIRM_SALT = "accounts.signup-confirm"

logger = logging.getLogger(__name__)


class ConfirmationInvalid(Exception):
    """A confirmation that cannot go through; `reason` picks what the page explains."""

    class Reason(models.TextChoices):
        EXPIRED = "expired", gettext_lazy("This confirmation link has expired")
        INVALID = "invalid", gettext_lazy("This confirmation link is not valid")
        USED = "used", gettext_lazy("Your address is already confirmed")
        # Not a page: the confirmation form shows it on the password field.
        PASSWORD = "password", gettext_lazy("That is not the password chosen when signing up.")

    def __init__(self, reason: "ConfirmationInvalid.Reason") -> None:
        super().__init__(reason)
        self.reason = reason


@transaction.atomic
def calendar_link_replace(*, user: User) -> User:
    """A new secret URL for `user`'s calendar feed: the old one answers 404 from now on.

    For a link that was shared or leaked; calendars subscribed to the old URL stop updating, and the
    person subscribes again with the new one.
    """
    user.calendar_key = new_calendar_key()
    user.calendar_secret = new_calendar_secret()
    user.save(update_fields=["calendar_key", "calendar_secret"])
    return user


def confirmation_token(user: User) -> str:
    # Signing the address too means a link stops working if the address changes in between.
    return signing.TimestampSigner(salt=CONFIRM_SALT).sign_object({"id": user.pk, "email": user.email})


def _account_mail(*, template: str, user: User, context: dict, secret: bool = False) -> None:
    """Account emails go to an address that anyone can type: a few an hour at most, then silence.

    `secret`: the email carries a single-use link, which the outbox then hides from operators.
    """
    if not ratelimit.allow_account_email(user.email):
        logger.info("Not sending %s to user %s: too many account emails this hour.", template, user.pk)
        return
    mail_send(template=template, recipients=[Address.for_user(user)], context={"user": user, **context}, secret=secret)


def _send_confirmation(user: User) -> None:
    url = absolute_url(reverse("accounts:signup_confirm", kwargs={"token": confirmation_token(user)}))
    _account_mail(
        template="signup_confirm",
        user=user,
        context={"confirm_url": url, "max_age_days": settings.SIGNUP_CONFIRM_MAX_AGE // 86400},
        secret=True,
    )


@transaction.atomic
def user_sign_up(*, email: str, display_name: str, password: str, language: str, time_zone: str) -> User | None:
    """Create an unconfirmed account and email its confirmation link.

    If the address has a confirmed account already, its owner gets an email saying so instead; an
    unconfirmed one takes this sign-up's details and gets a new link. Either way None is returned: the
    sign-up page looks the same, and takes as long, so it does not reveal who has an account.
    """
    email = normalize_email(email)
    existing = User.objects.filter(email__iexact=email).first()
    if existing:
        if not existing.is_email_confirmed:
            # The latest sign-up wins: whoever confirms must be able to sign in with the password they
            # just chose, and an earlier sign-up's password (perhaps a stranger's, typed to take the
            # account over once its owner confirms it) must not survive into the confirmed account.
            existing.set_password(password)
            existing.display_name, existing.language, existing.time_zone = display_name, language, time_zone
            existing.save(update_fields=["password", "display_name", "language", "time_zone"])
            _send_confirmation(existing)
        else:
            # Hashed and thrown away: hashing is most of a sign-up's time (a fifth of a second), and
            # without it this branch alone would answer fast, telling that the address has an account.
            make_password(password)
            _account_mail(
                template="signup_existing",
                user=existing,
                context={
                    "login_url": absolute_url(reverse("accounts:login")),
                    "reset_url": absolute_url(reverse("accounts:password_reset")),
                },
            )
        return None
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                email, password, display_name=display_name, language=language, time_zone=time_zone
            )
    except IntegrityError:
        # The same address signed up twice at the same moment: the other request made the account
        # and sent its link.
        return None
    _send_confirmation(user)
    return user


def check_confirmation_token(*, token: str) -> User:
    """The account a confirmation link is for; ConfirmationInvalid if it expired or was tampered with."""
    try:
        data = signing.TimestampSigner(salt=CONFIRM_SALT).unsign_object(token, max_age=settings.SIGNUP_CONFIRM_MAX_AGE)
    except signing.SignatureExpired as exc:
        raise ConfirmationInvalid(ConfirmationInvalid.Reason.EXPIRED) from exc
    except signing.BadSignature as exc:
        raise ConfirmationInvalid(ConfirmationInvalid.Reason.INVALID) from exc
    user = User.objects.filter(pk=data.get("id"), email=data.get("email"), is_active=True).first()
    if user is None:
        raise ConfirmationInvalid(ConfirmationInvalid.Reason.INVALID)
    return user


@transaction.atomic
def user_confirm_email(*, token: str, password: str) -> User:
    """Confirm an account's address from its link, with the password chosen at sign-up.

    Asking for the password closes a takeover: a stranger who signed up first with someone else's
    address cannot have the owner confirm, by a click, an account whose password the stranger knows.
    The owner who did not choose it resets the password instead, which confirms the address too.
    """
    user = check_confirmation_token(token=token)
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.is_email_confirmed:
        raise ConfirmationInvalid(ConfirmationInvalid.Reason.USED)
    if not user.check_password(password):
        raise ConfirmationInvalid(ConfirmationInvalid.Reason.PASSWORD)
    user.email_confirmed_at = timezone.now()
    user.save(update_fields=["email_confirmed_at"])
    return user


@transaction.atomic
def user_resend_confirmation(*, email: str) -> None:
    """Send the confirmation link again to an unconfirmed account; silently nothing otherwise."""
    user = User.objects.filter(email__iexact=normalize_email(email), email_confirmed_at__isnull=True).first()
    if user:
        _send_confirmation(user)


@transaction.atomic
def user_send_password_reset(*, user: User) -> None:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    url = absolute_url(reverse("accounts:password_reset_confirm", kwargs={"uidb64": uid, "token": token}))
    _account_mail(template="password_reset", user=user, context={"reset_url": url}, secret=True)


@transaction.atomic
def user_update_profile(
    *, user: User, display_name: str, language: str, time_zone: str, nudges_enabled: bool | None = None
) -> User:
    """Save the profile; `nudges_enabled` None keeps the saved choice (the language switch does not ask)."""
    user.display_name = display_name
    user.language = language
    user.time_zone = time_zone
    fields = ["display_name", "language", "time_zone"]
    if nudges_enabled is not None:
        user.nudges_enabled = nudges_enabled
        fields.append("nudges_enabled")
    user.save(update_fields=fields)
    return user
