"""The forms of the live recording parts (meetings/views/record.py).

Each form only parses and checks what was typed; the rules (who may, a stance's reason, a due date that
has passed) are the services' (meetings/consensus.py, meetings/texts.py, tasks/services.py), whose errors
the views put on the form.
"""

from typing import cast

from django import forms
from django.utils.translation import gettext_lazy as _

from alliances.models import Member
from meetings.forms import MemberChoiceField
from meetings.models import Stance
from meetings.texts import TEXT_MAX_LENGTH
from tasks.models import TODO_TEXT_MAX_LENGTH

RATING_CHOICES = [
    ("", _("No rating")),
    ("1", _("1 — Poor")),
    ("2", _("2 — Fair")),
    ("3", _("3 — Good")),
    ("4", _("4 — Very good")),
    ("5", _("5 — Excellent")),
]


class TextForm(forms.Form):
    """An autosaved text: what was typed and the version of the record the page started from."""

    text = forms.CharField(required=False, strip=False, max_length=TEXT_MAX_LENGTH)
    version = forms.IntegerField(min_value=0)


class TakeawayForm(TextForm):
    # Absent: the rating stays as it was (an autosave of the text alone); "": no rating.
    rating = forms.ChoiceField(choices=RATING_CHOICES, required=False)

    def rating_value(self) -> int | str | None:
        """The rating to save: a number, None (no rating) or "keep" when the form did not send one."""
        if "rating" not in self.data:
            return "keep"
        value = self.cleaned_data.get("rating")
        return int(value) if value else None


class ProposalForm(forms.Form):
    text = forms.CharField(
        label=_("Proposal"),
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("A proposal needs its text.")},
    )


class StanceForm(forms.Form):
    """A stance: the member's own, or, for the note taker and the facilitator, anyone's who is present."""

    member = MemberChoiceField(label=_("Whose stance"))
    kind = forms.ChoiceField(
        label=_("Stance"),
        choices=Stance.Kind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose a stance: agree, stand aside or block.")},
    )
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Needed to stand aside or to block."),
    )

    def __init__(self, *args, members: list[Member], for_others: bool, **kwargs) -> None:
        kwargs["prefix"] = "stance-others" if for_others else "stance"
        super().__init__(*args, **kwargs)
        self.for_others = for_others
        if for_others:
            cast(MemberChoiceField, self.fields["member"]).set_members(members)
        else:
            del self.fields["member"]

    def clean(self) -> dict:
        # The service says the same (meetings/consensus.py); said here too, every mistake shows at once.
        cleaned = super().clean() or {}
        kind, reason = cleaned.get("kind"), (cleaned.get("reason") or "").strip()
        if kind == Stance.Kind.STAND_ASIDE and not reason:
            self.add_error(
                "reason", _("Standing aside needs a reason: say what you disagree with, so it can be recorded.")
            )
        if kind == Stance.Kind.BLOCK and not reason:
            self.add_error("reason", _("A block needs a reason: say what would have to change for you to agree."))
        return cleaned


class TodoForm(forms.Form):
    text = forms.CharField(
        label=_("To-do"),
        max_length=TODO_TEXT_MAX_LENGTH,
        error_messages={"required": _("Say what is to be done.")},
    )
    owner = MemberChoiceField(label=_("Owner"))
    due_on = forms.DateField(
        label=_("Due date"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Enter a date such as 2027-03-16."), "required": _("Choose a due date.")},
    )

    def __init__(self, *args, members: list[Member], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cast(MemberChoiceField, self.fields["owner"]).set_members(members)


class TodoCorrectForm(TodoForm):
    """A correction of a to-do in the review, made on the version the page showed."""

    version = forms.IntegerField(min_value=0, widget=forms.HiddenInput)
