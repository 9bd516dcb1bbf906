"""The home page's most active topics: recent live stories per topic."""

from datetime import timedelta

import pytest
from django.utils import timezone

from entities.models import Entity
from stories import services
from stories.models import LiveTopic, Story
from tests.entities.factories import EntityFactory
from tests.stories.factories import StoryFactory

pytestmark = pytest.mark.django_db


def most_active(days=30):
    since = timezone.now() - timedelta(days=days)
    return [(e.name, e.story_count) for e in Entity.objects.most_active(since=since)]


def test_topics_rank_by_recent_live_stories_then_name(editor):
    japan, china, nato = (EntityFactory(name=n) for n in ("Japan", "China", "NATO"))
    StoryFactory(entities=[japan, china], published=True)
    tagged = StoryFactory(entities=[japan], published=True)
    tagged.tags.add("defence")  # a tag's live-topic row is no topic
    services.publish_story(story=tagged, by=editor)
    StoryFactory(entities=[nato], published=True)
    withdrawn = StoryFactory(entities=[nato], published=True)
    services.take_action(
        story=withdrawn, action="unpublish", by=editor, comment="Legal advice."
    )
    StoryFactory(entities=[china])  # a draft
    assert most_active() == [("Japan", 2), ("China", 1), ("NATO", 1)]


def test_stories_last_published_before_the_window_do_not_count():
    old, new = EntityFactory(name="Old topic"), EntityFactory(name="New topic")
    story = StoryFactory(entities=[old], published=True)
    StoryFactory(entities=[new], published=True)
    long_ago = timezone.now() - timedelta(days=31)
    Story.objects.filter(pk=story.pk).update(last_published_at=long_ago)
    LiveTopic.objects.filter(story=story).update(last_published_at=long_ago)
    assert most_active() == [("New topic", 1)]
