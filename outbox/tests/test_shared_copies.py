"""Large fan-outs: what many copies share is rendered and stored once, copies alike are rendered once, and a
message's batches are shared between jobs."""

from collections import Counter
from datetime import UTC, datetime
from unittest import mock

import pytest

from accounts.tests.factories import UserFactory
from outbox import queue, services
from outbox.models import Delivery, MessagePart
from outbox.services import Address, SharedPart

pytestmark = pytest.mark.django_db

WHEN = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


@pytest.fixture
def templates(settings, tmp_path):
    """An email whose copies greet their reader and show a long shared part in the reader's language and zone."""
    emails, parts = tmp_path / "emails", tmp_path / "parts"
    emails.mkdir()
    parts.mkdir()
    (emails / "fanout_subject.txt").write_text("Fan-out")
    (emails / "fanout.txt").write_text(
        "{% autoescape off %}Hello {{ recipient.email }}\n{{ body_text }}{% endautoescape %}"
    )
    (emails / "fanout.html").write_text("<p>Hello {{ recipient.email }}</p>{{ body_html }}")
    (emails / "alike_subject.txt").write_text("Alike {{ opening }}")
    (emails / "alike.txt").write_text("{% autoescape off %}{{ opening }}: the same for all{% endautoescape %}")
    (emails / "alike.html").write_text("<p>{{ opening }}</p>")
    zone_line = (
        "{% load i18n tz %}{% get_current_language as lang %}{% get_current_timezone as zone %}"
        "[{{ lang }} {{ zone }}] {{ title }} at {{ when|date:'H:i' }}"
    )
    (parts / "body.txt").write_text("{% autoescape off %}" + zone_line + "{% endautoescape %}")
    (parts / "body.html").write_text("<b>" + zone_line + "</b>")
    engine = settings.TEMPLATES[0]
    settings.TEMPLATES = [{**engine, "DIRS": [tmp_path, *engine["DIRS"]]}]


def _readers() -> list[Address]:
    return [
        Address.for_user(UserFactory(language=language, time_zone=zone))
        for language, zone in [
            ("es", "America/Mexico_City"),
            ("es", "America/Mexico_City"),
            ("en", "Europe/London"),
            ("en", "Europe/London"),
        ]
    ]


def test_a_shared_part_is_rendered_once_per_language_and_zone_stored_once_and_sent_whole(
    templates, django_capture_on_commit_callbacks, mailoutbox
):
    readers = _readers()
    context = {"title": "Fish & chips", "when": WHEN}

    with (
        mock.patch("outbox.services.render_to_string", wraps=services.render_to_string) as rendered,
        django_capture_on_commit_callbacks(execute=True),
    ):
        message = services.mail_send(
            template="fanout",
            recipients=readers,
            context={
                "body_text": SharedPart("parts/body.txt", context),
                "body_html": SharedPart("parts/body.html", context),
            },
        )

    names = Counter(call.args[0] for call in rendered.call_args_list)
    # Two languages and zones: each part twice, however many copies; each copy's own frame once a copy.
    assert names["parts/body.txt"] == 2
    assert names["parts/body.html"] == 2
    assert names["emails/fanout.txt"] == 4
    assert MessagePart.objects.filter(message=message).count() == 4
    for reader in readers:
        delivery = Delivery.objects.get(message=message, to_email=reader.email)
        assert "Fish" not in delivery.body_text  # the copy holds a marker, not the part
        expected = (
            "[es America/Mexico_City] Fish & chips at 06:00"
            if reader.language == "es"
            else "[en Europe/London] Fish & chips at 12:00"
        )
        assert delivery.text == f"Hello {reader.email}\n{expected}"
        assert delivery.text_for_operators == delivery.text
        [email] = [email for email in mailoutbox if reader.email in email.to[0]]
        assert email.body == delivery.text
        [(html, _)] = email.alternatives
        # The HTML part was escaped once, by its own template, and printed as it is.
        assert html == f"<p>Hello {reader.email}</p><b>{expected.replace('&', '&amp;')}</b>"
        assert "[outbox-part:" not in email.message().as_string()


def test_a_shared_part_outside_mail_send_is_just_its_text(templates):
    part = SharedPart("parts/body.txt", {"title": "Soup", "when": WHEN})

    assert str(part).endswith("] Soup at 12:00")
    assert not MessagePart.objects.exists()


def test_copies_alike_are_rendered_once_and_each_keeps_its_own_address_and_message_id(
    templates, django_capture_on_commit_callbacks, mailoutbox
):
    readers = _readers()
    first = readers[2].email

    with (
        mock.patch("outbox.services.render_to_string", wraps=services.render_to_string) as rendered,
        django_capture_on_commit_callbacks(execute=True),
    ):
        message = services.mail_send(
            template="alike",
            recipients=readers,
            context_for=lambda address: {"opening": "You first" if address.email == first else "Hi"},
            alike=lambda address: address.email == first,
        )

    # Spanish "Hi", English "Hi", English "You first": three different emails, each rendered once.
    assert Counter(call.args[0] for call in rendered.call_args_list)["emails/alike.txt"] == 3
    deliveries = list(Delivery.objects.filter(message=message))
    assert sorted(d.to_email for d in deliveries) == sorted(r.email for r in readers)
    assert len({d.header_message_id for d in deliveries}) == 4
    assert sorted(email.subject for email in mailoutbox) == ["Alike Hi", "Alike Hi", "Alike Hi", "Alike You first"]
    assert sorted(email.to[0].split("<")[-1].rstrip(">") for email in mailoutbox) == sorted(r.email for r in readers)


def _reset_to(count: int):
    users = [UserFactory() for _ in range(count)]
    return services.mail_send(
        template="password_reset",
        recipients=[Address.for_user(user) for user in users],
        context={"user": users[0], "reset_url": "http://x/reset"},
    )


def test_a_job_that_claims_a_full_batch_enqueues_one_helper_and_together_they_send_each_copy_once(settings, mailoutbox):
    settings.OUTBOX_BATCH_SIZE = 2
    message = _reset_to(5)

    with mock.patch.object(queue, "send_message_now") as enqueue:
        sent = services.deliveries_send(message_id=message.pk)
        # The helper, run after: the first job took everything meanwhile, so it finds nothing.
        helped = services.deliveries_send(message_id=message.pk)

    assert enqueue.call_args_list == [mock.call(message.pk)]  # one helper, from the first job only
    assert (sent, helped) == (5, 0)
    assert len({email.to[0] for email in mailoutbox}) == len(mailoutbox) == 5


def test_a_job_whose_batch_is_not_full_enqueues_no_helper(settings, mailoutbox):
    settings.OUTBOX_BATCH_SIZE = 50
    message = _reset_to(3)

    with mock.patch.object(queue, "send_message_now") as enqueue:
        assert services.deliveries_send(message_id=message.pk) == 3

    enqueue.assert_not_called()


def test_a_helper_that_fails_to_start_gives_back_the_claimed_batch(settings, mailoutbox):
    settings.OUTBOX_BATCH_SIZE = 2
    message = _reset_to(2)

    with (
        mock.patch.object(queue, "send_message_now", side_effect=RuntimeError("eager helper failed")),
        pytest.raises(RuntimeError),
    ):
        services.deliveries_send(message_id=message.pk)

    assert set(Delivery.objects.filter(message=message).values_list("status", "attempts")) == {("pending", 0)}
    assert mailoutbox == []
