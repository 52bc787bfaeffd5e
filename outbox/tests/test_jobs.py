from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
import time_machine

from outbox import jobs
from outbox.models import Delivery
from outbox.tests.factories import DeliveryFactory, MessageFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_sweep_enqueues_one_send_per_message_with_due_deliveries():
    retry = MessageFactory()
    DeliveryFactory.create_batch(2, message=retry, attempts=1, next_attempt_at=NOW - timedelta(minutes=1))
    lost_first_attempt = DeliveryFactory(next_attempt_at=NOW - timedelta(hours=1)).message
    DeliveryFactory(next_attempt_at=NOW)  # Fresh: its own send job is on its way.
    DeliveryFactory(attempts=1, next_attempt_at=NOW + timedelta(minutes=1))
    DeliveryFactory(status=Delivery.Status.SENT, attempts=1, next_attempt_at=NOW - timedelta(hours=1))

    with time_machine.travel(NOW, tick=False), mock.patch("outbox.jobs.send_message.delay") as delay:
        assert jobs.sweep_deliveries() == 2

    assert delay.call_args_list == [mock.call(pk) for pk in sorted([retry.pk, lost_first_attempt.pk])]


def test_sweep_with_nothing_due_enqueues_nothing():
    DeliveryFactory(next_attempt_at=NOW)

    with time_machine.travel(NOW, tick=False), mock.patch("outbox.jobs.send_message.delay") as delay:
        assert jobs.sweep_deliveries() == 0

    delay.assert_not_called()


def test_send_message_sends_the_due_deliveries_once(mailoutbox):
    message = MessageFactory()
    DeliveryFactory.create_batch(2, message=message)

    assert jobs.send_message(message.pk) == 2
    assert jobs.send_message(message.pk) == 0

    assert len(mailoutbox) == 2


def test_send_message_for_a_deleted_message_does_nothing(mailoutbox):
    message = DeliveryFactory().message
    message_id = message.pk
    message.delete()

    assert jobs.send_message(message_id) == 0

    assert mailoutbox == []
    assert not Delivery.objects.exists()
