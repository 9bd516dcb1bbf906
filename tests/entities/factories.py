import factory

from entities.models import Entity


class EntityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Entity

    name = factory.Sequence(lambda n: f"Person {n}")
    kind = Entity.Kind.PERSON
    short_description = "Someone in the news."
    biography = "<p>A longer account of their life.</p>"
