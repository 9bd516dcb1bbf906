"""Outlet pages: the published explainers that cite an outlet, what each
said of its coverage, and the outlet's feeds, read from the live-topic
index."""

from importlib import import_module

import pytest
from django.apps import apps

from stories import services
from stories.models import LiveTopic, SourceSummary, Story, StoryRevision
from tests.stories.factories import OutletFactory, StoryFactory

pytestmark = pytest.mark.django_db


def cite(story, outlet, summary="It reported the news.", url=""):
    return SourceSummary.objects.create(
        story=story, outlet=outlet, summary=summary, url=url
    )


def outlet_keys():
    return sorted(
        LiveTopic.objects.filter(key__startswith="outlet:").values_list(
            "story_id", "key"
        )
    )


def forget_outlet_ids(story):
    """Make story's live revision look like one written before snapshots
    carried outlet ids."""
    revision = StoryRevision.objects.get(live_for_story=story)
    content = revision.content
    for source in content["source_summaries"]:
        del source["outlet"]["id"]
    # Revisions are immutable through save(); this stands in for history.
    StoryRevision.objects.filter(pk=revision.pk).update(content=content)


@pytest.fixture
def outlet():
    return OutletFactory(
        name="Example Gazette",
        homepage="https://gazette.example.com/",
        country="gb",
        language="en",
    )


def test_publishing_indexes_the_outlets_a_story_cites(outlet, editor):
    story = StoryFactory()
    cite(story, outlet)
    cite(story, outlet, summary="It said more.")
    services.publish_story(story=story, by=editor)
    assert outlet_keys() == [(story.pk, f"outlet:{outlet.pk}")]
    assert LiveTopic.keys_of(Story.objects.get(pk=story.pk).live_revision.content) == []


def test_withdrawing_drops_the_outlet_rows(outlet, editor):
    story = StoryFactory()
    cite(story, outlet)
    services.publish_story(story=story, by=editor)
    services.unpublish_story(story=story, by=editor, reason="Legal")
    assert outlet_keys() == []


def test_a_new_snapshot_carries_the_outlet_id(outlet, editor):
    story = StoryFactory()
    cite(story, outlet)
    revision = services.publish_story(story=story, by=editor)
    assert revision.content["source_summaries"][0]["outlet"]["id"] == outlet.pk


def test_rebuild_finds_outlets_of_revisions_without_ids_by_slug(outlet, editor):
    story = StoryFactory()
    cite(story, outlet)
    services.publish_story(story=story, by=editor)
    forget_outlet_ids(story)
    services.rebuild_live_topics()
    assert outlet_keys() == [(story.pk, f"outlet:{outlet.pk}")]


def test_migration_indexes_outlets_of_stories_published_before_it(outlet, editor):
    old, new = StoryFactory(), StoryFactory()
    for story in (old, new):
        cite(story, outlet)
        services.publish_story(story=story, by=editor)
    draft = StoryFactory()
    cite(draft, outlet)
    forget_outlet_ids(old)
    LiveTopic.objects.all().delete()
    migration = import_module("stories.migrations.0013_outlet_live_topics")
    migration.index_cited_outlets(apps, None)
    assert outlet_keys() == sorted(
        [(old.pk, f"outlet:{outlet.pk}"), (new.pk, f"outlet:{outlet.pk}")]
    )
    migration.forget_cited_outlets(apps, None)
    assert outlet_keys() == []
