"""manage.py generate_archive: a consistent archive of published stories,
written in bulk, that every reader page can serve."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from taggit.models import Tag

from entities.models import Entity
from stories.models import Correction, LiveTopic, Story, StoryRevision
from tests.stories.factories import StoryFactory

pytestmark = pytest.mark.django_db

SMALL = {"stories": 50, "topics": 30, "tags": 12, "faqs": 6, "authors": 3}


def generate(**options):
    call_command("generate_archive", no_progress=True, stdout=StringIO(), **options)


def test_generated_stories_are_published_with_consistent_live_data(settings):
    settings.DEBUG = True
    generate(**SMALL, revisions=3)
    published = Story.objects.published()
    assert published.count() == Story.objects.count() == 50
    assert StoryRevision.objects.count() == 150
    for story in published.select_related("live_revision"):
        revision = story.live_revision
        content = revision.content
        assert story.public_slug == story.slug == content["slug"]
        assert revision.search_headline == content["headline"] == story.headline
        assert len(content["sections"]) == story.sections.count() >= 3
        assert sorted(t["slug"] for t in content["tags"]) == sorted(
            revision.tags.values_list("slug", flat=True)
        )
        assert sorted(e["id"] for e in content["entities"]) == sorted(
            revision.entities.values_list("pk", flat=True)
        )
        assert sorted(a["id"] for a in content["authors"]) == sorted(
            revision.authors.values_list("pk", flat=True)
        )
        expected = set(LiveTopic.keys_of(content) + LiveTopic.outlet_keys_of(content))
        live_keys = LiveTopic.objects.filter(story=story).values_list("key", flat=True)
        assert set(live_keys) == expected
    assert Entity.objects.count() == 30 and Tag.objects.count() == 12
    assert (
        not Correction.objects.exclude(story__live_revision=None)
        .filter(revision__live_for_story=None)
        .exists()
    )


def test_every_reader_page_answers_on_a_generated_archive(client, settings):
    settings.DEBUG = True
    generate(**SMALL)
    story = Story.objects.published().select_related("live_revision").first()
    content = story.live_revision.content
    entity, tag = content["entities"][0], content["tags"][0]
    outlet = content["source_summaries"][0]["outlet"]
    author = content["authors"][0]
    urls = [
        "/",
        "/?page=2",
        story.get_absolute_url(),
        f"/topics/{entity['slug']}/",
        f"/tags/{tag['slug']}/",
        f"/outlets/{outlet['slug']}/",
        f"/authors/{author['username']}/",
        f"/archive/{story.first_published_at.year}/",
        "/corrections/",
        "/feeds/rss/",
        f"/feeds/topics/{entity['slug']}/atom/",
        "/sitemap.xml",
    ]
    for url in urls:
        assert client.get(url).status_code == 200, url
    first_word = story.headline.split(":")[1].split()[3]
    html = client.get("/search/", {"q": first_word}).content.decode()
    assert "result" in html and "Nothing matched" not in html


def test_search_vectors_are_written_for_live_revisions_only(settings):
    if connection.vendor != "postgresql":
        pytest.skip("search vectors are PostgreSQL's")
    settings.DEBUG = True
    generate(**SMALL, revisions=2)
    with_vector = StoryRevision.objects.filter(search_vector__isnull=False)
    assert set(with_vector.values_list("pk", flat=True)) == set(
        Story.objects.values_list("live_revision_id", flat=True)
    )


def test_it_refuses_to_run_with_debug_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        generate(**SMALL)
    assert not Story.objects.exists()


def test_it_runs_with_debug_off_when_forced(settings):
    settings.DEBUG = False
    generate(**SMALL, force=True)
    assert Story.objects.published().count() == 50


def test_it_refuses_a_database_that_has_stories_unless_told(settings):
    settings.DEBUG = True
    StoryFactory()
    with pytest.raises(CommandError, match="already has stories"):
        generate(**SMALL)
    assert Story.objects.count() == 1
    generate(**SMALL, add=True)
    assert Story.objects.published().count() == 50


def test_adding_to_an_archive_makes_every_cached_page_stale(
    settings, monkeypatch, django_capture_on_commit_callbacks
):
    from newsroom import pagecache

    settings.DEBUG = True
    calls = []
    monkeypatch.setattr(pagecache, "invalidate", calls.append)
    with django_capture_on_commit_callbacks(execute=True):
        generate(**SMALL)
    assert calls == [[pagecache.EVERYTHING]]


def shape(value):
    """A snapshot's keys, and its lists' first items' keys, recursively."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return None


def test_generated_revisions_have_the_shape_publication_writes(settings, editor):
    """The generator writes live revisions itself, in bulk: they must stay
    what services.snapshot_story would have frozen, or pages and the API
    read keys a real archive lacks (or miss ones it has)."""
    from stories import services
    from tests.entities.factories import EntityFactory
    from tests.stories.factories import FAQFactory, SourceSummaryFactory, UserFactory

    settings.DEBUG = True
    generate(**SMALL)
    generated = Story.objects.published().first().live_revision.content
    story = StoryFactory(entities=[EntityFactory()], faqs=[FAQFactory()])
    story.tags.add("Defence")
    story.authors.add(UserFactory())
    SourceSummaryFactory(story=story)
    frozen = services.snapshot_story(story)
    assert shape(generated) == shape(frozen)
