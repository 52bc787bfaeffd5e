"""Who an email is addressed to: what ends up in its To: header."""

import pytest
from django.core import mail

from accounts.tests.factories import UserFactory
from outbox import services
from outbox.models import Delivery
from outbox.services import Address

pytestmark = pytest.mark.django_db


def test_a_name_saved_with_a_line_break_still_gets_its_email_with_the_name_on_one_line(
    django_capture_on_commit_callbacks,
):
    """Names saved before the forms refused line breaks must not make every email to them fail for good."""
    user = UserFactory(display_name="Ana\r\nBcc: someone@example.org\t", email="ana@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        services.mail_send(template="password_reset", recipients=[Address.for_user(user)], context={"reset_url": "x"})
    assert Delivery.objects.get().status == Delivery.Status.SENT
    (sent,) = mail.outbox
    assert sent.to == ['"Ana Bcc: someone@example.org" <ana@example.org>']
    assert sent.bcc == []
