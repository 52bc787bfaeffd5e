"""The alliance's emails: stewards retry the undelivered ones; someone who leaves gets none still waiting."""

import pytest
from django.urls import reverse

from alliances import services
from alliances.models import Member
from alliances.tests.factories import AllianceFactory
from outbox import services as outbox_services
from outbox.models import Delivery
from outbox.services import Address, mail_send
from outbox.tests.factories import DeliveryFactory

pytestmark = pytest.mark.django_db


def _alliance_mail(alliance, *users):
    """An email of the alliance to these people, recorded but not yet sent (as before its job runs)."""
    return mail_send(
        template="password_reset",
        recipients=[Address.for_user(user) for user in users],
        context={"user": users[0]},
        scope=alliance.mail_scope,
    )


def test_stewards_see_the_alliances_undelivered_emails_only(client, alliance, steward_user):
    ours = DeliveryFactory(message__scope=alliance.mail_scope, status=Delivery.Status.FAILED, to_email="a@example.org")
    DeliveryFactory(message__scope=alliance.mail_scope, status=Delivery.Status.SENT, to_email="b@example.org")
    DeliveryFactory(message__scope=AllianceFactory().mail_scope, status=Delivery.Status.FAILED, to_email="c@x.org")
    client.force_login(steward_user)

    page = client.get(reverse("alliances:delivery_list", args=[alliance.slug])).content.decode()

    assert ours.to_email in page
    assert "b@example.org" not in page
    assert "c@x.org" not in page


def test_a_steward_retries_an_undelivered_email_and_it_is_sent(
    client, alliance, steward_user, django_capture_on_commit_callbacks, mailoutbox
):
    delivery = DeliveryFactory(message__scope=alliance.mail_scope, status=Delivery.Status.FAILED, attempts=8)
    client.force_login(steward_user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("alliances:delivery_retry", args=[alliance.slug, delivery.pk]), follow=True)

    assert f"The email to {delivery.to_email} will be sent again." in response.content.decode()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Delivery.Status.SENT, 1)
    assert [email.to for email in mailoutbox] == [[delivery.to_email]]


def test_a_steward_cannot_retry_another_alliances_email(client, alliance, steward_user, mailoutbox):
    theirs = DeliveryFactory(message__scope=AllianceFactory().mail_scope, status=Delivery.Status.FAILED, attempts=8)
    client.force_login(steward_user)

    response = client.post(reverse("alliances:delivery_retry", args=[alliance.slug, theirs.pk]))

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert (theirs.status, theirs.attempts) == (Delivery.Status.FAILED, 8)
    assert mailoutbox == []


@pytest.mark.parametrize(("how", "reason"), [("leaves", "left"), ("is removed", "removed")])
def test_someone_who_leaves_gets_none_of_the_alliances_emails_still_waiting(
    client, alliance, steward_user, member_user, mailoutbox, how, reason
):
    waiting = _alliance_mail(alliance, steward_user, member_user)
    elsewhere = _alliance_mail(AllianceFactory(), member_user)
    membership = Member.objects.get(alliance=alliance, user=member_user)

    if how == "leaves":
        client.force_login(member_user)
        client.post(reverse("alliances:member_leave", args=[alliance.slug]))
    else:
        services.member_deactivate(member=membership, by=steward_user)

    skipped = waiting.deliveries.get(recipient=member_user)
    assert (skipped.status, skipped.skip_reason) == (Delivery.Status.SKIPPED, reason)
    assert waiting.deliveries.get(recipient=steward_user).status == Delivery.Status.PENDING
    assert elsewhere.deliveries.get().status == Delivery.Status.PENDING
    assert outbox_services.deliveries_send(message_id=waiting.pk) == 1
    assert [email.to for email in mailoutbox] == [[f"Stella Steward <{steward_user.email}>"]]


def test_an_invitation_email_belongs_to_its_alliance_and_is_marked_secret(alliance, steward_user):
    services.invitation_create(alliance=alliance, email="new@example.org", invited_by=steward_user)

    delivery = Delivery.objects.get(to_email="new@example.org")
    assert delivery.message.scope == alliance.mail_scope
    assert delivery.message.secret is True
