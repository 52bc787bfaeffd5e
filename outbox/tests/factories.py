import factory
from django.contrib.auth.models import Permission
from django.utils import timezone

from accounts.models import User
from accounts.tests.factories import UserFactory
from outbox.models import Delivery, Message


def make_operator(**kwargs: object) -> User:
    """A staff account given, on purpose, the permissions to read the outbox and its admin pages."""
    user = UserFactory(is_staff=True, **kwargs)
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_delivery", "view_message"], content_type__app_label="outbox")
    )
    return user


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    template = "password_reset"


class DeliveryFactory(factory.django.DjangoModelFactory):
    """A delivery as mail_send records it, already rendered; set status and times per test."""

    class Meta:
        model = Delivery

    message = factory.SubFactory(MessageFactory)
    to_email = factory.Sequence(lambda n: f"reader{n}@example.org")
    language = "en"
    subject = "A subject"
    body_text = "A body."
    body_html = "<p>A body.</p>"
    header_message_id = factory.LazyFunction(Delivery.new_message_id)
    next_attempt_at = factory.LazyFunction(timezone.now)
