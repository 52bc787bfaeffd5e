"""The outbox as site operators see it: who may read it, and that no single-use link can be used from it."""

import re

import pytest
from django.urls import reverse

from accounts import services as account_services
from accounts.tests.factories import UserFactory
from alliances import services as alliance_services
from outbox.models import Delivery
from outbox.services import Address, File, mail_send
from outbox.tests.factories import make_operator

pytestmark = pytest.mark.django_db

REDACTED = "[link removed]"


def _outbox_pages(delivery: Delivery) -> list[str]:
    return [
        reverse("outbox:delivery_list"),
        reverse("outbox:delivery_detail", args=[delivery.pk]),
        reverse("outbox:delivery_html", args=[delivery.pk]),
    ]


def _admin_pages(delivery: Delivery) -> list[str]:
    return [
        reverse("admin:outbox_delivery_changelist"),
        reverse("admin:outbox_delivery_change", args=[delivery.pk]),
        reverse("admin:outbox_message_change", args=[delivery.message_id]),
    ]


def _password_reset(user, django_capture_on_commit_callbacks) -> tuple[Delivery, str]:
    """Ask for a reset as the user would; return its delivery and the link the user was emailed."""
    with django_capture_on_commit_callbacks(execute=True):
        account_services.user_send_password_reset(user=user)
    delivery = Delivery.objects.get(message__template="password_reset", recipient=user)
    [link] = re.findall(r"http://testserver/accounts/password/reset/\S+/", delivery.body_text)
    return delivery, link


def _everything_an_operator_can_open(client, delivery: Delivery) -> str:
    pages = [client.get(url) for url in _outbox_pages(delivery) + _admin_pages(delivery)]
    assert [page.status_code for page in pages] == [200] * len(pages)
    return "\n".join(page.content.decode() for page in pages)


# --- Who may read the outbox -------------------------------------------------------------------------


def test_staff_without_the_permission_gets_not_found_on_every_outbox_page(client, member_user):
    delivery = mail_send(
        template="password_reset", recipients=[Address.for_user(member_user)], context={"user": member_user}
    )
    delivery = delivery.deliveries.get()
    client.force_login(UserFactory(is_staff=True))

    assert [client.get(url).status_code for url in _outbox_pages(delivery)] == [404, 404, 404]


def test_staff_without_the_permission_cannot_open_deliveries_in_the_admin(client, member_user, mailoutbox):
    message = mail_send(
        template="password_reset",
        recipients=[Address.for_user(member_user)],
        context={"user": member_user, "reset_url": "http://testserver/accounts/password/reset/Mg/secret-token/"},
    )
    delivery = message.deliveries.get()
    client.force_login(UserFactory(is_staff=True))

    responses = [client.get(url) for url in _admin_pages(delivery)]

    assert [response.status_code for response in responses] == [403, 403, 403]
    assert not any(b"secret-token" in response.content for response in responses)
    assert b"Email delivery" not in client.get(reverse("admin:index")).content


def test_the_outbox_link_in_the_menu_shows_only_to_those_who_may_read_it(client):
    client.force_login(UserFactory(is_staff=True))
    assert reverse("outbox:delivery_list") not in client.get(reverse("home"), follow=True).content.decode()

    client.force_login(make_operator())
    assert reverse("outbox:delivery_list") in client.get(reverse("home"), follow=True).content.decode()


def test_an_operator_with_the_permission_reads_the_outbox_and_it_is_never_cached(client, member_user):
    message = mail_send(
        template="password_reset", recipients=[Address.for_user(member_user)], context={"user": member_user}
    )
    delivery = message.deliveries.get()
    client.force_login(make_operator())

    responses = [client.get(url) for url in _outbox_pages(delivery)]

    assert [response.status_code for response in responses] == [200, 200, 200]
    assert delivery.to_email in responses[0].content.decode()
    assert all("no-store" in response["Cache-Control"] for response in responses)


def test_an_anonymous_visitor_is_sent_to_sign_in(client, member_user):
    response = client.get(reverse("outbox:delivery_list"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


# --- Single-use links are never shown ----------------------------------------------------------------


@pytest.mark.parametrize("reader", ["operator", "superuser"])
def test_a_password_reset_link_is_redacted_everywhere_an_operator_looks_but_works_for_its_recipient(
    client, django_capture_on_commit_callbacks, mailoutbox, reader
):
    target = UserFactory(is_superuser=True, is_staff=True, display_name="Root")
    delivery, link = _password_reset(target, django_capture_on_commit_callbacks)
    reader_account = make_operator() if reader == "operator" else UserFactory(is_staff=True, is_superuser=True)
    client.force_login(reader_account)

    seen = _everything_an_operator_can_open(client, delivery)

    token = link.rstrip("/").rsplit("/", 1)[-1]
    assert token not in seen
    assert REDACTED in seen
    # The recipient's email has the working link, and the stored body is what was sent.
    [email] = mailoutbox
    assert link in email.body
    assert link in email.alternatives[0].content
    client.logout()
    form = client.get(link, follow=True)
    assert form.status_code == 200
    assert 'name="new_password1"' in form.content.decode()


def test_an_invitation_link_is_redacted_for_operators_but_reaches_the_invited_person(
    client, alliance, steward_user, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True):
        invitation = alliance_services.invitation_create(
            alliance=alliance, email="new@example.org", invited_by=steward_user
        )
    delivery = Delivery.objects.get(to_email="new@example.org")
    client.force_login(make_operator())

    seen = _everything_an_operator_can_open(client, delivery)

    assert invitation.token not in seen
    assert REDACTED in seen
    [email] = mailoutbox
    link = f"http://testserver{invitation.get_absolute_url()}"
    assert link in email.body
    client.logout()
    assert client.get(link).status_code == 200


def test_a_sign_up_confirmation_link_is_redacted(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        account_services.user_sign_up(
            email="new@example.org", display_name="New", password="a long passphrase", language="en", time_zone="UTC"
        )
    delivery = Delivery.objects.get(message__template="signup_confirm")
    token = re.search(r"/accounts/confirm/([^/\s]+)/", delivery.body_text).group(1)
    client.force_login(make_operator())

    seen = _everything_an_operator_can_open(client, delivery)

    assert token not in seen
    assert REDACTED in seen


def test_an_email_without_a_single_use_link_is_shown_in_full(client, member_user):
    message = mail_send(
        template="password_reset",
        recipients=[Address.for_user(member_user)],
        context={"user": member_user, "reset_url": "http://testserver/alliances/barrio-readers/"},
    )
    delivery = message.deliveries.get()
    client.force_login(make_operator())

    seen = _everything_an_operator_can_open(client, delivery)

    assert "http://testserver/alliances/barrio-readers/" in seen
    assert REDACTED not in seen


def test_the_admin_cannot_redirect_someones_email_to_another_address(client, member_user):
    """A change in the admin could send a reset link to an operator's own address: deliveries are read-only."""
    message = mail_send(
        template="password_reset", recipients=[Address.for_user(member_user)], context={"user": member_user}
    )
    delivery = message.deliveries.get()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    response = client.post(
        reverse("admin:outbox_delivery_change", args=[delivery.pk]),
        {"to_email": "operator@example.org", "status": "pending"},
    )

    assert response.status_code == 403
    delivery.refresh_from_db()
    assert delivery.to_email == member_user.email


def test_a_delivery_page_lists_the_shared_files_and_its_own_not_another_recipients(client, member_user, steward_user):
    message = mail_send(
        template="password_reset",
        recipients=[Address.for_user(member_user), Address.for_user(steward_user)],
        context={"user": member_user, "reset_url": "http://x/"},
        attachments=[File(filename="shared.txt", content=b"x", mimetype="text/plain")],
        attachments_for=lambda r: [
            File(filename=f"for-{r.name.split()[0]}.ics", content=b"x", mimetype="application/ics")
        ],
    )
    client.force_login(make_operator())

    page = client.get(reverse("outbox:delivery_detail", args=[message.deliveries.get(to_email=member_user.email).pk]))

    assert "shared.txt" in page.content.decode()
    assert "for-Mia.ics" in page.content.decode()
    assert "for-Stella.ics" not in page.content.decode()
