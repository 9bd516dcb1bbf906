"""Publish-time baking: the pages a publication changes are rendered into
the page cache (and, with BAKED_PAGES_ROOT, into files) before readers ask."""

import stat

import pytest
import redis

from newsroom import baked_pages, pagecache
from stories import services, tasks
from tests.entities.factories import EntityFactory
from tests.newsroom.test_pagecache import get, redis_cache  # noqa: F401
from tests.stories.factories import FAQFactory, StoryFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def baked_root(settings, tmp_path):
    settings.BAKED_PAGES_ROOT = str(tmp_path / "baked")
    return tmp_path / "baked"


@pytest.fixture
def enqueued(monkeypatch):
    calls = []
    monkeypatch.setattr(
        tasks.bake_story_pages_task, "delay", lambda *args: calls.append(args)
    )
    return calls


@pytest.fixture
def story(editor, settings):
    # The host the test requests are made for.
    settings.SITE_URL = "http://testserver"
    japan = EntityFactory(name="Japan")
    story = StoryFactory(
        headline="Baked headline",
        entities=[japan],
        faqs=[FAQFactory(question="Why bake?")],
    )
    story.tags.add("Economy")
    return story


def publish(story, editor, capture):
    with capture(execute=True):
        services.publish_story(story=story, by=editor)
    story.refresh_from_db()


def run_enqueued(enqueued):
    for args in enqueued:
        tasks.bake_story_pages_task(*args)
    enqueued.clear()


def test_the_bake_task_is_enqueued_only_when_the_publication_commits(
    story, editor, enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        services.publish_story(story=story, by=editor)
        assert enqueued == []
    for callback in callbacks:
        callback()
    assert enqueued == [(story.pk, [f"/stories/{story.slug}/"])]


def test_after_a_publication_its_pages_are_served_without_rendering(
    redis_cache,  # noqa: F811
    story,
    editor,
    enqueued,
    django_capture_on_commit_callbacks,
):
    publish(story, editor, django_capture_on_commit_callbacks)
    run_enqueued(enqueued)
    for url in [
        story.get_absolute_url(),
        "/",
        "/topics/japan/",
        "/tags/economy/",
        "/questions/why-bake/",
        "/feeds/rss/",
        "/feeds/topics/japan/atom/",
        "/sitemap.xml",
        "/sitemap-stories.xml",
        "/sitemap-news.xml",
    ]:
        status, headers, body = get(url)
        assert headers.get("X-Cache") == "HIT", url
        assert status.startswith("200"), url
    assert "Baked headline" in get(story.get_absolute_url())[2]


def test_the_newest_stories_sharing_a_topic_are_baked_again(
    redis_cache,  # noqa: F811
    story,
    editor,
    enqueued,
    django_capture_on_commit_callbacks,
):
    """Their related stories now list the new one."""
    japan = story.entities.get()
    neighbour = StoryFactory(headline="Neighbour", entities=[japan])
    publish(neighbour, editor, django_capture_on_commit_callbacks)
    get(neighbour.get_absolute_url())
    enqueued.clear()
    publish(story, editor, django_capture_on_commit_callbacks)
    run_enqueued(enqueued)
    _, headers, body = get(neighbour.get_absolute_url())
    assert headers.get("X-Cache") == "HIT" and "Baked headline" in body


def test_baking_twice_is_harmless(
    redis_cache,  # noqa: F811
    story,
    editor,
    enqueued,
    baked_root,
    django_capture_on_commit_callbacks,
):
    publish(story, editor, django_capture_on_commit_callbacks)
    tasks.bake_story_pages_task(story.pk, [])
    tasks.bake_story_pages_task(story.pk, [])
    assert get(story.get_absolute_url())[1]["X-Cache"] == "HIT"
    assert (baked_root / "stories" / story.slug / "index.html").exists()


def test_baked_files_appear_for_html_pages_and_sitemaps_only(
    redis_cache,  # noqa: F811
    story,
    editor,
    enqueued,
    baked_root,
    django_capture_on_commit_callbacks,
):
    publish(story, editor, django_capture_on_commit_callbacks)
    run_enqueued(enqueued)
    page = baked_root / "stories" / story.slug / "index.html"
    assert "Baked headline" in page.read_text()
    assert page.read_bytes() == get(story.get_absolute_url())[2].encode()
    assert stat.S_IMODE(page.stat().st_mode) == 0o644
    for path in [
        "index.html",
        "topics/japan/index.html",
        "tags/economy/index.html",
        "questions/why-bake/index.html",
        "sitemap.xml",
        "sitemap-stories.xml",
    ]:
        assert (baked_root / path).exists(), path
    # A static server would give a feed the wrong content type.
    assert not (baked_root / "feeds").exists()
    assert not list(baked_root.rglob(".baking-*"))


def test_a_withdrawn_story_loses_its_file_and_answers_410(
    redis_cache,  # noqa: F811
    story,
    editor,
    enqueued,
    baked_root,
    django_capture_on_commit_callbacks,
):
    publish(story, editor, django_capture_on_commit_callbacks)
    run_enqueued(enqueued)
    page = baked_root / "stories" / story.slug / "index.html"
    assert page.exists()
    with django_capture_on_commit_callbacks(execute=True):
        services.unpublish_story(story=story, by=editor, reason="Legal")
    # Gone as the withdrawal commits, before the task runs.
    assert not page.exists()
    run_enqueued(enqueued)
    assert not page.exists()
    # Its topic and tag pages list nothing now: their files go too.
    assert not (baked_root / "topics/japan/index.html").exists()
    assert not (baked_root / "tags/economy/index.html").exists()
    status, _, body = get(story.get_absolute_url())
    assert status.startswith("410") and "Baked headline" not in body


def test_a_withdrawal_redis_cannot_record_removes_every_baked_file(
    redis_cache,  # noqa: F811
    story,
    editor,
    enqueued,
    baked_root,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    publish(story, editor, django_capture_on_commit_callbacks)
    run_enqueued(enqueued)
    assert (baked_root / "stories" / story.slug / "index.html").exists()

    def unreachable(*args, **kwargs):
        raise redis.ConnectionError("Redis is restarting")

    monkeypatch.setattr(pagecache, "_script", lambda name: unreachable)
    with django_capture_on_commit_callbacks(execute=True):
        services.unpublish_story(story=story, by=editor, reason="Legal")
    assert not [path for path in baked_root.rglob("*") if path.is_file()]


def test_a_file_rendered_while_its_page_is_invalidated_is_not_kept(
    redis_cache,  # noqa: F811
    story,
    editor,
    baked_root,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    publish(story, editor, django_capture_on_commit_callbacks)
    real_write = baked_pages.write

    def write_after_a_withdrawal(path, body, tags, clock):
        baked_pages.pagecache.invalidate([f"story:{story.pk}"])
        return real_write(path, body, tags, clock)

    monkeypatch.setattr(baked_pages, "write", write_after_a_withdrawal)
    baked_pages.bake([story.get_absolute_url()])
    assert not (baked_root / "stories" / story.slug / "index.html").exists()


def test_a_changed_slug_leaves_no_file_at_the_old_address(
    redis_cache,  # noqa: F811
    story,
    editor,
    enqueued,
    baked_root,
    django_capture_on_commit_callbacks,
):
    publish(story, editor, django_capture_on_commit_callbacks)
    run_enqueued(enqueued)
    old = baked_root / "stories" / story.slug / "index.html"
    story.slug = "renamed-story"
    story.save()
    publish(story, editor, django_capture_on_commit_callbacks)
    run_enqueued(enqueued)
    assert not old.exists()
    assert (baked_root / "stories/renamed-story/index.html").exists()


def test_nothing_is_baked_without_the_page_cache(
    story, editor, baked_root, settings, django_capture_on_commit_callbacks
):
    settings.PAGE_CACHE_SECONDS = 0
    publish(story, editor, django_capture_on_commit_callbacks)
    assert baked_pages.bake([story.get_absolute_url()])["stored"] == 0
    assert not baked_root.exists()


def test_baking_renders_as_a_reader_of_the_site_address(
    redis_cache,  # noqa: F811
    story,
    editor,
    settings,
    django_capture_on_commit_callbacks,
):
    settings.SITE_URL = "https://news.example.com"
    settings.ALLOWED_HOSTS = ["news.example.com", "testserver"]
    publish(story, editor, django_capture_on_commit_callbacks)
    baked_pages.bake([story.get_absolute_url()])
    status, headers, body = get(
        story.get_absolute_url(), secure=True, HTTP_HOST="news.example.com"
    )
    assert headers.get("X-Cache") == "HIT"
    assert '<link rel="canonical" href="https://news.example.com/stories/' in body
    # Stored for that host and scheme only.
    assert "X-Cache" not in get(story.get_absolute_url())[1]
