"""Bad input: the form says what is wrong, next to the field, and nothing is saved."""

import pytest
from django.urls import reverse
from django.utils import translation

from alliances import services
from alliances.forms import AllianceForm, InvitationForm, LogisticsForm, NewMemberAccountForm, NormForm
from alliances.models import Alliance, CharterChange, Invitation, Member, Norm
from alliances.tests.factories import NormFactory
from alliances.tests.helpers import alliance_url

pytestmark = pytest.mark.django_db

LOGISTICS = {
    "cadence": "weekly",
    "cadence_custom": "",
    "meeting_weekday": "1",
    "meeting_time": "18:30",
    "meeting_duration_minutes": "90",
    "time_zone": "America/Puerto_Rico",
    "venue_address": "Biblioteca Municipal",
    "video_link": "",
    "info_sharing": "",
    "info_link": "",
}


def _field_errors(response, form_name: str, field: str) -> list[str]:
    return response.context[form_name].errors.get(field, [])


# --- Establishing an alliance -----------------------------------------------------------------------


def test_alliance_form_makes_the_slug_from_the_name(db):
    form = AllianceForm({"name": "Lectores del Barrio Año 1", "slug": "", "organisation": ""})

    assert form.is_valid(), form.errors
    assert form.cleaned_data["slug"] == "lectores-del-barrio-ano-1"


def test_alliance_form_asks_for_a_slug_when_the_name_has_no_letters_or_numbers(db):
    form = AllianceForm({"name": "¡¿!?", "slug": ""})

    assert not form.is_valid()
    assert "letters or numbers" in form.errors["slug"][0]


def test_alliance_form_refuses_a_slug_with_spaces(db):
    form = AllianceForm({"name": "Readers", "slug": "barrio readers"})

    assert not form.is_valid()
    assert "slug" in form.errors


def test_empty_alliance_name_is_shown_on_the_page_and_nothing_is_created(client, outsider):
    client.force_login(outsider)

    response = client.post(reverse("alliances:alliance_create"), {"name": "", "slug": "", "organisation": ""})

    assert response.status_code == 200
    assert _field_errors(response, "form", "name") == ["This field is required."]
    assert "This field is required." in response.content.decode()
    assert not Alliance.objects.exists()


def test_a_taken_name_is_said_next_to_the_name_when_the_address_was_left_empty(client, alliance, outsider):
    # The address was made from the name: the error goes where the person typed, not on the empty field.
    client.force_login(outsider)

    response = client.post(
        reverse("alliances:alliance_create"), {"name": "Barrio Readers", "slug": "", "organisation": ""}
    )

    assert response.status_code == 200
    [error] = _field_errors(response, "form", "name")
    assert "Another alliance already has the web address made from this name (barrio-readers)" in error
    assert _field_errors(response, "form", "slug") == []
    assert "Another alliance already has the web address" in response.content.decode()
    assert Alliance.objects.count() == 1
    assert not Member.objects.filter(user=outsider).exists()


def test_a_typed_address_that_is_taken_is_said_next_to_the_address(client, alliance, outsider):
    client.force_login(outsider)

    response = client.post(
        reverse("alliances:alliance_create"), {"name": "Readers", "slug": "barrio-readers", "organisation": ""}
    )

    assert response.status_code == 200
    assert _field_errors(response, "form", "slug") == ["That web address is taken. Choose another."]
    assert _field_errors(response, "form", "name") == []
    assert Alliance.objects.count() == 1


def test_an_address_taken_while_the_form_was_checked_is_said_next_to_the_name(client, outsider, monkeypatch):
    # Two people creating "Barrio Readers" at the same moment: the form saw the address free, the
    # database refused the second; the person still reads the error next to the name they typed.
    client.force_login(outsider)

    def taken(**kwargs):
        raise services.AllianceError("That web address is taken. Choose another.")

    monkeypatch.setattr(services, "alliance_create", taken)

    response = client.post(
        reverse("alliances:alliance_create"), {"name": "Barrio Readers", "slug": "", "organisation": ""}
    )

    assert response.status_code == 200
    assert "(barrio-readers)" in _field_errors(response, "form", "name")[0]
    assert _field_errors(response, "form", "slug") == []


def test_a_name_that_would_take_the_new_alliance_page_address_is_refused(client, outsider):
    client.force_login(outsider)

    response = client.post(reverse("alliances:alliance_create"), {"name": "New", "slug": "", "organisation": ""})

    assert response.status_code == 200
    assert "(new)" in _field_errors(response, "form", "name")[0]
    assert not Alliance.objects.exists()


# --- Invitations ------------------------------------------------------------------------------------


def test_invitation_form_splits_on_commas_spaces_semicolons_and_new_lines_and_drops_repeats():
    form = InvitationForm({"emails": "Ana@Example.org, ben@example.org;\ncai@example.org  ana@example.org"})

    assert form.is_valid(), form.errors
    assert form.cleaned_data["emails"] == ["ana@example.org", "ben@example.org", "cai@example.org"]


def test_invitation_form_needs_at_least_one_address():
    form = InvitationForm({"emails": " , ;\n"})

    assert not form.is_valid()
    assert form.errors["emails"] == ["Enter at least one email address."]


def test_invitation_form_names_every_bad_address_and_only_those():
    form = InvitationForm({"emails": "a@b.org, not-an-email, also@bad@example.org"})

    assert not form.is_valid()
    [error] = form.errors["emails"]
    assert "not-an-email" in error
    assert "also@bad@example.org" in error
    assert "a@b.org," not in error


def test_invalid_address_in_the_list_is_shown_and_the_valid_one_is_not_invited_either(
    client, alliance, steward_user, django_capture_on_commit_callbacks, mailoutbox
):
    client.force_login(steward_user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(alliance_url("invitation_create", alliance), {"emails": "a@b.org, not-an-email"})

    assert response.status_code == 400
    errors = _field_errors(response, "invitation_form", "emails")
    assert errors == ["These are not valid email addresses: not-an-email"]
    assert "not-an-email" in response.content.decode()
    assert not Invitation.objects.exists()
    assert mailoutbox == []


def test_empty_invitation_list_is_shown_on_the_page(client, alliance, steward_user):
    client.force_login(steward_user)

    response = client.post(alliance_url("invitation_create", alliance), {"emails": ""})

    assert response.status_code == 400
    assert _field_errors(response, "invitation_form", "emails") == ["This field is required."]
    assert not Invitation.objects.exists()


# --- Logistics --------------------------------------------------------------------------------------


def test_logistics_form_accepts_a_complete_answer(alliance):
    form = LogisticsForm(LOGISTICS, instance=alliance)

    assert form.is_valid(), form.errors


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"cadence": "custom", "cadence_custom": ""}, "cadence_custom", "Describe how often you meet."),
        ({"meeting_duration_minutes": "4"}, "meeting_duration_minutes", "between 5 and 1440"),
        ({"meeting_duration_minutes": "1441"}, "meeting_duration_minutes", "between 5 and 1440"),
        ({"meeting_duration_minutes": "-30"}, "meeting_duration_minutes", "greater than or equal to 0"),
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone", "Select a valid choice"),
        ({"meeting_weekday": "7"}, "meeting_weekday", "Select a valid choice"),
        ({"meeting_time": "25:00"}, "meeting_time", "Enter a valid time"),
        ({"video_link": "not a link"}, "video_link", "Enter a valid URL"),
    ],
)
def test_bad_logistics_are_shown_on_the_page_and_nothing_is_saved(
    client, alliance, steward_user, changes, field, message
):
    client.force_login(steward_user)

    response = client.post(alliance_url("charter_logistics_edit", alliance), {**LOGISTICS, **changes})

    assert response.status_code == 200
    errors = _field_errors(response, "form", field)
    assert any(message in error for error in errors), errors
    assert message in response.content.decode()
    alliance.refresh_from_db()
    assert (alliance.cadence, alliance.meeting_time, alliance.time_zone) == ("", None, "UTC")
    assert not CharterChange.objects.exists()


def test_a_failed_logistics_form_keeps_what_was_typed_and_saves_none_of_it(client, alliance, steward_user):
    client.force_login(steward_user)

    response = client.post(
        alliance_url("charter_logistics_edit", alliance),
        {**LOGISTICS, "venue_address": "Plaza", "time_zone": "Nowhere/X"},
    )

    assert response.context["form"]["venue_address"].value() == "Plaza"
    assert "Plaza" in response.content.decode()
    alliance.refresh_from_db()
    assert alliance.venue_address == ""


# --- Purpose and norms ------------------------------------------------------------------------------


def test_bad_purpose_date_is_shown_on_the_page_and_nothing_is_saved(client, alliance, steward_user):
    client.force_login(steward_user)
    before = alliance.purpose

    response = client.post(
        alliance_url("charter_purpose_edit", alliance), {"purpose": "Changed", "purpose_agreed_on": "31/31/2026"}
    )

    assert response.status_code == 200
    assert _field_errors(response, "form", "purpose_agreed_on") == ["Enter a valid date."]
    alliance.refresh_from_db()
    assert alliance.purpose == before
    assert not CharterChange.objects.exists()


def test_empty_norm_is_shown_on_the_page_and_nothing_is_saved(client, alliance, steward_user):
    client.force_login(steward_user)

    response = client.post(alliance_url("norm_create", alliance), {"text": "  ", "agreed_on": ""})

    assert response.status_code == 200
    assert _field_errors(response, "form", "text") == ["This field is required."]
    assert not Norm.objects.exists()
    assert not CharterChange.objects.exists()


def test_a_norm_over_the_limit_is_refused_with_its_length_and_nothing_is_added(client, alliance, steward_user):
    # Before, the browser cut a long norm at 500 characters and the page said "The norm has been added".
    client.force_login(steward_user)

    response = client.post(alliance_url("norm_create", alliance), {"text": "x" * 1001, "agreed_on": ""})

    assert response.status_code == 200
    [error] = _field_errors(response, "form", "text")
    assert error == (
        "A norm can be at most 1,000 characters long; this one has 1,001. Shorten it, or split it into two norms."
    )
    assert error in response.content.decode()
    assert not Norm.objects.exists()
    assert not CharterChange.objects.exists()


def test_a_norm_at_the_limit_is_added_whole(client, alliance, steward_user):
    client.force_login(steward_user)

    response = client.post(alliance_url("norm_create", alliance), {"text": "x" * 1000, "agreed_on": ""})

    assert response.status_code == 302
    assert Norm.objects.get().text == "x" * 1000


def test_the_norm_form_states_the_limit_and_does_not_cut_in_the_browser(client, alliance, steward_user):
    client.force_login(steward_user)

    page = client.get(alliance_url("norm_create", alliance)).content.decode()

    assert "up to 1,000 characters" in page
    assert "<textarea" in page
    assert "maxlength" not in page


def test_the_norm_limit_and_the_error_use_the_readers_number_format():
    with translation.override("es"):
        form = NormForm({"text": "x" * 1234, "agreed_on": ""})

        assert "1\xa0000" in str(form.fields["text"].help_text)
        assert not form.is_valid()
        assert "1\xa0234" in form.errors["text"][0]


def test_a_multi_line_norm_keeps_its_lines_and_counts_each_line_break_once(client, alliance, steward_user):
    # Browsers send line breaks as CR LF: 999 characters and one line break make 1,000, as the reader counts.
    client.force_login(steward_user)
    text = "x" * 499 + "\r\n" + "y" * 500

    response = client.post(alliance_url("norm_create", alliance), {"text": text, "agreed_on": ""})

    assert response.status_code == 302
    assert Norm.objects.get().text == "x" * 499 + "\n" + "y" * 500
    charter = client.get(alliance_url("charter_detail", alliance)).content.decode()
    assert '<div class="norm-text">' + "x" * 499 + "\n" + "y" * 500 + "</div>" in charter


def test_editing_a_norm_past_the_limit_is_refused_and_the_norm_keeps_its_text(client, alliance, steward_user):
    norm = NormFactory(alliance=alliance, text="Start on time")
    client.force_login(steward_user)

    response = client.post(alliance_url("norm_edit", alliance, pk=norm.pk), {"text": "x" * 1500, "agreed_on": ""})

    assert response.status_code == 200
    assert "this one has 1,500" in _field_errors(response, "form", "text")[0]
    norm.refresh_from_db()
    assert norm.text == "Start on time"


def test_emptying_a_norm_is_shown_on_the_page_and_the_norm_keeps_its_text(client, alliance, steward_user):
    norm = NormFactory(alliance=alliance, text="Start on time")
    client.force_login(steward_user)

    response = client.post(alliance_url("norm_edit", alliance, pk=norm.pk), {"text": "", "agreed_on": ""})

    assert response.status_code == 200
    assert _field_errors(response, "form", "text") == ["This field is required."]
    norm.refresh_from_db()
    assert norm.text == "Start on time"


def test_editing_a_retired_norm_is_refused_on_the_page(client, alliance, steward_user):
    norm = NormFactory(alliance=alliance, text="Old rule")
    client.force_login(steward_user)
    client.post(alliance_url("norm_retire", alliance, pk=norm.pk))

    response = client.post(alliance_url("norm_edit", alliance, pk=norm.pk), {"text": "New rule", "agreed_on": ""})

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == ["A retired norm cannot be edited."]
    norm.refresh_from_db()
    assert norm.text == "Old rule"


# --- Member details ---------------------------------------------------------------------------------


def test_too_long_organisation_is_shown_on_the_page_and_not_saved(client, alliance, member_user):
    client.force_login(member_user)

    response = client.post(alliance_url("member_edit", alliance), {"organisation": "x" * 201})

    assert response.status_code == 200
    assert "at most 200 characters" in _field_errors(response, "form", "organisation")[0]
    assert Member.objects.get(user=member_user).organisation == ""


# --- New account from an invitation -----------------------------------------------------------------


def _account_data(**changes) -> dict:
    return {
        "display_name": "Ana Rivera",
        "password1": "a long enough passphrase",
        "password2": "a long enough passphrase",
        "language": "es",
        "time_zone": "America/Puerto_Rico",
        "organisation": "",
        **changes,
    }


def test_new_member_form_uses_the_invited_address_and_has_no_email_field(db):
    form = NewMemberAccountForm(_account_data(), email="ana@example.org")

    assert "email" not in form.fields
    assert form.is_valid(), form.errors
    assert form.cleaned_data["email"] == "ana@example.org"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"password2": "another passphrase"}, "password2", "The two passwords differ."),
        ({"password1": "short", "password2": "short"}, "password1", "too short"),
        ({"password1": "ana@example.org", "password2": "ana@example.org"}, "password1", "too similar"),
        ({"display_name": ""}, "display_name", "This field is required."),
        ({"language": "fr"}, "language", "Select a valid choice"),
        ({"time_zone": "Nowhere/Town"}, "time_zone", "Select a valid choice"),
    ],
)
def test_new_member_form_refuses_bad_input(db, changes, field, message):
    form = NewMemberAccountForm(_account_data(**changes), email="ana@example.org")

    assert not form.is_valid()
    assert any(message in error for error in form.errors[field]), form.errors
