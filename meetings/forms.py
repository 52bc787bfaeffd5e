from datetime import datetime
from typing import cast

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from alliances.models import Member
from meetings.scheduling import NonexistentTime, local_to_utc
from meetings.services import MAX_DURATION_MINUTES, MIN_DURATION_MINUTES

_NOT_A_MEMBER = gettext_lazy("Choose an active member of the alliance.")


class MemberChoiceField(forms.ChoiceField):
    """A choice among members the view has already read: validating and rendering it cost no query."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("error_messages", {"invalid_choice": _NOT_A_MEMBER, "required": _NOT_A_MEMBER})
        super().__init__(**kwargs)
        self.members: dict[str, Member] = {}

    def set_members(self, members: list[Member]) -> None:
        self.members = {str(m.pk): m for m in members}
        self.choices = [("", "---------"), *((str(m.pk), m.user.display_name) for m in members)]

    def clean(self, value: object) -> Member:
        return self.members[super().clean(value)]


class MeetingForm(forms.Form):
    """A meeting's date and start time in its zone, its place, its roles and the support offered."""

    date = forms.DateField(
        label=gettext_lazy("Date"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": gettext_lazy("Enter a date such as 2027-03-16.")},
    )
    start_time = forms.TimeField(
        label=gettext_lazy("Start time"),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        error_messages={"invalid": gettext_lazy("Enter a time such as 18:30.")},
    )
    duration_minutes = forms.IntegerField(
        label=gettext_lazy("Duration (minutes)"),
        min_value=MIN_DURATION_MINUTES,
        max_value=MAX_DURATION_MINUTES,
        error_messages={
            "min_value": gettext_lazy("Enter a duration between 5 and 1440 minutes."),
            "max_value": gettext_lazy("Enter a duration between 5 and 1440 minutes."),
        },
    )
    venue_address = forms.CharField(
        label=gettext_lazy("Venue address"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    video_link = forms.URLField(label=gettext_lazy("Video-call link"), required=False, assume_scheme="https")
    facilitator = MemberChoiceField(label=gettext_lazy("Facilitator"))
    note_taker = MemberChoiceField(label=gettext_lazy("Note taker"))
    support_offered = forms.CharField(
        label=gettext_lazy("Support offered"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy(
            "What makes the meeting inclusive: interpretation, childcare, step-free access, a call-in number…"
        ),
    )

    def __init__(self, *args, members: list[Member], zone: str, zone_label: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.zone = zone
        # The active members, read once by the view and shared by both lists.
        for name in ("facilitator", "note_taker"):
            cast(MemberChoiceField, self.fields[name]).set_members(members)
        # The template renders the widgets itself (crispy's template per <option> cost milliseconds here).
        for field in self.fields.values():
            css = "form-select" if isinstance(field, forms.ChoiceField) else "form-control"
            field.widget.attrs.setdefault("class", css)
        self.fields["start_time"].help_text = _("In the time zone %(zone)s.") % {"zone": zone_label}
        self.fields["facilitator"].help_text = _("Suggested: who held the role least. You can choose someone else.")

    def clean(self) -> dict:
        cleaned = super().clean() or {}
        day, start = cleaned.get("date"), cleaned.get("start_time")
        if day is not None and start is not None:
            try:
                starts_at = local_to_utc(day, start, self.zone)
            except NonexistentTime:
                self.add_error("start_time", _("The clocks change that night: this time does not exist that day."))
            else:
                if starts_at <= timezone.now():
                    self.add_error("date", _("A meeting can only be scheduled in the future."))
                cleaned["starts_at"] = starts_at
        facilitator, note_taker = cleaned.get("facilitator"), cleaned.get("note_taker")
        if facilitator is not None and note_taker is not None and facilitator.pk == note_taker.pk:
            self.add_error("note_taker", _("One person cannot be both facilitator and note taker of a meeting."))
        return cleaned

    @property
    def starts_at(self) -> datetime:
        return self.cleaned_data["starts_at"]


class SwapForm(forms.Form):
    with_member = MemberChoiceField(label=gettext_lazy("Swap with"))

    def __init__(self, *args, members: list[Member], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cast(MemberChoiceField, self.fields["with_member"]).set_members(members)
