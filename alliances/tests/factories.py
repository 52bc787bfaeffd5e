import factory

from accounts.tests.factories import UserFactory
from alliances.models import Alliance, Invitation, Member, Norm


class AllianceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Alliance

    name = factory.Sequence(lambda n: f"Alliance {n}")
    slug = factory.Sequence(lambda n: f"alliance-{n}")
    purpose = "Every child in the barrio reads by the end of third grade."


class MemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Member

    alliance = factory.SubFactory(AllianceFactory)
    user = factory.SubFactory(UserFactory)
    organisation = ""
    is_steward = False


class NormFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Norm

    alliance = factory.SubFactory(AllianceFactory)
    text = factory.Sequence(lambda n: f"Norm number {n}")
    position = factory.Sequence(lambda n: n + 1)


class InvitationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Invitation

    alliance = factory.SubFactory(AllianceFactory)
    email = factory.Sequence(lambda n: f"invitee{n}@example.org")
    invited_by = factory.SubFactory(UserFactory)
    expires_at = factory.LazyFunction(Invitation.default_expiry)
