"""The password change form is kept for its reader: an empty form, and what the header shows of them.

What a user would notice if that went wrong: another reader's name in the header, a new name not showing,
or a refused change without its error.
"""

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db

URL = reverse("accounts:password_change")


def test_the_form_is_each_readers_own_and_shows_a_new_name_at_once(client, steward_user, member_user):
    steward_browser = Client()
    steward_browser.force_login(steward_user)
    assert "Stella Steward" in steward_browser.get(URL).content.decode()
    client.force_login(member_user)
    assert "Mia Member" in client.get(URL).content.decode()

    assert "Stella Steward" not in client.get(URL).content.decode()
    member_user.display_name = "Mia Organiser"
    member_user.save()
    assert "Mia Organiser" in client.get(URL).content.decode()


def test_a_wrong_current_password_is_refused_after_the_empty_form_was_kept(client, member_user):
    client.force_login(member_user)
    client.get(URL)

    refused = client.post(
        URL,
        {
            "old_password": "not the password",
            "new_password1": "a-long-new-pass-42",
            "new_password2": "a-long-new-pass-42",
        },
    )

    assert refused.status_code == 200
    assert "Your old password was entered incorrectly" in refused.content.decode()
