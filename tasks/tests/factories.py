"""To-dos as tests need them; the alliance, its members and meetings come from those apps' factories."""

from datetime import timedelta

import factory
from django.utils import timezone

from alliances.tests.factories import AllianceFactory, MemberFactory
from tasks.models import Todo, TodoUpdate


class TodoFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Todo

    alliance = factory.SubFactory(AllianceFactory)
    owner = factory.SubFactory(MemberFactory, alliance=factory.SelfAttribute("..alliance"))
    text = factory.Sequence(lambda n: f"Ask the library about room {n}")
    due_on = factory.LazyFunction(lambda: timezone.now().date() + timedelta(days=7))


class TodoUpdateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TodoUpdate

    todo = factory.SubFactory(TodoFactory)
    author = factory.SelfAttribute("todo.owner")
    text = "Called them; waiting for an answer."
