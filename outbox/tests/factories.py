import factory
from django.utils import timezone

from outbox.models import Delivery, Message


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
