"""The public surfaces: pages, search, feeds, sitemaps, structured data,
HTTP caching, and nothing unpublished anywhere."""

import json
import re
import xml.etree.ElementTree as ET
from contextlib import nullcontext
from datetime import timedelta

import pytest
from django.utils import timezone

from stories import services
from stories.models import SourceSummary, Story
from stories.since_last_read import COOKIE_NAME
from tests.entities.factories import EntityFactory
from tests.newsroom.test_pagecache import redis_cache  # noqa: F401
from tests.stories.factories import (
    FAQFactory,
    OutletFactory,
    StoryFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
ATOM = "{http://www.w3.org/2005/Atom}"


def json_ld(html):
    block = re.search(
        r'<script type="application/ld\+json">(.*?)</script>', html, re.S
    ).group(1)
    data = json.loads(block)
    return {
        item["@type"]: item for item in (data if isinstance(data, list) else [data])
    }


def test_home_shows_a_lead_story_latest_stories_and_active_topics(client, live):
    newer = StoryFactory(
        headline="A newer story",
        entities=[live.live_revision.entities.get()],
        published=True,
    )
    html = client.get("/").content.decode()
    assert html.index("A newer story") < html.index("Japan raises defence spending")
    assert "story-card--lead" in html
    assert (
        "Most active topics" in html
        and '>Japan</a> <span class="count">(2)</span>' in html
    )
    assert newer.get_absolute_url() in html


def test_home_pages_beyond_the_last_answer_404(client, live):
    assert client.get("/?page=99").status_code == 404


def test_story_page_links_byline_tags_topics_and_related_stories(
    client, live, reporter
):
    related = StoryFactory(
        headline="Another Japan story",
        entities=[live.live_revision.entities.get()],
        published=True,
    )
    unrelated = StoryFactory(headline="Nothing in common", published=True)
    html = client.get(live.get_absolute_url()).content.decode()
    assert f'href="/authors/{reporter.username}/" rel="author"' in html
    assert 'href="/tags/defence/" rel="tag"' in html
    assert 'href="/topics/japan/"' in html
    assert (
        related.get_absolute_url() in html and unrelated.get_absolute_url() not in html
    )


def test_story_structured_data_and_social_tags(client, live, reporter):
    html = client.get(live.get_absolute_url()).content.decode()
    data = json_ld(html)
    article = data["NewsArticle"]
    assert article["headline"] == "Japan raises defence spending"
    assert article["author"][0]["url"].endswith(f"/authors/{reporter.username}/")
    assert article["publisher"]["logo"]["url"].endswith("img/logo.png")
    assert article["about"][0] == {
        "@type": "Place",
        "name": "Japan",
        "url": "http://127.0.0.1:8000/topics/japan/",
        "sameAs": "https://www.wikidata.org/wiki/Q17",
    }
    assert article["datePublished"] and article["dateModified"]
    assert data["BreadcrumbList"]["itemListElement"][0]["name"] == "Home"
    assert '<meta property="og:type" content="article">' in html
    assert '<meta property="og:title" content="Japan raises defence spending">' in html
    assert '<link rel="canonical" href="http://testserver/stories/' in html


def test_story_without_a_hero_image_gives_the_site_image_in_structured_data(
    client, live
):
    assert not live.live_revision.content["hero_image"]
    article = json_ld(client.get(live.get_absolute_url()).content.decode())[
        "NewsArticle"
    ]
    assert article["image"] == ["http://127.0.0.1:8000/static/img/share.png"]


def test_favicon_is_served_not_missing(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
    assert response.content.startswith(b"\x00\x00\x01\x00")  # an ICO header
    assert "public" in response["Cache-Control"]


def test_pages_link_their_icon(client, live):
    html = client.get("/").content.decode()
    assert '<link rel="icon" href="/static/img/favicon.ico"' in html


def test_entity_page_structured_data(client, live):
    data = json_ld(client.get("/topics/japan/").content.decode())
    assert data["Place"]["sameAs"] == "https://www.wikidata.org/wiki/Q17"


def test_faq_page_structured_data(client, live):
    faq = live.faqs.get()
    data = json_ld(client.get(faq.get_absolute_url()).content.decode())
    assert data["FAQPage"]["mainEntity"][0]["name"] == faq.question
    assert (
        data["FAQPage"]["mainEntity"][0]["acceptedAnswer"]["text"] == "Because it does."
    )


def test_tag_author_and_date_archive_pages(client, live, reporter):
    assert (
        "Japan raises defence spending" in client.get("/tags/defence/").content.decode()
    )
    assert (
        "Japan raises defence spending"
        in client.get(f"/authors/{reporter.username}/").content.decode()
    )
    when = timezone.localtime(live.first_published_at)
    assert client.get(f"/archive/{when.year}/").status_code == 200
    assert (
        "Japan raises"
        in client.get(f"/archive/{when.year}/{when.month}/").content.decode()
    )
    assert client.get(f"/archive/{when.year - 1}/").status_code == 404
    assert client.get(f"/archive/{when.year}/13/").status_code == 404


def test_search_finds_published_stories_with_highlighted_snippets(client, live):
    StoryFactory(headline="Secret draft about defence")
    response = client.get("/search/", {"q": "defence"})
    html = response.content.decode()
    assert "Japan raises defence spending" in html
    assert "Secret draft" not in html
    assert "<mark>" in html
    assert response["X-Robots-Tag"] == "noindex"


def test_search_ranks_headline_matches_first(client, editor):
    # The factory's sections say "Analysis 1.": a body match for "analysis".
    StoryFactory(headline="Budget talks", published=True)
    StoryFactory(headline="Analysis of the week", published=True)
    html = client.get("/search/", {"q": "analysis"}).content.decode()
    assert html.index("Analysis of the week") < html.index("Budget talks")


def test_search_escapes_the_query_and_has_an_empty_state(client, live):
    html = client.get("/search/", {"q": "<script>x</script>"}).content.decode()
    assert "<script>x</script>" not in html
    assert "Nothing matched" in html
    assert "Search every published explainer" in client.get("/search/").content.decode()


def test_rss_and_atom_feeds_list_published_stories_with_stable_guids(client, live):
    StoryFactory(headline="Draft in no feed")
    rss = ET.fromstring(client.get("/feeds/rss/").content)
    items = rss.findall("./channel/item")
    assert [i.findtext("title") for i in items] == ["Japan raises defence spending"]
    guid = items[0].find("guid")
    assert guid.text == f"http://127.0.0.1:8000/stories/id/{live.pk}"
    assert guid.get("isPermaLink") == "false"
    assert items[0].findtext("description") == live.summary
    atom = ET.fromstring(client.get("/feeds/atom/").content)
    entry = atom.find(f"{ATOM}entry")
    assert entry.findtext(f"{ATOM}id") == guid.text
    assert entry.findtext(f"{ATOM}updated")


def test_tag_and_topic_feeds(client, live):
    assert (
        b"Japan raises defence spending"
        in client.get("/feeds/tags/defence/rss/").content
    )
    assert (
        b"Japan raises defence spending"
        in client.get("/feeds/topics/japan/atom/").content
    )
    assert client.get("/feeds/tags/no-such-tag/rss/").status_code == 404


def test_sitemap_index_sections_news_sitemap_and_robots(client, live):
    index = client.get("/sitemap.xml").content.decode()
    for section in ("stories", "topics", "questions", "tags", "outlets"):
        assert f"/sitemap-{section}.xml" in index
    stories = client.get("/sitemap-stories.xml").content.decode()
    assert live.get_absolute_url() in stories and "<lastmod>" in stories
    assert "/tags/defence/" in client.get("/sitemap-tags.xml").content.decode()
    news = client.get("/sitemap-news.xml")
    assert news["Content-Type"].startswith("application/xml")
    ET.fromstring(news.content)
    assert "Japan raises defence spending" in news.content.decode()
    robots = client.get("/robots.txt").content.decode()
    assert "Sitemap: http://127.0.0.1:8000/sitemap.xml" in robots
    assert "Disallow: /admin/" in robots


def test_news_sitemap_keeps_only_the_last_48_hours(client, live):
    Story.objects.filter(pk=live.pk).update(
        first_published_at=timezone.now() - timedelta(hours=49)
    )
    assert (
        live.get_absolute_url() not in client.get("/sitemap-news.xml").content.decode()
    )


def test_public_pages_carry_cdn_cache_headers_and_answer_conditional_requests(
    client, live
):
    response = client.get(live.get_absolute_url())
    control = response["Cache-Control"]
    assert "public" in control and "max-age=60" in control
    assert "s-maxage=300" in control and "stale-while-revalidate=600" in control
    assert response["Last-Modified"]
    again = client.get(live.get_absolute_url(), HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304


def test_staff_pages_are_never_publicly_cacheable(client, live, editor):
    client.force_login(editor)
    response = client.get(live.get_absolute_url())
    assert "public" not in response.get("Cache-Control", "")


SURFACES = [
    "/",
    "/feeds/rss/",
    "/feeds/atom/",
    "/feeds/tags/defence/rss/",
    "/feeds/topics/japan/rss/",
    "/feeds/outlets/example-gazette/rss/",
    "/feeds/outlets/example-gazette/atom/",
    "/sitemap-stories.xml",
    "/sitemap-tags.xml",
    "/sitemap-topics.xml",
    "/sitemap-questions.xml",
    "/sitemap-outlets.xml",
    "/sitemap-news.xml",
    "/search/?q=Hidden",
    "/tags/defence/",
    "/topics/japan/",
    "/outlets/example-gazette/",
    "/authors/reporter/",
    "/corrections/",
    "/api/v1/stories/",
    "/api/v1/stories/?tag=defence",
    "/api/v1/stories/?topic=japan",
    "/api/v1/stories/?outlet=example-gazette",
    "/api/v1/stories/?author=reporter",
    "/api/v1/topics/",
    "/api/v1/topics/japan/",
    "/api/v1/faqs/",
    "/api/v1/outlets/",
    "/api/v1/outlets/example-gazette/",
    "/api/v1/tags/",
]


@pytest.mark.parametrize(
    "state", ["draft", "in_review", "approved", "scheduled", "withdrawn", "archived"]
)
def test_nothing_unpublished_appears_on_any_public_surface(
    client, live, editor, reporter, state
):
    hidden = hide_a_story(live, editor, reporter, state)
    for url in SURFACES:
        assert client.get(url).status_code == 200, url  # walked, not a 404
    for url in SURFACES + [
        f"/stories/{hidden.slug}/",
        f"/api/v1/stories/{hidden.slug}/",
    ]:
        body = client.get(url).content.decode()
        assert "Hidden headline" not in body, url
        assert "Hidden summary" not in body, url
    year = timezone.localtime(live.first_published_at).year
    assert "Hidden" not in client.get(f"/archive/{year}/").content.decode()
    assert client.get("/outlets/hidden-herald/").status_code == 404
    assert client.get("/feeds/outlets/hidden-herald/rss/").status_code == 404
    assert "hidden-herald" not in client.get("/sitemap-outlets.xml").content.decode()
    assert client.get(f"/api/v1/stories/{hidden.slug}/").status_code == 404
    assert client.get("/api/v1/outlets/hidden-herald/").status_code == 404
    assert "hidden-herald" not in client.get("/api/v1/outlets/").content.decode()
    # "What changed since you last read" compares published revisions of the
    # story it is for, whatever revisions a (forged) cookie or address names.
    services.publish_story(story=Story.objects.get(pk=live.pk), by=editor)
    live.refresh_from_db()
    for revision in hidden.revisions.all():
        for story, shown in ((live, live.live_revision_id), (hidden, revision.pk)):
            client.cookies[COOKIE_NAME] = f"{story.pk}:{revision.pk}"
            box = f"/stories/{story.slug}/since-you-last-read/{story.pk}/{shown}/"
            response = client.get(box)
            assert response.status_code == 200
            assert "Hidden" not in response.content.decode()


@pytest.mark.parametrize(
    "state", ["draft", "in_review", "approved", "scheduled", "withdrawn", "archived"]
)
def test_nothing_unpublished_is_baked_or_left_in_the_page_cache(
    redis_cache,  # noqa: F811
    live,
    editor,
    reporter,
    state,
    settings,
    tmp_path,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    """The same walk through the page cache and the baked tree: every surface
    is cached (and baked) while the story is live, then the story leaves."""
    from stories import tasks
    from tests.newsroom.test_pagecache import get

    settings.SITE_URL = "http://testserver"
    settings.BAKED_PAGES_ROOT = str(tmp_path / "baked")
    enqueued = []
    monkeypatch.setattr(
        tasks.bake_story_pages_task, "delay", lambda *args: enqueued.append(args)
    )
    # Filtered API lists are not kept by the page cache: each runs its query.
    kept = [url for url in SURFACES if not url.startswith("/api/v1/stories/?")]
    urls = kept + [
        f"/archive/{timezone.now().year}/",
        "/sitemap.xml",
        "/stories/hidden-headline/",
    ]

    def walk():
        for args in enqueued:
            tasks.bake_story_pages_task(*args)
        enqueued.clear()
        for url in urls:
            get(url)

    def walk_while_live():
        walk()
        # The story is in the cache and the baked tree until it leaves.
        assert "Hidden headline" in get("/")[2]
        assert "Hidden headline" in (tmp_path / "baked/index.html").read_text()

    tasks.bake_story_pages_task(live.pk, [])
    hidden = hide_a_story(
        live,
        editor,
        reporter,
        state,
        before_withdrawal=walk_while_live,
        commit=lambda: django_capture_on_commit_callbacks(execute=True),
    )
    walk()
    assert hidden.slug == "hidden-headline"
    for url in urls:
        _, headers, body = get(url)
        assert headers.get("X-Cache") == "HIT", url  # from the cache
        assert "Hidden headline" not in body and "Hidden summary" not in body, url
    baked = [path for path in (tmp_path / "baked").rglob("*") if path.is_file()]
    assert len(baked) > 5
    for path in baked:
        text = path.read_text()
        assert "Hidden headline" not in text and "Hidden summary" not in text, path


def hide_a_story(
    live, editor, reporter, state, before_withdrawal=None, commit=nullcontext
):
    """A story in state sharing the live story's topic, tag, outlet and
    author; before_withdrawal runs while a withdrawn one is still live, and
    commit() wraps each publication and withdrawal."""
    japan = live.live_revision.entities.get()
    hidden = StoryFactory(
        headline="Hidden headline", summary="Hidden summary", entities=[japan]
    )
    hidden.tags.add("Defence")
    hidden.authors.add(reporter)
    hidden.sections.update(heading="Hidden angle")
    services.record_save(story=hidden, by=editor)
    gazette = live.source_summaries.get().outlet
    SourceSummary.objects.create(
        story=hidden, outlet=gazette, summary="Hidden summary of the Gazette."
    )
    # An outlet only the hidden story cites has no page at all.
    SourceSummary.objects.create(
        story=hidden, outlet=OutletFactory(name="Hidden Herald"), summary="x"
    )
    if state == "withdrawn" or state == "archived":
        with commit():
            services.publish_story(story=hidden, by=editor)
        if before_withdrawal is not None:
            before_withdrawal()
        with commit():
            services.unpublish_story(story=hidden, by=editor, reason="x")
        if state == "archived":
            services.take_action(story=hidden, action="archive", by=editor)
    elif state != "draft":
        Story.objects.filter(pk=hidden.pk).update(
            status=state, scheduled_at=timezone.now()
        )
    hidden.refresh_from_db()
    return hidden


def test_home_query_count_is_flat_over_many_stories(
    client, django_assert_max_num_queries
):
    editor = UserFactory(username="bulk-editor", is_superuser=True)
    japan = EntityFactory(name="Japan")
    for n in range(500):  # 25 pages of them
        story = StoryFactory(entities=[japan] if n % 2 else [])
        services.publish_story(story=story, by=editor)
    # a connection's first visit also prepares the statements
    client.get("/")
    client.get("/?page=25")
    # one page of stories with revisions, the bounded count and the topics'
    # version; the active topics are kept under that version, so they cost
    # no query until it changes
    with django_assert_max_num_queries(1):
        assert client.get("/").status_code == 200
    with django_assert_max_num_queries(1):  # the last page: no topics
        assert client.get("/?page=25").status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "/tags/defence/",
        "/authors/reporter/",
        "/feeds/rss/",
        "/feeds/tags/defence/atom/",
        "/sitemap-stories.xml",
        "/search/?q=defence",
        "/corrections/",
        f"/archive/{timezone.now().year}/",
    ],
)
def test_listing_query_counts_do_not_grow_with_content(
    client, editor, reporter, url, django_assert_max_num_queries
):
    def publish_some(n):
        for _ in range(n):
            story = StoryFactory()
            story.tags.add("Defence")
            story.authors.add(reporter)
            services.publish_story(story=story, by=editor)

    publish_some(2)
    with django_assert_max_num_queries(10) as few:
        client.get(url)
    baseline = len(few.captured_queries)
    publish_some(15)
    with django_assert_max_num_queries(baseline):
        assert client.get(url).status_code == 200


def test_social_tags_name_the_page_but_never_a_previews_address(client, live, editor):
    url = (
        f'<meta property="og:url" content="http://testserver{live.get_absolute_url()}">'
    )
    html = client.get(live.get_absolute_url()).content.decode()
    assert url in html
    assert '<meta name="twitter:card" content="summary">' in html
    _, token = services.create_preview_link(story=live, by=editor, hours=1)
    preview = client.get(f"/preview/{token}/").content.decode()
    assert 'property="og:title"' in preview and 'property="og:url"' not in preview
    assert 'rel="canonical"' not in preview
    topic = live.live_revision.entities.get()
    assert (
        f'<meta property="og:url" content="http://testserver{topic.get_absolute_url()}">'
        in client.get(topic.get_absolute_url()).content.decode()
    )


def test_topic_page_lists_its_public_questions_by_question(client, editor):
    japan = EntityFactory(name="Japan")
    why = FAQFactory(question="Why is Japan spending more?")
    how = FAQFactory(question="How big is the navy?")
    hidden = FAQFactory(question="What does the draft say?")
    for faq in (why, how, hidden):
        faq.entities.add(japan)
    services.publish_story(
        story=StoryFactory(entities=[japan], faqs=[why, how]), by=editor
    )
    StoryFactory(entities=[japan], faqs=[hidden])  # a draft links it
    html = client.get(japan.get_absolute_url()).content.decode()
    questions = html[html.index('id="questions"') :]
    assert questions.index(how.question) < questions.index(why.question)
    assert f'<a href="{why.get_absolute_url()}">' in questions
    assert hidden.question not in html
