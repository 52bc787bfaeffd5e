import re

from django import forms
from django.core.validators import validate_email
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from accounts.forms import SignUpForm, TimeZoneField
from alliances.models import Alliance, Member, Norm

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class AllianceForm(forms.Form):
    name = forms.CharField(label=_("Name of the alliance"), max_length=150)
    slug = forms.SlugField(
        label=_("Web address"),
        max_length=60,
        required=False,
        help_text=_(
            "Letters, numbers and hyphens, used in the alliance's links. Leave empty to make one from the name."
        ),
    )
    organisation = forms.CharField(
        label=_("Organisation you represent"),
        max_length=200,
        required=False,
        help_text=_("Optional. Leave empty if you take part as yourself."),
    )

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("name") and not cleaned.get("slug"):
            cleaned["slug"] = slugify(cleaned["name"])[:60].strip("-")
            if not cleaned["slug"]:
                self.add_error("slug", _("Choose a web address using letters or numbers."))
        if cleaned.get("slug") and Alliance.objects.filter(slug=cleaned["slug"]).exists():
            self.add_error("slug", _("That web address is taken. Choose another."))
        return cleaned


class PurposeForm(forms.ModelForm):
    class Meta:
        model = Alliance
        fields = ["purpose", "purpose_agreed_on"]
        widgets = {"purpose": forms.Textarea(attrs={"rows": 5}), "purpose_agreed_on": DATE_INPUT}
        help_texts = {
            "purpose": _("The statement the members agreed by consensus."),
            "purpose_agreed_on": _("Optional: the date of the meeting where it was agreed."),
        }


class NormForm(forms.ModelForm):
    class Meta:
        model = Norm
        fields = ["text", "agreed_on"]
        widgets = {"agreed_on": DATE_INPUT}
        help_texts = {
            "text": _("A short agreement on how the members work together."),
            "agreed_on": _("Optional: when the members agreed it."),
        }


class LogisticsForm(forms.ModelForm):
    time_zone = TimeZoneField(help_text=_("Meeting times are in this time zone."))

    class Meta:
        model = Alliance
        fields = [
            "cadence",
            "cadence_custom",
            "meeting_weekday",
            "meeting_time",
            "meeting_duration_minutes",
            "time_zone",
            "venue_address",
            "video_link",
            "info_sharing",
            "info_link",
        ]
        widgets = {
            "meeting_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "venue_address": forms.Textarea(attrs={"rows": 2}),
            "info_sharing": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {
            "cadence_custom": _("Only for “Other”: for example “the first Tuesday of each month”."),
            "video_link": _("Optional: the usual video-call link."),
            "info_sharing": _("For example: a mailing list, a shared folder, a group chat."),
            "info_link": _("Optional: a link to that place."),
        }

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("cadence") == Alliance.Cadence.CUSTOM and not cleaned.get("cadence_custom"):
            self.add_error("cadence_custom", _("Describe how often you meet."))
        duration = cleaned.get("meeting_duration_minutes")
        if duration is not None and not 5 <= duration <= 24 * 60:
            self.add_error("meeting_duration_minutes", _("Enter a duration between 5 and 1440 minutes."))
        return cleaned


class InvitationForm(forms.Form):
    emails = forms.CharField(
        label=_("Email addresses"),
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "off"}),
        help_text=_("One or more addresses, separated by commas, spaces or new lines."),
    )

    def clean_emails(self) -> list[str]:
        raw = [part for part in re.split(r"[\s,;]+", self.cleaned_data["emails"]) if part]
        if not raw:
            raise forms.ValidationError(_("Enter at least one email address."))
        invalid = []
        for address in raw:
            try:
                validate_email(address)
            except forms.ValidationError:
                invalid.append(address)
        if invalid:
            raise forms.ValidationError(
                _("These are not valid email addresses: %(addresses)s") % {"addresses": ", ".join(invalid)}
            )
        return list(dict.fromkeys(address.lower() for address in raw))


class MemberForm(forms.ModelForm):
    class Meta:
        model = Member
        fields = ["organisation"]
        help_texts = {"organisation": _("Optional. Leave empty if you take part as yourself.")}


class InvitationAcceptForm(forms.Form):
    organisation = forms.CharField(
        label=_("Organisation you represent"),
        max_length=200,
        required=False,
        help_text=_("Optional. Leave empty if you take part as yourself."),
    )


class NewMemberAccountForm(SignUpForm):
    """Accepting an invitation without an account: the account is made for the invited address."""

    organisation = forms.CharField(
        label=_("Organisation you represent"),
        max_length=200,
        required=False,
        help_text=_("Optional. Leave empty if you take part as yourself."),
    )

    def __init__(self, *args, email: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["email"]
        self.invited_email = email

    def clean(self) -> dict:
        self.cleaned_data["email"] = self.invited_email
        return super().clean()
