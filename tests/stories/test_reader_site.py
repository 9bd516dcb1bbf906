"""The public surfaces: pages, search, feeds, sitemaps, structured data,
HTTP caching, and nothing unpublished anywhere."""

import json
import re
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from django.utils import timezone

from stories import services
from stories.models import SourceSummary, Story
from tests.entities.factories import EntityFactory
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


@pytest.fixture
def live(editor, reporter):
    japan = EntityFactory(name="Japan", kind="place", wikidata_id="Q17")
    faq = FAQFactory(question="Why is Japan spending more?")
    story = StoryFactory(
        headline="Japan raises defence spending", entities=[japan], faqs=[faq]
    )
    story.tags.add("Defence")
    story.authors.add(reporter)
    SourceSummary.objects.create(
        story=story,
        outlet=OutletFactory(name="Example Gazette"),
        summary="The Gazette counted the ships.",
    )
    services.publish_story(story=story, by=editor)
    story.refresh_from_db()
    return story


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
]


@pytest.mark.parametrize(
    "state", ["draft", "in_review", "approved", "scheduled", "withdrawn", "archived"]
)
def test_nothing_unpublished_appears_on_any_public_surface(
    client, live, editor, reporter, state
):
    japan = live.live_revision.entities.get()
    hidden = StoryFactory(
        headline="Hidden headline", summary="Hidden summary", entities=[japan]
    )
    hidden.tags.add("Defence")
    hidden.authors.add(reporter)
    gazette = live.source_summaries.get().outlet
    SourceSummary.objects.create(
        story=hidden, outlet=gazette, summary="Hidden summary of the Gazette."
    )
    # An outlet only the hidden story cites has no page at all.
    SourceSummary.objects.create(
        story=hidden, outlet=OutletFactory(name="Hidden Herald"), summary="x"
    )
    if state == "withdrawn" or state == "archived":
        services.publish_story(story=hidden, by=editor)
        services.unpublish_story(story=hidden, by=editor, reason="x")
        if state == "archived":
            services.take_action(story=hidden, action="archive", by=editor)
    elif state != "draft":
        Story.objects.filter(pk=hidden.pk).update(
            status=state, scheduled_at=timezone.now()
        )
    hidden.refresh_from_db()
    for url in SURFACES:
        assert client.get(url).status_code == 200, url  # walked, not a 404
    for url in SURFACES + [f"/stories/{hidden.slug}/"]:
        body = client.get(url).content.decode()
        assert "Hidden headline" not in body, url
        assert "Hidden summary" not in body, url
    year = timezone.localtime(live.first_published_at).year
    assert "Hidden" not in client.get(f"/archive/{year}/").content.decode()
    assert client.get("/outlets/hidden-herald/").status_code == 404
    assert client.get("/feeds/outlets/hidden-herald/rss/").status_code == 404
    assert "hidden-herald" not in client.get("/sitemap-outlets.xml").content.decode()


def test_home_query_count_is_flat_over_many_stories(
    client, django_assert_max_num_queries
):
    editor = UserFactory(username="bulk-editor", is_superuser=True)
    japan = EntityFactory(name="Japan")
    for n in range(500):  # 25 pages of them
        story = StoryFactory(entities=[japan] if n % 2 else [])
        services.publish_story(story=story, by=editor)
    client.get("/")  # a connection's first visit also prepares the statement
    # one page of stories with revisions and the bounded count, active topics
    with django_assert_max_num_queries(2):
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
