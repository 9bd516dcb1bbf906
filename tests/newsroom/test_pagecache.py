"""The full-page cache, through the real WSGI application and a real Redis."""

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import RequestFactory

from newsroom import pagecache
from newsroom.wsgi import application
from stories import services
from tests.redis_server import RedisServer
from tests.stories.factories import StoryFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def redis_cache(settings, tmp_path):
    server = RedisServer(tmp_path).start()
    settings.REDIS_URL = server.url
    # Recheck the clock on every request, so invalidation is immediate.
    settings.PAGE_CACHE_RECHECK_MS = 0
    pagecache.local_pages.clear()
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": server.url,
            "KEY_PREFIX": "test",
        }
    }
    yield server
    server.stop()
    pagecache.local_pages.clear()


def get(path, app=None, **headers):
    app = app or application
    environ = RequestFactory().get(path, **headers).environ
    captured = {}

    def start_response(status, response_headers, exc_info=None):
        captured["status"] = status
        captured["headers"] = dict(response_headers)

    # As Django's test client does: keep the test's database connection open.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        body = b"".join(app(environ, start_response))
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return captured["status"], captured["headers"], body.decode()


@pytest.fixture
def story(editor, django_capture_on_commit_callbacks):
    story = StoryFactory(headline="Cached headline")
    with django_capture_on_commit_callbacks(execute=True):
        services.publish_story(story=story, by=editor)
    story.refresh_from_db()
    return story


def test_second_anonymous_request_is_answered_from_the_cache(redis_cache, story):
    first_status, first_headers, first_body = get(story.get_absolute_url())
    status, headers, body = get(story.get_absolute_url())
    assert "X-Cache" not in first_headers
    assert headers["X-Cache"] == "HIT"
    assert (status, body) == (first_status, first_body)
    assert headers["Cache-Control"] == first_headers["Cache-Control"]
    assert headers["ETag"] == first_headers["ETag"]


def test_cached_page_answers_a_conditional_request_with_304(redis_cache, story):
    _, headers, _ = get(story.get_absolute_url())
    status, again, body = get(
        story.get_absolute_url(), HTTP_IF_NONE_MATCH=headers["ETag"]
    )
    assert status.startswith("304") and again["X-Cache"] == "HIT" and body == ""


def test_a_cached_api_answer_keeps_its_cors_headers_on_a_304(redis_cache, story):
    url = f"/api/v1/stories/{story.public_slug}/"
    _, headers, _ = get(url)
    status, again, _ = get(url, HTTP_IF_NONE_MATCH=headers["ETag"])
    assert status.startswith("304") and again["X-Cache"] == "HIT"
    assert again["Access-Control-Allow-Origin"] == "*"


def test_requests_with_a_session_cookie_are_never_served_from_the_cache(
    redis_cache, story
):
    get(story.get_absolute_url())
    _, headers, _ = get(story.get_absolute_url(), HTTP_COOKIE="sessionid=abc")
    assert "X-Cache" not in headers


def test_publishing_invalidates_cached_listings(
    redis_cache, story, editor, django_capture_on_commit_callbacks
):
    get("/")
    newer = StoryFactory(headline="Fresh arrival")
    with django_capture_on_commit_callbacks(execute=True):
        services.publish_story(story=newer, by=editor)
    _, headers, body = get("/")
    assert "X-Cache" not in headers
    assert "Fresh arrival" in body


def test_a_withdrawn_story_leaves_the_cache_at_once(
    redis_cache, story, editor, django_capture_on_commit_callbacks
):
    get(story.get_absolute_url())
    with django_capture_on_commit_callbacks(execute=True):
        services.unpublish_story(story=story, by=editor, reason="Legal")
    status, _, body = get(story.get_absolute_url())
    assert status.startswith("410") and "Cached headline" not in body


def test_editing_an_entity_biography_in_the_admin_invalidates_its_page(
    redis_cache, editor, client, django_capture_on_commit_callbacks
):
    from tests.entities.factories import EntityFactory

    japan = EntityFactory(name="Japan", biography="<p>Old biography.</p>")
    story = StoryFactory(entities=[japan])
    with django_capture_on_commit_callbacks(execute=True):
        services.publish_story(story=story, by=editor)
    get("/topics/japan/")
    client.force_login(editor)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            f"/admin/entities/entity/{japan.pk}/change/",
            {
                "name": "Japan",
                "slug": "japan",
                "kind": "place",
                "short_description": "",
                "biography": "<p>New biography.</p>",
                "aliases": "",
                "wikidata_id": "",
            },
        )
    _, headers, body = get("/topics/japan/")
    assert "New biography." in body and "X-Cache" not in headers


def test_pages_are_still_served_when_redis_is_down(redis_cache, story):
    get(story.get_absolute_url())
    redis_cache.stop()
    status, headers, body = get(story.get_absolute_url())
    assert status.startswith("200") and "Cached headline" in body
    assert "X-Cache" not in headers


def test_preview_links_are_never_cached(redis_cache, reporter, editor):
    story = StoryFactory(headline="Private draft")
    story.authors.add(reporter)
    services.record_save(story=story, by=reporter)
    _, token = services.create_preview_link(story=story, by=reporter, hours=1)
    get(f"/preview/{token}/")
    _, headers, _ = get(f"/preview/{token}/")
    assert "X-Cache" not in headers
    assert "no-store" in headers["Cache-Control"]


def test_a_hit_from_process_memory_still_sees_an_invalidation(
    redis_cache, story, editor, settings, django_capture_on_commit_callbacks
):
    settings.PAGE_CACHE_RECHECK_MS = 60_000
    get(story.get_absolute_url())
    assert get(story.get_absolute_url())[1]["X-Cache"] == "HIT"
    with django_capture_on_commit_callbacks(execute=True):
        services.unpublish_story(story=story, by=editor, reason="Legal")
    # Within the recheck interval the process may still answer from memory;
    # once it rechecks, the withdrawn page is gone.
    settings.PAGE_CACHE_RECHECK_MS = 0
    status, headers, _ = get(story.get_absolute_url())
    assert status.startswith("410") and "X-Cache" not in headers


def test_plain_http_gets_the_https_redirect_not_a_cached_page(
    redis_cache, story, settings
):
    from django.core.handlers.wsgi import WSGIHandler

    settings.SECURE_SSL_REDIRECT = True
    app = pagecache.PageCacheApp(WSGIHandler())  # middleware built with the setting
    get(story.get_absolute_url(), app=app, secure=True)
    status, headers, _ = get(story.get_absolute_url(), app=app)
    assert status.startswith("301") and "X-Cache" not in headers
    status, headers, _ = get(story.get_absolute_url(), app=app, secure=True)
    assert headers["X-Cache"] == "HIT"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "Content-Security-Policy" in headers


def test_made_up_query_strings_are_not_cached(redis_cache, story):
    for _ in range(2):
        _, headers, _ = get(story.get_absolute_url() + "?utm_source=x")
    assert "X-Cache" not in headers
    get("/?page=1")
    assert get("/?page=1")[1]["X-Cache"] == "HIT"


def test_not_found_with_a_query_string_is_not_stored(redis_cache):
    get("/stories/nothing-here/?page=2")
    assert "X-Cache" not in get("/stories/nothing-here/?page=2")[1]


def test_a_response_setting_a_cookie_is_never_stored(redis_cache, rf):
    from django.http import HttpResponse

    from newsroom.pagecache import PageCacheMiddleware

    def view(request):
        response = HttpResponse("personal")
        response.set_cookie("csrftoken", "secret")
        return response

    request = rf.get("/somewhere/")
    PageCacheMiddleware(view)(request)
    assert not pagecache._client().keys("newsroom:page:*")


def test_a_page_validated_before_the_process_caught_up_is_not_kept_in_memory(
    redis_cache,
):
    """A page checked against Redis at an older clock than another thread
    has since applied may have missed an invalidation in between."""
    pagecache.local_pages.current_clock(pagecache._client())
    old = pagecache.local_pages.clock
    pagecache.invalidate(["story:1"])
    pagecache.local_pages.current_clock(pagecache._client())  # another thread
    pagecache.local_pages.put("k", ("page",), ["story:1"], old)
    assert pagecache.local_pages.get("k") is None


def test_pages_in_memory_do_not_outlive_a_restart_of_redis(redis_cache):
    """A Redis without persistence restarts with its clock at zero: the
    process must follow it down, or it would never see tags invalidated
    below the clock it had reached."""
    client = pagecache._client()
    for _ in range(5):
        pagecache.invalidate(["other"])
    clock = pagecache.local_pages.current_clock(client)
    pagecache.local_pages.put("old", ("old page",), ["story:1"], clock)
    client.flushall()
    clock = pagecache.local_pages.current_clock(client)
    assert pagecache.local_pages.get("old") is None
    pagecache.local_pages.put("new", ("new page",), ["story:1"], clock)
    pagecache.invalidate(["story:1"])
    pagecache.local_pages.current_clock(client)
    assert pagecache.local_pages.get("new") is None


def test_a_recheck_drops_only_the_pages_whose_tags_were_invalidated(redis_cache):
    client = pagecache._client()
    clock = pagecache.local_pages.current_clock(client)
    pagecache.local_pages.put("story", ("story page",), ["story:1"], clock)
    pagecache.local_pages.put("other", ("other page",), ["story:2"], clock)
    pagecache.invalidate(["story:1"])
    pagecache.local_pages.current_clock(client)
    assert pagecache.local_pages.get("story") is None
    assert pagecache.local_pages.get("other") == ("other page",)


def test_a_page_rendered_while_its_tags_are_invalidated_is_never_served(
    redis_cache, story, monkeypatch
):
    """The clock is read before the render: a publication committed during
    it leaves the stored page stale, however late it is stored."""
    original = pagecache.PageCacheMiddleware._store

    def store_after_invalidation(self, request, response, clock):
        pagecache.invalidate([f"story:{story.pk}"])
        original(self, request, response, clock)

    monkeypatch.setattr(
        pagecache.PageCacheMiddleware, "_store", store_after_invalidation
    )
    get(story.get_absolute_url())
    monkeypatch.setattr(pagecache.PageCacheMiddleware, "_store", original)
    assert "X-Cache" not in get(story.get_absolute_url())[1]


def test_deleting_a_topic_invalidates_cached_pages(
    redis_cache, editor, client, django_capture_on_commit_callbacks
):
    from tests.entities.factories import EntityFactory

    japan = EntityFactory(name="Lonely topic")
    get(f"/topics/{japan.slug}/")
    client.force_login(editor)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/admin/entities/entity/{japan.pk}/delete/", {"post": "yes"})
    assert pagecache._client().zscore(pagecache.TAGS_KEY, f"entity:{japan.pk}")
    assert "X-Cache" not in get(f"/topics/{japan.slug}/")[1]


def test_readers_missing_the_same_page_at_once_wait_for_one_render(
    redis_cache, monkeypatch
):
    """Just after an invalidation every reader of a popular page misses at
    the same moment; one render must serve them all."""
    import threading

    # Waiters must outlast the render however slow the machine is.
    monkeypatch.setattr(pagecache, "FLIGHT_WAIT_SECONDS", 600)
    renders = []
    app = pagecache.PageCacheApp(slow_django(renders))
    readers = 8
    start = threading.Barrier(readers)
    answers = []

    def read():
        start.wait()
        answers.append(get("/robots.txt", app=app))

    threads = [threading.Thread(target=read, daemon=True) for _ in range(readers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert renders == [("GET", "/robots.txt")]
    assert len(answers) == readers
    assert {status for status, _, _ in answers} == {"200 OK"}
    assert sum(headers.get("X-Cache") == "HIT" for _, headers, _ in answers) == 7


def test_a_page_that_is_not_stored_does_not_hold_readers_back(redis_cache, monkeypatch):
    """If the first render leaves nothing to answer from, the readers
    waiting for it render for themselves at once: they neither look the page
    up again nor sit out the wait."""
    import threading
    import time

    monkeypatch.setattr(pagecache, "FLIGHT_WAIT_SECONDS", 600)
    renders, lookups = [], []
    looked_up = pagecache.PageCacheApp._lookup

    def counted(self, environ, config):
        lookups.append(1)
        return looked_up(self, environ, config)

    monkeypatch.setattr(pagecache.PageCacheApp, "_lookup", counted)

    def uncacheable(environ, start_response):  # no middleware: never stored
        renders.append(1)
        time.sleep(0.3)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"not stored"]

    app = pagecache.PageCacheApp(uncacheable)
    readers = 4
    start = threading.Barrier(readers)
    threads = [
        threading.Thread(
            target=lambda: (start.wait(), get("/robots.txt", app=app)), daemon=True
        )
        for _ in range(readers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    assert len(renders) == readers
    assert len(lookups) == readers  # one each, none after waiting


def test_a_head_request_never_makes_readers_wait_for_nothing(redis_cache):
    """HEAD answers are not stored, so a HEAD must not lead the render
    others wait for."""
    import threading
    import time

    renders = []
    app = pagecache.PageCacheApp(slow_django(renders))
    head = threading.Thread(target=lambda: get_head("/robots.txt", app))
    head.start()
    time.sleep(0.05)  # the HEAD is rendering
    readers = [
        threading.Thread(target=lambda: get("/robots.txt", app=app)) for _ in range(3)
    ]
    for thread in readers:
        thread.start()
    for thread in [head, *readers]:
        thread.join(timeout=10)
    assert sorted(method for method, _ in renders) == ["GET", "HEAD"]


def slow_django(renders):
    """Newsroom taking 0.3 s per render, noting each (method, path)."""
    import time

    def app(environ, start_response):
        renders.append((environ["REQUEST_METHOD"], environ["PATH_INFO"]))
        time.sleep(0.3)
        return application.application(environ, start_response)

    return app


def get_head(path, app):
    environ = RequestFactory().head(path).environ
    return b"".join(app(environ, lambda status, headers, exc_info=None: None))


def test_an_address_with_non_ascii_characters_is_served_from_the_cache(
    redis_cache,
):
    get("/topics/caf%C3%A9/")
    status, headers, _ = get("/topics/caf%C3%A9/")
    assert status.startswith("404") and headers.get("X-Cache") == "HIT"
