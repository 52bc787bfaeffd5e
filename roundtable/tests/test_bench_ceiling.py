"""The benchmark's ceiling: a signed-in page that costs only the session and the user lookup."""

import pytest
from django.urls import reverse

from accounts.tests.factories import UserFactory
from roundtable.views import CEILING_BODY

pytestmark = pytest.mark.django_db


def test_a_signed_out_visitor_is_sent_to_sign_in(client):
    response = client.get(reverse("bench_ceiling"))

    assert response.status_code == 302
    assert response.url == f"{reverse('accounts:login')}?next=/bench/ceiling/"


def test_every_signed_in_reader_gets_the_same_bytes_and_nothing_about_themselves(client):
    bodies = []
    for user in (UserFactory(email="ana@example.org", display_name="Ana"), UserFactory(is_staff=True)):
        client.force_login(user)
        response = client.get(reverse("bench_ceiling"))
        assert response.status_code == 200
        bodies.append(response.content)

    assert bodies == [CEILING_BODY, CEILING_BODY]
    assert b"ana" not in bodies[0].lower()


def test_the_ceiling_costs_the_session_and_the_user_lookup_only(client, django_assert_num_queries):
    client.force_login(UserFactory())

    with django_assert_num_queries(2):
        response = client.get(reverse("bench_ceiling"))

    assert response.status_code == 200
