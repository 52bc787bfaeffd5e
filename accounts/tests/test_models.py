import pytest
from django.contrib.auth import authenticate
from django.db import IntegrityError, transaction

from accounts.models import User
from accounts.tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_create_user_stores_the_address_lower_case():
    user = User.objects.create_user(" Person@Example.ORG ", PASSWORD, display_name="Pat")

    assert user.email == "person@example.org"
    assert User.objects.get(pk=user.pk).email == "person@example.org"


def test_create_user_without_an_address_is_refused():
    with pytest.raises(ValueError, match="email"):
        User.objects.create_user("", PASSWORD, display_name="Nobody")


def test_new_user_is_unconfirmed_and_not_staff():
    user = User.objects.create_user("new@example.org", PASSWORD, display_name="New")

    assert not user.is_email_confirmed
    assert not user.is_staff
    assert user.is_active


def test_address_is_unique_whatever_its_case():
    User.objects.create_user("person@example.org", PASSWORD, display_name="First")

    # Bypass the manager's lower-casing: the database constraint must still refuse the duplicate.
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(email="Person@EXAMPLE.org", display_name="Second")


def test_sign_in_is_case_insensitive():
    user = UserFactory(email="person@example.org")

    assert authenticate(username="Person@Example.org", password=PASSWORD) == user
    assert authenticate(username="PERSON@EXAMPLE.ORG", password=PASSWORD) == user


def test_get_by_natural_key_ignores_case():
    user = UserFactory(email="person@example.org")

    assert User.objects.get_by_natural_key("Person@Example.org") == user


def test_create_superuser_is_staff_superuser_and_confirmed():
    admin = User.objects.create_superuser("Admin@Example.org", PASSWORD, display_name="Ada Admin")

    assert admin.email == "admin@example.org"
    assert admin.is_staff
    assert admin.is_superuser
    assert admin.is_email_confirmed
    assert authenticate(username="admin@example.org", password=PASSWORD) == admin


def test_str_is_the_display_name_or_else_the_address():
    assert str(User(email="pat@example.org", display_name="Pat Doe")) == "Pat Doe"
    assert str(User(email="pat@example.org", display_name="")) == "pat@example.org"
    assert User(email="pat@example.org", display_name="Pat Doe").get_short_name() == "Pat Doe"
