import hmac
import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def normalize_email(email: str) -> str:
    # Addresses are compared case-insensitively everywhere; storing them lower-cased keeps it simple.
    return email.strip().lower()


# The calendar feed's secret URL (/calendar/<key><secret>.ics): the key finds the person through an index,
# the secret is then compared in constant time (hmac.compare_digest), so that the time a lookup takes
# tells nothing about the secret. 12 + 32 URL-safe characters: 264 random bits.
CALENDAR_KEY_LENGTH = 12
CALENDAR_SECRET_LENGTH = 32


def new_calendar_key() -> str:
    return secrets.token_urlsafe(CALENDAR_KEY_LENGTH * 3 // 4)


def new_calendar_secret() -> str:
    return secrets.token_urlsafe(CALENDAR_SECRET_LENGTH * 3 // 4)


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def get_by_natural_key(self, username: str | None) -> "User":
        return self.get(email__iexact=username)

    def for_calendar_token(self, token: str) -> "User | None":
        """The active person whose calendar feed URL holds `token`, or None.

        One query by the key (an index); the secret is compared in constant time, and compared against
        a stand-in when no one has the key, so that neither part can be guessed from how long it takes.
        """
        key, secret = token[:CALENDAR_KEY_LENGTH], token[CALENDAR_KEY_LENGTH:]
        user = None
        if len(token) == CALENDAR_KEY_LENGTH + CALENDAR_SECRET_LENGTH:
            user = self.filter(calendar_key=key, is_active=True).first()
        expected = user.calendar_secret if user is not None else new_calendar_secret()
        if not hmac.compare_digest(expected.encode(), secret.encode()):
            return None
        return user

    def create_user(self, email: str, password: str | None = None, **fields) -> "User":
        if not email:
            raise ValueError("Users need an email address.")
        user = self.model(email=normalize_email(email), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields) -> "User":
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        fields.setdefault("email_confirmed_at", timezone.now())
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person. The email address is the login; it is confirmed before the account can sign in."""

    email = models.EmailField(_("email address"), unique=True)
    display_name = models.CharField(_("display name"), max_length=150)
    language = models.CharField(
        _("preferred language"), max_length=8, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC")
    email_confirmed_at = models.DateTimeField(_("email confirmed at"), null=True, blank=True)
    is_staff = models.BooleanField(_("site operator"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("joined"), default=timezone.now)
    # The daily digest of to-dos due or overdue, and the note taker's weekly follow-up (tasks/nudges.py):
    # turned off here or by the one-click link in each of them.
    nudges_enabled = models.BooleanField(
        _("email me reminders of my to-dos"),
        default=True,
        help_text=_(
            "A morning email when a to-do of yours is due soon, due today or overdue, and a weekly follow-up "
            "of the to-dos from meetings where you took the notes."
        ),
    )
    # The calendar feed's token, in two parts (see CALENDAR_KEY_LENGTH); replaced from the profile.
    calendar_key = models.CharField(
        max_length=CALENDAR_KEY_LENGTH, unique=True, default=new_calendar_key, editable=False
    )
    calendar_secret = models.CharField(max_length=CALENDAR_SECRET_LENGTH, default=new_calendar_secret, editable=False)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["display_name"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.display_name or self.email

    def get_full_name(self) -> str:
        return self.display_name

    def get_short_name(self) -> str:
        return self.display_name

    @property
    def calendar_token(self) -> str:
        """The secret part of the calendar feed's URL: whoever has it reads the feed, without signing in."""
        return f"{self.calendar_key}{self.calendar_secret}"

    @property
    def is_email_confirmed(self) -> bool:
        return self.email_confirmed_at is not None
