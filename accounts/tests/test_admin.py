import pytest
from django.urls import reverse

from accounts.models import User
from accounts.tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_admin_refuses_a_new_users_name_with_a_line_break(admin_client):
    response = admin_client.post(
        reverse("admin:accounts_user_add"),
        {
            "email": "broken@example.org",
            "display_name": "Broken\r\nBcc: many@example.org",
            "usable_password": "true",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )

    assert response.status_code == 200
    assert "display_name" in response.context["adminform"].form.errors
    assert not User.objects.filter(email="broken@example.org").exists()


def test_admin_refuses_changing_a_name_to_one_with_a_line_break(admin_client):
    person = UserFactory(display_name="Pat Doe")
    url = reverse("admin:accounts_user_change", args=[person.pk])
    form = admin_client.get(url).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None and name != "password"}
    data.update(display_name="Pat\nDoe", groups=[], user_permissions=[], date_joined_0="2026-01-01")

    response = admin_client.post(url, data)

    assert response.status_code == 200
    assert list(response.context["adminform"].form.errors) == ["display_name"]
    person.refresh_from_db()
    assert person.display_name == "Pat Doe"
