"""Forms of the agenda: items, proposals, declining, segment minutes and the opening reflection.

The forms say what is wrong next to the field; the services in meetings/agenda.py hold the same rules
for every other caller.
"""

from typing import cast

from django import forms
from django.core.validators import URLValidator
from django.utils.translation import gettext_lazy as _

from alliances.models import Member
from meetings.models import CLOSING_SEGMENTS, OPENING_SEGMENTS, AgendaItem, Reflection
from roundtable.validators import validate_single_line

MAX_MINUTES = 24 * 60


def _minutes_field() -> forms.IntegerField:
    return forms.IntegerField(
        label=_("Time box (minutes)"),
        min_value=1,
        max_value=MAX_MINUTES,
        error_messages={"min_value": _("The time box must be at least one minute.")},
    )


class ProposalForm(forms.Form):
    """What any member fills to propose an item."""

    title = forms.CharField(
        label=_("Title"),
        max_length=AgendaItem.TITLE_MAX_LENGTH,
        validators=[validate_single_line],
        error_messages={
            "max_length": _("The title can have at most %(limit_value)d characters (it has %(show_value)d).")
        },
    )
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Optional. Markdown: *emphasis*, **bold**, lists, [links](https://example.org)."),
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=AgendaItem.Kind.choices, initial=AgendaItem.Kind.DISCUSSION)
    minutes = _minutes_field()

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # No maxlength on the description (as on the norms): a browser would cut a pasted text without a
        # word; the form refuses an over-long one with the count instead.
        self.fields["description"].widget.attrs.pop("maxlength", None)


class PresenterChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Member) -> str:
        return obj.user.display_name


class AgendaItemForm(ProposalForm):
    """What the facilitator (or a steward) fills to add or edit an item: a proposal plus a presenter."""

    presenter = PresenterChoiceField(
        label=_("Presenter"),
        queryset=Member.objects.none(),
        required=False,
        empty_label=_("No presenter"),
        error_messages={"invalid_choice": _("The presenter must be an active member of the alliance.")},
    )

    field_order = ["title", "description", "kind", "presenter", "minutes"]

    def __init__(self, *args, alliance_id: int, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Only active members of this alliance can present; anyone else is refused as an invalid choice.
        presenter = cast(forms.ModelChoiceField, self.fields["presenter"])
        presenter.queryset = (
            Member.objects.active()
            .filter(alliance_id=alliance_id)
            .select_related("user")
            .order_by("user__display_name")
        )


class DeclineForm(forms.Form):
    reason = forms.CharField(
        label=_("Why (optional; the proposer sees it)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class SegmentsForm(forms.Form):
    """The minutes of the six standard segments, in the order the meeting runs them."""

    def __init__(self, *args, initial_minutes: dict[str, int], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for kind in [*OPENING_SEGMENTS, *CLOSING_SEGMENTS]:
            self.fields[kind.value] = forms.IntegerField(
                label=_("%(segment)s (minutes)") % {"segment": kind.label},
                min_value=0,
                max_value=MAX_MINUTES,
                initial=initial_minutes.get(kind.value),
            )


class ReflectionForm(forms.ModelForm):
    # Only web links: a plain link is all the agenda shows (no embeds), and other schemes have no use here.
    link = forms.URLField(
        label=_("Link"),
        required=False,
        assume_scheme="https",
        validators=[URLValidator(schemes=["http", "https"])],
        help_text=_("Optional. Shown as a plain link: nothing is embedded in the agenda."),
    )

    class Meta:
        model = Reflection
        fields = ["kind", "text", "source", "link"]
        widgets = {"text": forms.Textarea(attrs={"rows": 5})}
