import factory
from django.contrib.auth import get_user_model

from stories import services
from stories.models import (
    FAQ,
    Outlet,
    Section,
    SourceLink,
    SourceSummary,
    Story,
    StoryEntity,
)
from tests.entities.factories import EntityFactory


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")


class OutletFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Outlet

    name = factory.Sequence(lambda n: f"Daily Example {n}")


class FAQFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FAQ

    question = factory.Sequence(lambda n: f"Why does question {n} matter?")
    answer = "<p>Because it does.</p>"


class StoryFactory(factory.django.DjangoModelFactory):
    """A complete draft; published=True also freezes and publishes it."""

    class Meta:
        model = Story
        skip_postgeneration_save = True

    headline = factory.Sequence(lambda n: f"Story number {n} explained")
    summary = "Something happened, and this is what it means."
    papers_overview = "<p>The papers disagreed.</p>"
    background = "<p>It started long ago.</p>"

    @factory.post_generation
    def sections(story, create, count, **kwargs):
        if create:
            for position in range(1 if count is None else count):
                Section.objects.create(
                    story=story,
                    position=position,
                    heading=f"Angle {position + 1}",
                    body=f"<p>Analysis {position + 1}.</p>",
                )

    @factory.post_generation
    def sources(story, create, count, **kwargs):
        if create and count:
            for position in range(count):
                SourceSummary.objects.create(
                    story=story,
                    position=position,
                    outlet=OutletFactory(),
                    summary=f"Outlet {position} said something.",
                )

    @factory.post_generation
    def entities(story, create, extracted, **kwargs):
        if create and extracted:
            for position, entity in enumerate(extracted):
                StoryEntity.objects.create(
                    story=story, entity=entity, position=position
                )

    @factory.post_generation
    def faqs(story, create, extracted, **kwargs):
        if create and extracted:
            story.faqs.add(*extracted)

    @factory.post_generation
    def published(story, create, extracted, **kwargs):
        if create and extracted:
            editor = UserFactory(username="factory-editor", is_superuser=True)
            services.publish_story(story=story, by=editor)
        if create:
            story.refresh_from_db()


class SourceSummaryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SourceSummary

    story = factory.SubFactory(StoryFactory)
    outlet = factory.SubFactory(OutletFactory)
    summary = "It said something."
    url = factory.Sequence(lambda n: f"https://news.example/article-{n}")


class SourceLinkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SourceLink

    url = factory.Sequence(lambda n: f"https://news.example/article-{n}")


__all__ = [
    "EntityFactory",
    "FAQFactory",
    "OutletFactory",
    "SourceLinkFactory",
    "SourceSummaryFactory",
    "StoryFactory",
    "UserFactory",
]
