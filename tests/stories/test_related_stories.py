"""Related stories come from what published stories are about now, newest
first, and the lookup reads a bounded number of topic rows."""

from datetime import timedelta
from importlib import import_module

import pytest
from django.apps import apps
from django.utils import timezone

from stories import services
from stories.models import LiveTopic, SourceSummary, Story
from stories.story_page import load_story_page
from tests.entities.factories import EntityFactory
from tests.stories.factories import OutletFactory, StoryFactory

pytestmark = pytest.mark.django_db


def related(story):
    """Related stories as the queryset finds them, checked against the
    story page's own read (one statement on PostgreSQL)."""
    story = Story.objects.for_story_page().get(pk=story.pk)
    found = [s.pk for s in Story.objects.related_to(story)]
    page = load_story_page(story.public_slug)
    assert [s.pk for s in page.related] == found
    return found


@pytest.fixture
def japan():
    return EntityFactory(name="Japan")


def test_newest_stories_sharing_a_topic_or_tag_come_first(japan, editor):
    subject = StoryFactory(entities=[japan], published=True)
    subject.tags.add("defence")
    services.publish_story(story=subject, by=editor)
    by_topic = StoryFactory(entities=[japan], published=True)
    by_tag = StoryFactory(published=True)
    by_tag.tags.add("defence")
    services.publish_story(story=by_tag, by=editor)
    StoryFactory(published=True)  # shares nothing
    assert related(subject) == [by_tag.pk, by_topic.pk]


def test_withdrawn_and_retagged_stories_drop_out(japan, editor):
    subject = StoryFactory(entities=[japan], published=True)
    withdrawn = StoryFactory(entities=[japan], published=True)
    moved_on = StoryFactory(entities=[japan], published=True)
    services.take_action(
        story=withdrawn, action="unpublish", by=editor, comment="Legal advice."
    )
    moved_on.storyentity_set.all().delete()
    services.publish_story(story=Story.objects.get(pk=moved_on.pk), by=editor)
    assert related(subject) == []
    assert not LiveTopic.objects.filter(story=withdrawn).exists()


def test_four_distinct_stories_even_when_the_newest_share_every_key(editor):
    topics = [EntityFactory(name=f"Topic {n}") for n in range(3)]
    subject = StoryFactory(entities=topics, published=True)
    others = [StoryFactory(entities=topics, published=True) for _ in range(6)]
    # Spread publication times so newest-first is unambiguous.
    now = timezone.now()
    for age, story in enumerate(reversed(others)):
        Story.objects.filter(pk=story.pk).update(
            last_published_at=now - timedelta(minutes=age)
        )
        LiveTopic.objects.filter(story=story).update(
            last_published_at=now - timedelta(minutes=age)
        )
    assert related(subject) == [s.pk for s in reversed(others)][:4]


def test_migration_indexes_stories_published_before_it(japan, editor):
    story = StoryFactory(entities=[japan], published=True)
    story.tags.add("defence")
    services.publish_story(story=story, by=editor)
    LiveTopic.objects.all().delete()
    migration = import_module("stories.migrations.0010_live_topics")
    migration.index_published_stories(apps, None)
    assert sorted(LiveTopic.objects.values_list("key", flat=True)) == sorted(
        [f"entity:{japan.pk}", "tag:defence"]
    )


def test_a_shared_outlet_makes_no_story_related(editor):
    outlet = OutletFactory()
    subject = StoryFactory()
    other = StoryFactory()
    for story in (subject, other):
        SourceSummary.objects.create(story=story, outlet=outlet, summary="It said.")
        services.publish_story(story=story, by=editor)
    assert LiveTopic.objects.filter(key=f"outlet:{outlet.pk}").count() == 2
    assert related(subject) == []
