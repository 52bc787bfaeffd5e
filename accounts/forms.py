from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.utils.translation import gettext_lazy as _

from accounts import services, time_zones
from accounts.models import User
from accounts.widgets import TimeZoneSelect
from roundtable.validators import validate_single_line


class TimeZoneField(forms.ChoiceField):
    """One of the offered time zones (accounts/time_zones.py); an old alias is stored as its zone."""

    widget = TimeZoneSelect

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", _("Time zone"))
        kwargs.setdefault("initial", time_zones.UTC)
        # The widget renders its own options; the choices only serve Django's introspection.
        super().__init__(choices=(), **kwargs)

    def to_python(self, value: Any) -> str:
        return time_zones.canonical(super().to_python(value))

    def valid_value(self, value: Any) -> bool:
        return time_zones.is_valid(str(value))


class LoginForm(AuthenticationForm):
    username = forms.EmailField(
        label=_("Email address"), widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )

    error_messages = {
        # The same words whether or not the address has an account.
        "invalid_login": _("That email address and password do not match. Check both and try again."),
        "inactive": _("This account has been closed."),
        "unconfirmed": _("Confirm your email address first: follow the link in the email we sent you."),
    }

    def confirm_login_allowed(self, user: User) -> None:
        super().confirm_login_allowed(user)
        if not user.is_email_confirmed:
            raise forms.ValidationError(self.error_messages["unconfirmed"], code="unconfirmed")


class SignUpForm(forms.Form):
    display_name = forms.CharField(
        label=_("Your name"),
        max_length=User._meta.get_field("display_name").max_length,
        # The name goes into the header of every email to this person: one line only.
        validators=[validate_single_line],
        help_text=_("How other members see you."),
    )
    email = forms.EmailField(
        label=_("Email address"),
        # The form's own limit (320) is longer than the column's: a longer address must be a form error.
        max_length=User._meta.get_field("email").max_length,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label=_("Password again"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    language = forms.ChoiceField(label=_("Preferred language"), choices=settings.LANGUAGES)
    # static/js/app.js preselects the browser's zone.
    time_zone = TimeZoneField(widget=TimeZoneSelect(attrs={"data-detect-time-zone": True}))

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        password1, password2 = cleaned.get("password1"), cleaned.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", _("The two passwords differ. Type the same password twice."))
        elif password1:
            candidate = User(email=cleaned.get("email", ""), display_name=cleaned.get("display_name", ""))
            try:
                password_validation.validate_password(password1, candidate)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class ConfirmForm(forms.Form):
    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
        help_text=_("The one you chose when you signed up."),
    )


class ResendConfirmationForm(forms.Form):
    email = forms.EmailField(label=_("Email address"))


class PasswordResetRequestForm(PasswordResetForm):
    """Django's reset form, sending through the outbox instead of directly."""

    # Django's e-mail parameters do not apply: the outbox renders and sends the message.
    def save(self, **kwargs: Any) -> None:  # type: ignore[override]
        for user in self.get_users(self.cleaned_data["email"]):
            services.user_send_password_reset(user=user)


class ProfileForm(forms.ModelForm):
    display_name = User._meta.get_field("display_name").formfield(validators=[validate_single_line])
    time_zone = TimeZoneField()

    class Meta:
        model = User
        fields = ["display_name", "language", "time_zone", "nudges_enabled"]
