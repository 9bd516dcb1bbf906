"""The home page's most active topics: recent live stories per topic, counted
once per publication or withdrawal by each process."""

import time
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from entities.models import Entity
from stories import listings, services
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


def active_topics_on_home(client):
    html = client.get("/").content.decode()
    section = html[html.index("Most active topics") :]
    return section[: section.index("</ul>")]


def test_a_withdrawn_storys_topic_leaves_the_home_page_at_once(client, editor):
    japan, nato = EntityFactory(name="Japan"), EntityFactory(name="NATO")
    StoryFactory(entities=[japan], published=True)
    withdrawn = StoryFactory(entities=[nato], published=True)
    assert ">NATO</a>" in active_topics_on_home(client)  # counted, kept
    services.take_action(
        story=withdrawn, action="unpublish", by=editor, comment="Legal advice."
    )
    topics = active_topics_on_home(client)
    assert ">Japan</a>" in topics and "NATO" not in topics


def test_a_publication_adds_its_topic_to_the_home_page_at_once(client):
    StoryFactory(entities=[EntityFactory(name="Japan")], published=True)
    assert "Chile" not in active_topics_on_home(client)
    StoryFactory(entities=[EntityFactory(name="Chile")], published=True)
    assert ">Chile</a>" in active_topics_on_home(client)


def test_home_pages_count_the_active_topics_once_per_change(client):
    StoryFactory(entities=[EntityFactory(name="Japan")], published=True)
    client.get("/")
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/").status_code == 200
    assert not any("GROUP BY" in q["sql"] for q in queries.captured_queries)


def test_the_count_moves_on_with_its_window_without_a_publication(client, monkeypatch):
    story = StoryFactory(entities=[EntityFactory(name="Japan")], published=True)
    StoryFactory(entities=[EntityFactory(name="Chile")], published=True)
    assert ">Japan</a>" in active_topics_on_home(client)
    long_ago = timezone.now() - timedelta(days=31)
    LiveTopic.objects.filter(story=story).update(last_published_at=long_ago)
    clock = time.monotonic() + listings.ACTIVE_TOPICS_RECOUNT_SECONDS + 1
    monkeypatch.setattr(listings.time, "monotonic", lambda: clock)
    topics = active_topics_on_home(client)
    assert ">Chile</a>" in topics and "Japan" not in topics


def test_a_topic_renamed_by_an_editor_shows_its_new_name_at_once(client, editor):
    japan = EntityFactory(name="Japan")
    StoryFactory(entities=[japan], published=True)
    assert ">Japan</a>" in active_topics_on_home(client)  # counted, kept
    japan.name, japan.slug = "Nippon", "nippon"
    services.save_reference(obj=japan, by=editor)
    topics = active_topics_on_home(client)
    assert ">Nippon</a>" in topics and 'href="/topics/nippon/"' in topics


def test_a_topic_renamed_in_the_admin_shows_its_new_name_at_once(client, editor):
    japan = EntityFactory(name="Japan")
    StoryFactory(entities=[japan], published=True)
    assert ">Japan</a>" in active_topics_on_home(client)
    client.force_login(editor)
    change = reverse("admin:entities_entity_change", args=[japan.pk])
    form = client.get(change).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update(name="Nippon")
    response = client.post(change, data)
    assert response.status_code == 302, response.context["adminform"].errors
    assert ">Nippon</a>" in active_topics_on_home(client)


def test_the_home_page_reads_no_topic_until_something_changes(
    client, django_assert_num_queries
):
    StoryFactory(entities=[EntityFactory(name="Japan")], published=True)
    client.get("/")
    with django_assert_num_queries(1):  # the page's stories and the version
        assert ">Japan</a>" in active_topics_on_home(client)
