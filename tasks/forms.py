"""The forms of the to-do pages. The rules (who may, how long, which days) are the services': a form only
reads the input, and a `TodoError` from the service is shown on the form."""

from typing import cast

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from alliances.models import Member
from meetings.forms import MemberChoiceField
from tasks.models import TODO_TEXT_MAX_LENGTH
from tasks.services import UPDATE_MAX_LENGTH


class TodoForm(forms.Form):
    """What is to be done, who owns it and by when."""

    text = forms.CharField(
        label=gettext_lazy("What is to be done"),
        # No max_length here: the service counts the text once its spaces are tidied, and says how long
        # it may be in its own words.
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        error_messages={"required": gettext_lazy("Say what is to be done.")},
    )
    owner = MemberChoiceField(label=gettext_lazy("Owner"))
    due_on = forms.DateField(
        label=gettext_lazy("Due date"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={
            "required": gettext_lazy("Choose the day it is due."),
            "invalid": gettext_lazy("Enter a date such as 2027-03-16."),
        },
    )

    def __init__(self, *args, members: list[Member], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cast(MemberChoiceField, self.fields["owner"]).set_members(members)
        self.fields["text"].help_text = _(
            "One line, at most %(limit)s characters; details go in a progress update."
        ) % {"limit": TODO_TEXT_MAX_LENGTH}
        for field in self.fields.values():
            css = "form-select" if isinstance(field, forms.ChoiceField) else "form-control"
            field.widget.attrs.setdefault("class", css)


class TodoEditForm(TodoForm):
    """The same, with the version the editor started from: a stale edit is refused with both texts."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)


class TodoDropForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Why is it dropped?"),
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
        error_messages={"required": gettext_lazy("Say why the to-do is dropped: the others will read it.")},
    )


class TodoUpdateForm(forms.Form):
    text = forms.CharField(
        label=gettext_lazy("How is it going?"),
        max_length=UPDATE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
        error_messages={"required": gettext_lazy("Write the update first.")},
    )
