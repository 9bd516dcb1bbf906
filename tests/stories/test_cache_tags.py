"""Targeted page-cache invalidation: for each event, which representative
pages go stale and which stay cached (through the real WSGI application
and a real Redis)."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from taggit.models import Tag

from newsroom import pagecache
from stories import services
from stories.models import Story
from tests.entities.factories import EntityFactory
from tests.newsroom.test_pagecache import get, redis_cache  # noqa: F401
from tests.stories.factories import (
    FAQFactory,
    OutletFactory,
    SourceSummaryFactory,
    StoryFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

OLD_MONTH = timezone.now().replace(day=1) - timedelta(days=40)


class World:
    """A story (subject) the events act on; a neighbour sharing its topic,
    tag, FAQ, outlet and author; an unrelated story sharing nothing, first
    published in an older month."""

    def __init__(self, editor, publish_subject):
        self.editor = editor
        self.japan, self.peru = EntityFactory(name="Japan"), EntityFactory(name="Peru")
        self.faq = FAQFactory(question="Why Japan?")
        self.faq.entities.add(self.japan)
        self.gazette, self.herald = (
            OutletFactory(name="Gazette"),
            OutletFactory(name="Herald"),
        )
        self.alice, self.bob = (
            UserFactory(username="alice"),
            UserFactory(username="bob"),
        )
        self.subject = self._story("Subject", self.japan, "Economy", self.gazette)
        self.subject.faqs.add(self.faq)
        self.subject.authors.add(self.alice)
        self.neighbour = self._story("Neighbour", self.japan, "Economy", self.gazette)
        self.neighbour.faqs.add(self.faq)
        self.neighbour.authors.add(self.alice)
        self.unrelated = self._story("Unrelated", self.peru, "Sport", self.herald)
        self.unrelated.authors.add(self.bob)
        for story in [self.neighbour, self.unrelated]:
            services.publish_story(story=story, by=editor)
        Story.objects.filter(pk=self.unrelated.pk).update(
            first_published_at=OLD_MONTH, last_published_at=OLD_MONTH
        )
        if publish_subject:
            services.publish_story(story=self.subject, by=editor)
        for story in [self.subject, self.neighbour, self.unrelated]:
            story.refresh_from_db()

    def _story(self, headline, topic, tag, outlet):
        story = StoryFactory(headline=f"{headline} explained", entities=[topic])
        story.tags.add(tag)
        SourceSummaryFactory(story=story, outlet=outlet)
        return story

    def pages(self):
        now = timezone.now()
        return {
            "story": f"/stories/{self.subject.slug}/",
            "neighbour": self.neighbour.get_absolute_url(),
            "unrelated": self.unrelated.get_absolute_url(),
            "home": "/",
            "topic": "/topics/japan/",
            "other topic": "/topics/peru/",
            "topic feed": "/feeds/topics/japan/rss/",
            "tag": "/tags/economy/",
            "other tag": "/tags/sport/",
            "author": "/authors/alice/",
            "other author": "/authors/bob/",
            "outlet": "/outlets/gazette/",
            "other outlet": "/outlets/herald/",
            "faq": self.faq.get_absolute_url(),
            "archive month": f"/archive/{now.year}/{now.month}/",
            "old archive month": f"/archive/{OLD_MONTH.year}/{OLD_MONTH.month}/",
            "feed": "/feeds/rss/",
            "sitemap": "/sitemap.xml",
            "story sitemap": "/sitemap-stories.xml",
            "search": "/search/?q=explained",
            "corrections": "/corrections/",
        }

    def warm(self):
        for url in self.pages().values():
            get(url)
        assert self.stale() == set(), "every page is cached before the event"

    def stale(self):
        return {
            name
            for name, url in self.pages().items()
            if get(url)[1].get("X-Cache") != "HIT"
        }


@pytest.fixture
def world(redis_cache, editor):  # noqa: F811
    return World(editor, publish_subject=True)


# What every change to the subject's live revision makes stale.
STORY_CHANGE = {
    "story",
    "neighbour",
    "home",
    "topic",
    "topic feed",
    "tag",
    "author",
    "outlet",
    "faq",
    "archive month",
    "feed",
    "sitemap",
    "story sitemap",
    "search",
}


def test_a_publication_makes_stale_only_the_pages_showing_the_story(
    redis_cache,  # noqa: F811
    editor,
    django_capture_on_commit_callbacks,
):
    world = World(editor, publish_subject=False)
    world.warm()
    with django_capture_on_commit_callbacks(execute=True):
        services.publish_story(story=world.subject, by=editor)
    assert world.stale() == STORY_CHANGE


def test_a_story_linking_another_topics_faq_makes_that_topic_stale(
    world, editor, django_capture_on_commit_callbacks
):
    peru_faq = FAQFactory(question="Why Peru?")
    peru_faq.entities.add(world.peru)
    linker = StoryFactory(
        headline="Linker explained", entities=[world.japan], faqs=[peru_faq]
    )
    world.warm()
    with django_capture_on_commit_callbacks(execute=True):
        services.publish_story(story=linker, by=editor)
    assert "other topic" in world.stale()
    assert "Why Peru?" in get("/topics/peru/")[2]


def test_a_republication_without_a_correction_leaves_corrections_cached(
    world, editor, django_capture_on_commit_callbacks
):
    world.warm()
    with django_capture_on_commit_callbacks(execute=True):
        services.publish_story(story=world.subject, by=editor)
    assert world.stale() == STORY_CHANGE


def test_a_republication_with_a_correction_also_makes_corrections_stale(
    world, editor, django_capture_on_commit_callbacks
):
    world.warm()
    with django_capture_on_commit_callbacks(execute=True):
        services.publish_story(
            story=world.subject,
            by=editor,
            correction_kind="correction",
            correction_text="A date was wrong.",
        )
    assert world.stale() == STORY_CHANGE | {"corrections"}


def test_a_withdrawal_makes_stale_the_pages_the_story_leaves(
    world, editor, django_capture_on_commit_callbacks
):
    world.warm()
    with django_capture_on_commit_callbacks(execute=True):
        services.unpublish_story(story=world.subject, by=editor, reason="Legal")
    assert world.stale() == STORY_CHANGE
    assert get(world.pages()["story"])[0].startswith("410")


def test_an_expiry_makes_stale_the_pages_the_story_leaves(
    world, django_capture_on_commit_callbacks
):
    world.warm()
    Story.objects.filter(pk=world.subject.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert services.sweep_schedules()["expired"] == [world.subject.pk]
    assert world.stale() == STORY_CHANGE


def test_a_scheduled_publication_by_the_beat_makes_the_same_pages_stale(
    redis_cache,  # noqa: F811
    editor,
    django_capture_on_commit_callbacks,
):
    world = World(editor, publish_subject=False)
    services.take_action(story=world.subject, action="approve", by=editor)
    services.take_action(
        story=world.subject,
        action="schedule",
        by=editor,
        scheduled_at=timezone.now() + timedelta(minutes=5),
    )
    world.warm()
    Story.objects.filter(pk=world.subject.pk).update(
        scheduled_at=timezone.now() - timedelta(seconds=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert services.sweep_schedules()["published"] == [world.subject.pk]
    assert world.stale() == STORY_CHANGE


def test_editing_a_topic_makes_stale_its_pages_and_the_stories_about_it(
    world, editor, django_capture_on_commit_callbacks
):
    world.warm()
    world.japan.biography = "<p>New.</p>"
    with django_capture_on_commit_callbacks(execute=True):
        services.save_reference(obj=world.japan, by=editor)
    # Home lists the most active topics; story pages draw related stories
    # from their topics.
    assert world.stale() == {
        "topic",
        "topic feed",
        "story",
        "neighbour",
        "home",
        "sitemap",
        "story sitemap",
    }


def test_editing_an_faq_makes_stale_its_page_and_its_topics_pages(
    world, editor, django_capture_on_commit_callbacks
):
    world.warm()
    world.faq.answer = "<p>Because.</p>"
    with django_capture_on_commit_callbacks(execute=True):
        services.save_reference(obj=world.faq, by=editor)
    assert world.stale() == {
        "faq",
        "topic",
        "topic feed",
        "story",
        "neighbour",
        "home",
        "sitemap",
        "story sitemap",
    }


def test_moving_an_faq_to_another_topic_makes_both_topics_stale(
    world, editor, django_capture_on_commit_callbacks
):
    world.warm()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        services.save_reference(obj=world.faq, by=editor)
        world.faq.entities.set([world.peru])  # as the admin saves links after
    assert {"topic", "other topic"} <= world.stale()


def test_editing_an_outlet_makes_stale_only_its_pages(
    world, editor, django_capture_on_commit_callbacks
):
    world.warm()
    world.gazette.name = "The Gazette"
    with django_capture_on_commit_callbacks(execute=True):
        services.save_reference(obj=world.gazette, by=editor)
    assert world.stale() == {"outlet", "sitemap", "story sitemap"}


def test_renaming_a_tag_makes_stale_its_page_and_the_stories_tagged_with_it(
    world, editor, django_capture_on_commit_callbacks
):
    world.warm()
    tag = Tag.objects.get(slug="economy")
    tag.name = "The economy"
    with django_capture_on_commit_callbacks(execute=True):
        services.save_reference(obj=tag, by=editor)
    assert world.stale() == {"tag", "story", "neighbour", "sitemap", "story sitemap"}


def test_a_tag_published_stories_use_keeps_its_address_in_the_admin(
    world, editor, client
):
    client.force_login(editor)
    economy = Tag.objects.get(slug="economy")
    client.post(
        f"/admin/taggit/tag/{economy.pk}/change/",
        {"name": "The economy", "slug": "the-economy"},
    )
    economy.refresh_from_db()
    assert (economy.name, economy.slug) == ("The economy", "economy")
    assert get("/tags/economy/")[0].startswith("200")
    unused = Tag.objects.create(name="Unused", slug="unused")
    client.post(
        f"/admin/taggit/tag/{unused.pk}/change/",
        {"name": "Unused", "slug": "still-unused"},
    )
    unused.refresh_from_db()
    assert unused.slug == "still-unused"


def test_deleting_a_tag_makes_stale_its_page_and_the_stories_tagged_with_it(
    world, editor, django_capture_on_commit_callbacks
):
    world.warm()
    tag = Tag.objects.get(slug="sport")
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        services.delete_references(objs=[tag], by=editor)
        tag.delete()
    assert world.stale() == {"other tag", "unrelated", "sitemap", "story sitemap"}


def test_deleting_a_topic_in_the_admin_makes_its_pages_stale(
    world, editor, client, django_capture_on_commit_callbacks
):
    lonely = EntityFactory(name="Lonely")
    world.warm()
    client.force_login(editor)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/admin/entities/entity/{lonely.pk}/delete/", {"post": "yes"})
    assert world.stale() == {"sitemap", "story sitemap"}


def test_a_page_that_names_no_tags_is_made_stale_by_any_event(
    world, editor, django_capture_on_commit_callbacks
):
    get("/robots.txt")
    assert get("/robots.txt")[1]["X-Cache"] == "HIT"
    with django_capture_on_commit_callbacks(execute=True):
        services.save_reference(obj=world.herald, by=editor)
    assert "X-Cache" not in get("/robots.txt")[1]


def test_a_bulk_import_makes_every_page_stale(world):
    world.warm()
    pagecache.invalidate_everything()
    assert world.stale() == set(world.pages())


def test_content_api_answers_go_stale_with_the_pages_showing_the_same(
    world, editor, django_capture_on_commit_callbacks
):
    api = {
        "story list": "/api/v1/stories/",
        "story": f"/api/v1/stories/{world.subject.public_slug}/",
        "neighbour": f"/api/v1/stories/{world.neighbour.public_slug}/",
        "unrelated": f"/api/v1/stories/{world.unrelated.public_slug}/",
        "faq": f"/api/v1/faqs/{world.faq.slug}/",
        "topic": "/api/v1/topics/japan/",
        "other topic": "/api/v1/topics/peru/",
        "topic list": "/api/v1/topics/",
    }

    def stale():
        return {name for name, url in api.items() if "X-Cache" not in get(url)[1]}

    for url in api.values():
        get(url)
    assert stale() == set()
    with django_capture_on_commit_callbacks(execute=True):
        services.publish_story(story=world.subject, by=editor)
    # Like the pages: the question and topic pages list the story, and the
    # neighbour shares its question; the unrelated story and topic stay.
    assert stale() == {"story list", "story", "neighbour", "faq", "topic", "topic list"}
    world.faq.answer = "<p>Because of the budget.</p>"
    with django_capture_on_commit_callbacks(execute=True):
        services.save_reference(obj=world.faq, by=editor)
    # The stories showing the answer, the question's own answer; and the
    # topic's, whose page lists its questions (the API's topic shows none).
    assert stale() == {"story", "neighbour", "faq", "topic", "topic list"}
