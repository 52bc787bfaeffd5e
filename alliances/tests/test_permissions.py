"""Who gets what, for every URL under /alliances/<slug>/.

The cases are built from `alliance_patterns`, so a URL added there is tried by every kind of reader
here; the classification test below fails until the new URL is said to be a member page or a
steward's page.

About GET on a POST-only URL: Django's `@require_POST` answers 405 before the view looks at the
reader, so an outsider, a former member and a non-steward get 405 there instead of 404 or 403. That
answer is the same for an alliance that does not exist, so it reveals nothing; the tests hold it to
exactly that.
"""

from collections.abc import Callable

import pytest
from django.urls import reverse
from django.urls.resolvers import URLPattern

from alliances import services
from alliances.models import Alliance, Member
from alliances.tests.factories import AllianceFactory, InvitationFactory, MemberFactory, NormFactory
from alliances.urls import alliance_patterns
from outbox.models import Delivery
from outbox.tests.factories import DeliveryFactory

pytestmark = pytest.mark.django_db

MEMBER_PAGES = {
    "alliance_detail",
    "charter_detail",
    "charter_history",
    "member_list",
    "member_edit",
    "member_leave",
    "former_member_list",
}
STEWARD_ONLY = {
    "charter_purpose_edit",
    "charter_logistics_edit",
    "norm_create",
    "norm_edit",
    "norm_move",
    "norm_retire",
    "invitation_create",
    "invitation_cancel",
    "invitation_resend",
    "member_steward",
    "member_deactivate",
    "delivery_list",
    "delivery_retry",
}
POST_ONLY = {
    "norm_move",
    "norm_retire",
    "invitation_create",
    "invitation_cancel",
    "invitation_resend",
    "member_steward",
    "member_deactivate",
    "delivery_retry",
}
NO_SUCH_SLUG = "no-such-alliance"

PATTERNS: dict[str, URLPattern] = {pattern.name: pattern for pattern in alliance_patterns}


def _cases(names: set[str] | None = None) -> list:
    """A GET and a POST for each URL (of `names`, or all), named like `norm_move-get`."""
    return [
        pytest.param(name, method, id=f"{name}-{method}")
        for name in PATTERNS
        if names is None or name in names
        for method in ("get", "post")
    ]


@pytest.fixture
def targets(alliance, steward) -> dict[str, int]:
    """One object of each kind a URL can point at, keyed by the entity its URL name starts with."""
    delivery = DeliveryFactory(message__scope=alliance.mail_scope, status=Delivery.Status.FAILED)
    return {
        "norm": NormFactory(alliance=alliance).pk,
        "member": MemberFactory(alliance=alliance, user__display_name="Tom Target").pk,
        "invitation": InvitationFactory(alliance=alliance, invited_by=steward).pk,
        "delivery": delivery.pk,
    }


@pytest.fixture
def url_for(targets) -> Callable[[str, str], str]:
    def build(name: str, slug: str) -> str:
        # The slug comes from the enclosing `<slug:slug>/` include; the pattern's own converters follow.
        kwargs = {"slug": slug}
        for param in PATTERNS[name].pattern.converters:
            if param == "pk":
                entity = name.split("_")[0]
                assert entity in targets, f"No test object for the pk of {name!r}: add one to `targets`."
                kwargs["pk"] = targets[entity]
            else:
                pytest.fail(f"No test value for URL parameter {param!r} of {name!r}.")
        return reverse(f"alliances:{name}", kwargs=kwargs)

    return build


def _request(client, method: str, url: str):
    return getattr(client, method)(url)


def _refused(name: str, method: str, status: int) -> int:
    """What someone without the right gets: `status`, except 405 for GET on a POST-only URL."""
    return 405 if method == "get" and name in POST_ONLY else status


def test_every_alliance_url_is_classified_as_a_member_page_or_a_stewards_page():
    names = set(PATTERNS)

    assert names == MEMBER_PAGES | STEWARD_ONLY, "Add the new URL to MEMBER_PAGES or STEWARD_ONLY."
    assert not MEMBER_PAGES & STEWARD_ONLY
    assert names >= POST_ONLY


@pytest.mark.parametrize(("name", "method"), _cases())
def test_an_outsider_gets_not_found_as_for_an_alliance_that_does_not_exist(
    client, alliance, outsider, url_for, name, method
):
    # A steward of another alliance is still an outsider here.
    MemberFactory(alliance=AllianceFactory(), user=outsider, is_steward=True)
    client.force_login(outsider)

    response = _request(client, method, url_for(name, alliance.slug))
    missing = _request(client, method, url_for(name, NO_SUCH_SLUG))

    assert response.status_code == _refused(name, method, 404)
    assert missing.status_code == response.status_code


@pytest.mark.parametrize(("name", "method"), _cases())
def test_a_former_member_gets_not_found(client, alliance, steward, member, url_for, name, method):
    services.member_deactivate(member=Member.objects.get(alliance=alliance, user=member), by=steward)
    client.force_login(member)

    response = _request(client, method, url_for(name, alliance.slug))

    assert response.status_code == _refused(name, method, 404)


@pytest.mark.parametrize(("name", "method"), _cases())
def test_a_member_who_left_gets_not_found(client, alliance, steward, member, url_for, name, method):
    services.member_leave(member=Member.objects.get(alliance=alliance, user=member))
    client.force_login(member)

    response = _request(client, method, url_for(name, alliance.slug))

    assert response.status_code == _refused(name, method, 404)


@pytest.mark.parametrize(("name", "method"), _cases())
def test_an_anonymous_reader_is_sent_to_sign_in(client, alliance, url_for, name, method):
    url = url_for(name, alliance.slug)

    response = _request(client, method, url)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('accounts:login')}?next={url}"


@pytest.mark.parametrize(("name", "method"), _cases(STEWARD_ONLY))
def test_a_member_who_is_not_a_steward_is_forbidden_stewards_pages(
    client, alliance, steward, member, url_for, name, method
):
    client.force_login(member)

    response = _request(client, method, url_for(name, alliance.slug))

    assert response.status_code == _refused(name, method, 403)


@pytest.mark.parametrize(("name", "method"), _cases(MEMBER_PAGES))
def test_a_member_who_is_not_a_steward_may_use_member_pages(client, alliance, steward, member, url_for, name, method):
    client.force_login(member)

    response = _request(client, method, url_for(name, alliance.slug))

    if method == "get" and name in POST_ONLY:
        assert response.status_code == 405
    else:
        assert response.status_code in (200, 302)


@pytest.mark.parametrize(("name", "method"), _cases())
def test_a_steward_may_use_every_page(client, alliance, steward, member, url_for, name, method):
    client.force_login(steward)

    response = _request(client, method, url_for(name, alliance.slug))

    if method == "get" and name in POST_ONLY:
        assert response.status_code == 405
    elif method == "get":
        assert response.status_code == 200
    else:
        # An empty POST may be refused as bad input (400) or redirect, but never for lack of rights.
        assert response.status_code in (200, 302, 400)


def test_a_steward_of_another_alliance_cannot_act_on_this_ones_objects(client, alliance, steward, member, targets):
    other = AllianceFactory()
    MemberFactory(alliance=other, user=steward, is_steward=True)
    client.force_login(steward)

    for name in STEWARD_ONLY:
        if "pk" not in PATTERNS[name].pattern.converters:
            continue
        url = reverse(f"alliances:{name}", kwargs={"slug": other.slug, "pk": targets[name.split("_")[0]]})
        assert client.post(url).status_code == 404, name


def test_an_anonymous_reader_is_sent_to_sign_in_from_the_alliance_list_and_the_new_alliance_page(client, db):
    for url in (reverse("alliances:alliance_list"), reverse("alliances:alliance_create")):
        response = client.get(url)

        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))


def test_invitation_links_are_open_to_anonymous_readers(client, alliance):
    invitation = InvitationFactory(alliance=alliance)

    assert client.get(invitation.get_absolute_url()).status_code == 200


def test_a_reader_with_no_alliance_sees_no_alliance_in_their_list(client, alliance, outsider):
    client.force_login(outsider)

    response = client.get(reverse("alliances:alliance_list"))

    assert list(response.context["memberships"]) == []
    assert alliance.name not in response.content.decode()


def test_the_alliances_a_reader_is_listed_are_exactly_those_whose_pages_open(
    client, alliance, steward, member, outsider
):
    # The list page reads `visible_to`, the alliance pages go through get_membership(): a reader must
    # never see an alliance listed that then answers 404, nor open one that their list leaves out.
    other = AllianceFactory(name="Other Alliance", slug="other-alliance")
    MemberFactory(alliance=other, user=steward)
    left = AllianceFactory(name="Left Alliance", slug="left-alliance")
    MemberFactory(alliance=left, user=member, is_active=False, end_reason=Member.EndReason.LEFT)
    alliances = [alliance, other, left]

    opened = {}
    for reader in (steward, member, outsider):
        client.force_login(reader)
        listing = client.get(reverse("alliances:alliance_list")).content.decode()
        listed = {a.slug for a in alliances if f'href="{a.get_absolute_url()}"' in listing}
        opened[reader.display_name] = {a.slug for a in alliances if client.get(a.get_absolute_url()).status_code == 200}
        assert listed == opened[reader.display_name], reader.display_name
        assert {a.slug for a in Alliance.objects.visible_to(reader)} == listed

    assert opened == {
        "Stella Steward": {"barrio-readers", "other-alliance"},
        "Mia Member": {"barrio-readers"},
        "Otto Outsider": set(),
    }
