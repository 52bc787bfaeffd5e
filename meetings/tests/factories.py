"""Meetings as tests need them. A factory meeting has no segments: services create those
(`meeting_schedule`), so tests of the agenda should schedule through the service."""

from datetime import timedelta

import factory
from django.utils import timezone

from alliances.tests.factories import AllianceFactory
from meetings.models import AgendaItem, Apology, Meeting, Reflection


class MeetingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Meeting

    alliance = factory.SubFactory(AllianceFactory)
    starts_at = factory.LazyFunction(lambda: (timezone.now() + timedelta(days=7)).replace(microsecond=0))
    duration_minutes = 90
    time_zone = factory.LazyAttribute(lambda meeting: meeting.alliance.time_zone)


class AgendaItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AgendaItem

    meeting = factory.SubFactory(MeetingFactory)
    title = factory.Sequence(lambda n: f"Agenda item {n}")
    kind = AgendaItem.Kind.DISCUSSION
    minutes = 15
    position = factory.Sequence(lambda n: n + 1)


class ReflectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Reflection

    meeting = factory.SubFactory(MeetingFactory)
    kind = Reflection.Kind.QUOTE
    text = "Alone we can do so little; together we can do so much."
    source = "Helen Keller"


class ApologyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Apology

    meeting = factory.SubFactory(MeetingFactory)
