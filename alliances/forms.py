import re

from django import forms
from django.conf import settings
from django.core.validators import validate_email
from django.utils.formats import number_format
from django.utils.text import Truncator, slugify
from django.utils.translation import gettext_lazy as _

from accounts.forms import SignUpForm, TimeZoneField
from alliances.models import Alliance, Invitation, Member, Norm, norm_too_long_message
from alliances.services import RESERVED_SLUGS
from roundtable.validators import validate_single_line

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
EMAIL_MAX_LENGTH = Invitation.EMAIL_MAX_LENGTH


def organisation_field() -> forms.CharField:
    """The organisation a member represents: one line, as it is shown beside their name."""
    return forms.CharField(
        label=_("Organisation you represent"),
        max_length=Member._meta.get_field("organisation").max_length,
        required=False,
        validators=[validate_single_line],
        help_text=_("Optional. Leave empty if you take part as yourself."),
    )


class AllianceForm(forms.Form):
    # One line: the name is in every email subject and page title about the alliance.
    name = forms.CharField(label=_("Name of the alliance"), max_length=150, validators=[validate_single_line])
    slug = forms.SlugField(
        label=_("Web address"),
        max_length=60,
        required=False,
        help_text=_(
            "Letters, numbers and hyphens, used in the alliance's links. Leave empty to make one from the name."
        ),
    )
    organisation = organisation_field()

    def clean(self) -> dict:
        super().clean()
        cleaned = self.cleaned_data
        self.slug_from_name = bool(cleaned.get("name") and not cleaned.get("slug") and "slug" not in self.errors)
        if self.slug_from_name:
            cleaned["slug"] = slugify(cleaned["name"])[:60].strip("-")
            if not cleaned["slug"]:
                self.add_error("slug", _("Choose a web address using letters or numbers."))
        slug = cleaned.get("slug")
        if slug and (slug in RESERVED_SLUGS or Alliance.objects.filter(slug=slug).exists()):
            self.add_slug_taken_error(slug)
        return cleaned

    def add_slug_taken_error(self, slug: str) -> None:
        """Say the address is taken next to what the person typed: the name, if the address came from it."""
        if self.slug_from_name:
            message = _(
                "Another alliance already has the web address made from this name (%(slug)s). "
                "Choose another name, or type a web address of your own below."
            ) % {"slug": slug}
            self.add_error("name", message)
        else:
            self.add_error("slug", _("That web address is taken. Choose another."))


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
        # No maxlength on the text area: a browser would cut a pasted norm without a word. The limit is
        # stated in the help text and checked here, with an error that says by how much it is over.
        widgets = {"text": forms.Textarea(attrs={"rows": 3}), "agreed_on": DATE_INPUT}
        help_texts = {"agreed_on": _("Optional: when the members agreed it.")}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Set here, not in Meta: the number is formatted in the reader's language (1,000 or 1.000).
        self.fields["text"].help_text = _(
            "A short agreement on how the members work together, up to %(limit)s characters. It may have several lines."
        ) % {"limit": number_format(Norm.TEXT_MAX_LENGTH, force_grouping=True)}

    def clean_text(self) -> str:
        # Browsers send line breaks as CR LF; store one character per line break, as the reader counts.
        text = self.cleaned_data["text"].replace("\r\n", "\n")
        if len(text) > Norm.TEXT_MAX_LENGTH:
            raise forms.ValidationError(norm_too_long_message(len(text)), code="max_length")
        return text


class LogisticsForm(forms.ModelForm):
    time_zone = TimeZoneField(help_text=_("Meeting times are in this time zone."))
    # Not required: a post without it (a page from before this field) keeps the saved language.
    language = forms.ChoiceField(
        label=_("Language of invitations"),
        choices=settings.LANGUAGES,
        required=False,
        help_text=_("The people a steward invites may have no account yet: their invitation is in this language."),
    )

    class Meta:
        model = Alliance
        fields = [
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
        super().clean()
        cleaned = self.cleaned_data
        if cleaned.get("cadence") == Alliance.Cadence.CUSTOM and not cleaned.get("cadence_custom"):
            self.add_error("cadence_custom", _("Describe how often you meet."))
        duration = cleaned.get("meeting_duration_minutes")
        if duration is not None and not 5 <= duration <= 24 * 60:
            self.add_error("meeting_duration_minutes", _("Enter a duration between 5 and 1440 minutes."))
        return cleaned

    def clean_language(self) -> str:
        return self.cleaned_data["language"] or self.instance.language

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Not required: a post without them (a page from before these fields) keeps the saved intervals.
        for name in ("nudge_days_before", "nudge_overdue_every_days"):
            self.fields[name].required = False

    def clean_nudge_days_before(self) -> int:
        value = self.cleaned_data["nudge_days_before"]
        return self.instance.nudge_days_before if value is None else value

    def clean_nudge_overdue_every_days(self) -> int:
        value = self.cleaned_data["nudge_overdue_every_days"]
        return self.instance.nudge_overdue_every_days if value is None else value


class InvitationForm(forms.Form):
    emails = forms.CharField(
        label=_("Email addresses"),
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "off"}),
        help_text=_("One or more addresses, separated by commas, spaces or new lines."),
    )
    # Not required: a post without it (a page from before this field) gets the alliance's language.
    language = forms.ChoiceField(
        label=_("Language of the invitation"),
        choices=settings.LANGUAGES,
        required=False,
        help_text=_(
            "The people you invite may have no account yet: their email and the invitation page are in this "
            "language. They can switch on the page, and choose their own when they join."
        ),
    )

    def __init__(self, *args, alliance: Alliance | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if alliance is not None:
            self.fields["language"].initial = alliance.language

    def clean_emails(self) -> list[str]:
        raw = [part for part in re.split(r"[\s,;]+", self.cleaned_data["emails"]) if part]
        if not raw:
            raise forms.ValidationError(_("Enter at least one email address."))
        errors = []
        # Longer than the column holds, though the address syntax (up to 320 characters) allows it.
        too_long = [address for address in raw if len(address) > EMAIL_MAX_LENGTH]
        if too_long:
            errors.append(
                forms.ValidationError(
                    _("These addresses are longer than %(limit)d characters: %(addresses)s")
                    % {"limit": EMAIL_MAX_LENGTH, "addresses": ", ".join(Truncator(a).chars(40) for a in too_long)}
                )
            )
        invalid = []
        for address in raw:
            if len(address) > EMAIL_MAX_LENGTH:
                continue
            try:
                validate_email(address)
            except forms.ValidationError:
                invalid.append(address)
        if invalid:
            errors.append(
                forms.ValidationError(
                    _("These are not valid email addresses: %(addresses)s") % {"addresses": ", ".join(invalid)}
                )
            )
        if errors:
            raise forms.ValidationError(errors)
        return list(dict.fromkeys(address.lower() for address in raw))


class MemberForm(forms.ModelForm):
    organisation = organisation_field()

    class Meta:
        model = Member
        fields = ["organisation"]


class InvitationAcceptForm(forms.Form):
    organisation = organisation_field()


class NewMemberAccountForm(SignUpForm):
    """Accepting an invitation without an account: the account is made for the invited address."""

    organisation = organisation_field()

    def __init__(self, *args, email: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["email"]
        self.invited_email = email

    def clean(self) -> dict:
        self.cleaned_data["email"] = self.invited_email
        return super().clean()
