"""A copy's own headers (List-Unsubscribe), and many one-person emails recorded in a constant number of queries."""

import pytest
from django.db import transaction

from accounts.tests.factories import UserFactory
from outbox import services
from outbox.models import Delivery, Message
from outbox.services import Address, Mail

pytestmark = pytest.mark.django_db

RESET_CONTEXT = {"reset_url": "http://x/reset"}


def _unsubscribe(recipient: Address) -> dict[str, str]:
    return {"List-Unsubscribe": f"<http://testserver/unsubscribe/{recipient.email}/>"}


def test_each_copy_is_sent_with_its_own_headers_and_the_shared_ones(
    member_user, steward_user, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True):
        services.mail_send(
            template="password_reset",
            recipients=[Address.for_user(member_user), Address.for_user(steward_user)],
            context={"user": member_user, **RESET_CONTEXT},
            headers={"List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
            headers_for=_unsubscribe,
        )

    assert len(mailoutbox) == 2
    for email in mailoutbox:
        mime = email.message()
        address = email.to[0].rpartition("<")[2].rstrip(">")
        assert mime["List-Unsubscribe"] == f"<http://testserver/unsubscribe/{address}/>"
        assert mime["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert mime["Auto-Submitted"] == "auto-generated"
    stored = Delivery.objects.get(recipient=member_user).headers
    assert stored["List-Unsubscribe"] == f"<http://testserver/unsubscribe/{member_user.email}/>"


def test_an_email_without_headers_of_its_own_has_none(member_user, django_capture_on_commit_callbacks, mailoutbox):
    with django_capture_on_commit_callbacks(execute=True):
        services.mail_send(
            template="password_reset",
            recipients=[Address.for_user(member_user)],
            context={"user": member_user, **RESET_CONTEXT},
        )
    assert "List-Unsubscribe" not in mailoutbox[0].message()
    assert Delivery.objects.get().headers == {}


@pytest.mark.parametrize(
    "headers",
    [
        {"Message-ID": "<mine@example.org>"},  # the outbox's own: a retry must keep the same one
        {"To": "someone@example.org"},
        {"Bad Name": "x"},
        {"List-Unsubscribe": "<http://x/>\r\nBcc: victim@example.org"},
    ],
)
def test_a_header_that_replaces_the_outboxs_own_or_breaks_a_line_is_refused_when_recorded(member_user, headers):
    with pytest.raises(ValueError, match="header"):
        services.mail_send(
            template="password_reset",
            recipients=[Address.for_user(member_user)],
            context={"user": member_user, **RESET_CONTEXT},
            headers=headers,
        )
    assert not Message.objects.exists()


def _mails(users, *, prefix: str = "batch") -> list[Mail]:
    return [
        Mail(
            template="password_reset",
            recipient=Address.for_user(user),
            context={"user": user, "reset_url": f"http://x/reset/{user.pk}"},
            key=f"{prefix}:{user.pk}",
            headers=_unsubscribe(Address.for_user(user)),
        )
        for user in users
    ]


def test_each_mail_of_a_batch_is_one_message_with_its_own_content_sent_after_commit(
    django_capture_on_commit_callbacks, mailoutbox
):
    users = UserFactory.create_batch(3)
    with django_capture_on_commit_callbacks(execute=True):
        messages = services.mail_send_each(mails=_mails(users))

    assert len(messages) == 3
    assert sorted(m.key for m in messages) == sorted(f"batch:{u.pk}" for u in users)
    assert len(mailoutbox) == 3
    for user in users:
        [email] = [e for e in mailoutbox if user.email in e.to[0]]
        assert f"http://x/reset/{user.pk}" in email.body
        assert email.message()["List-Unsubscribe"] == f"<http://testserver/unsubscribe/{user.email}/>"


def test_a_batch_leaves_out_used_keys_repeated_keys_and_inactive_people(mailoutbox):
    used, fresh, gone = UserFactory.create_batch(3)
    gone.is_active = False
    gone.save()
    services.mail_send_each(mails=_mails([used]))

    with transaction.atomic():
        messages = services.mail_send_each(mails=_mails([used, fresh, fresh, gone]))

    assert [m.key for m in messages] == [f"batch:{fresh.pk}"]
    assert Delivery.objects.filter(recipient=fresh).count() == 1
    assert not Delivery.objects.filter(recipient=gone).exists()
    assert services.mail_send_each(mails=[]) == []


def test_a_batch_costs_the_same_queries_for_two_people_as_for_twenty(django_assert_max_num_queries):
    few, many = UserFactory.create_batch(2), UserFactory.create_batch(20)
    # A savepoint and its release, the used keys, the messages, the deliveries.
    with django_assert_max_num_queries(5):
        services.mail_send_each(mails=_mails(few, prefix="few"))
    with django_assert_max_num_queries(5):
        services.mail_send_each(mails=_mails(many, prefix="many"))
    assert Delivery.objects.count() == 22
