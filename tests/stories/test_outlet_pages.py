"""Outlet pages: the published explainers that cite an outlet, what each
said of its coverage, and the outlet's feeds, read from the live-topic
index."""

import xml.etree.ElementTree as ET
from importlib import import_module

import pytest
from django.apps import apps

from stories import services
from stories.models import LiveTopic, SourceSummary, Story, StoryRevision
from tests.stories.factories import OutletFactory, StoryFactory
from tests.stories.test_reader_site import ATOM, json_ld

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


@pytest.fixture
def cited(outlet, editor):
    """A published story citing outlet, with a link to the article."""
    story = StoryFactory(headline="Gazette story explained")
    cite(
        story,
        outlet,
        summary="The Gazette reported a budget rise.",
        url="https://gazette.example.com/budget",
    )
    services.publish_story(story=story, by=editor)
    story.refresh_from_db()
    return story


def test_outlet_page_lists_published_stories_citing_it_with_their_summaries(
    client, outlet, cited, editor
):
    StoryFactory(headline="Uncited story", published=True)
    draft = StoryFactory(headline="Draft citing the Gazette")
    cite(draft, outlet, summary="Draft summary of the Gazette.")
    response = client.get("/outlets/example-gazette/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Example Gazette</h1>" in html
    assert f'href="{cited.get_absolute_url()}">Gazette story explained</a>' in html
    assert "The Gazette reported a budget rise." in html
    assert (
        '<a href="https://gazette.example.com/budget" rel="nofollow noopener">' in html
    )
    assert "(external site)" in html
    assert 'href="https://gazette.example.com/"' in html
    assert "<dd>GB</dd>" in html and "<dd>English</dd>" in html
    assert "Uncited story" not in html and "Draft" not in html


def test_outlet_page_shows_the_live_summary_not_a_later_edit(
    client, outlet, cited, editor
):
    SourceSummary.objects.filter(story=cited).update(summary="Unpublished rewrite.")
    services.record_save(story=Story.objects.get(pk=cited.pk), by=editor)
    html = client.get("/outlets/example-gazette/").content.decode()
    assert "The Gazette reported a budget rise." in html
    assert "Unpublished rewrite." not in html


def test_outlet_page_matches_old_revisions_by_slug(client, outlet, cited):
    forget_outlet_ids(cited)
    html = client.get("/outlets/example-gazette/").content.decode()
    assert "The Gazette reported a budget rise." in html


def test_outlet_page_of_an_uncited_outlet_is_404(client, cited):
    OutletFactory(name="Silent Sentinel")
    assert client.get("/outlets/example-gazette/").status_code == 200
    assert client.get("/outlets/silent-sentinel/").status_code == 404
    assert client.get("/outlets/no-such-outlet/").status_code == 404


@pytest.mark.parametrize("state", ["draft", "scheduled", "withdrawn"])
def test_outlet_cited_only_by_unpublished_stories_is_404(client, cited, editor, state):
    hidden = OutletFactory(name="Hidden Herald")
    story = StoryFactory()
    cite(story, hidden)
    if state == "withdrawn":
        services.publish_story(story=story, by=editor)
        services.unpublish_story(story=story, by=editor, reason="Legal")
    elif state == "scheduled":
        Story.objects.filter(pk=story.pk).update(status=state)
    for url in ("/outlets/{}/", "/feeds/outlets/{}/rss/", "/feeds/outlets/{}/atom/"):
        assert client.get(url.format("example-gazette")).status_code == 200, url
        assert client.get(url.format("hidden-herald")).status_code == 404, url
    sitemap = client.get("/sitemap-outlets.xml").content.decode()
    assert "/outlets/example-gazette/" in sitemap
    assert "hidden-herald" not in sitemap


def test_outlet_page_is_paginated_newest_first(client, outlet, editor):
    stories = []
    for _ in range(21):
        story = StoryFactory()
        cite(story, outlet)
        services.publish_story(story=story, by=editor)
        stories.append(story)
    first = client.get("/outlets/example-gazette/").content.decode()
    second = client.get("/outlets/example-gazette/?page=2").content.decode()
    newest, oldest = stories[-1], stories[0]
    assert first.index(newest.headline) < first.index(stories[-2].headline)
    assert oldest.headline not in first and oldest.headline in second
    assert 'rel="next" href="?page=2"' in first
    assert "Page 2 of 2" in second
    assert client.get("/outlets/example-gazette/?page=3").status_code == 404


def test_outlet_page_query_count_is_flat(
    client, outlet, editor, django_assert_max_num_queries
):
    def publish_citing(n):
        for _ in range(n):
            story = StoryFactory(sources=2)
            cite(story, outlet, url="https://gazette.example.com/a")
            services.publish_story(story=story, by=editor)

    publish_citing(3)
    # A connection's first visit also prepares the statements.
    client.get("/outlets/example-gazette/")
    client.get("/feeds/outlets/example-gazette/rss/")
    # the outlet, one page of stories with revisions and the bounded count
    with django_assert_max_num_queries(2):
        assert client.get("/outlets/example-gazette/").status_code == 200
    publish_citing(27)
    with django_assert_max_num_queries(2):
        assert client.get("/outlets/example-gazette/").status_code == 200
    # the outlet, its stories with revisions
    with django_assert_max_num_queries(2):
        assert client.get("/feeds/outlets/example-gazette/rss/").status_code == 200


def test_outlet_feeds_list_only_published_stories_citing_it(
    client, outlet, cited, editor
):
    StoryFactory(headline="Uncited story", published=True)
    draft = StoryFactory(headline="Draft citing the Gazette")
    cite(draft, outlet)
    rss = ET.fromstring(client.get("/feeds/outlets/example-gazette/rss/").content)
    assert [i.findtext("title") for i in rss.findall("./channel/item")] == [
        "Gazette story explained"
    ]
    atom = ET.fromstring(client.get("/feeds/outlets/example-gazette/atom/").content)
    assert [e.findtext(f"{ATOM}title") for e in atom.findall(f"{ATOM}entry")] == [
        "Gazette story explained"
    ]


def test_outlet_page_links_its_feeds(client, cited):
    html = client.get("/outlets/example-gazette/").content.decode()
    assert (
        '<link rel="alternate" type="application/rss+xml" title="Explainers citing '
        'Example Gazette (RSS)" href="/feeds/outlets/example-gazette/rss/">' in html
    )
    assert 'href="/feeds/outlets/example-gazette/atom/">' in html


def test_outlet_pages_are_in_the_sitemap_index(client, outlet, cited):
    assert "/sitemap-outlets.xml" in client.get("/sitemap.xml").content.decode()
    sitemap = client.get("/sitemap-outlets.xml").content.decode()
    assert "http://testserver/outlets/example-gazette/" in sitemap
    assert "<lastmod>" in sitemap


def test_outlet_page_structured_data(client, outlet, cited):
    data = json_ld(client.get("/outlets/example-gazette/").content.decode())
    assert data["NewsMediaOrganization"] == {
        "@context": "https://schema.org",
        "@type": "NewsMediaOrganization",
        "name": "Example Gazette",
        "url": "https://gazette.example.com/",
        "mainEntityOfPage": "http://127.0.0.1:8000/outlets/example-gazette/",
        "address": {"@type": "PostalAddress", "addressCountry": "GB"},
        "knowsLanguage": "en",
    }
    trail = data["BreadcrumbList"]["itemListElement"]
    assert [item["name"] for item in trail] == ["Home", "Example Gazette"]


def test_story_page_links_each_outlet_to_its_page_and_a_preview_does_not(
    client, outlet, cited, editor
):
    html = client.get(cited.get_absolute_url()).content.decode()
    assert (
        '<a class="outlet" href="/outlets/example-gazette/">Example Gazette</a>' in html
    )
    _, token = services.create_preview_link(story=cited, by=editor, hours=1)
    preview = client.get(f"/preview/{token}/").content.decode()
    assert '<strong class="outlet">Example Gazette</strong>' in preview
    assert "/outlets/example-gazette/" not in preview


def test_story_structured_data_cites_each_source(client, outlet, cited, editor):
    other = OutletFactory(name="Plain Post")
    cite(Story.objects.get(pk=cited.pk), other, summary="No link given.")
    services.publish_story(story=Story.objects.get(pk=cited.pk), by=editor)
    article = json_ld(client.get(cited.get_absolute_url()).content.decode())[
        "NewsArticle"
    ]
    assert article["citation"] == [
        {
            "@type": "NewsArticle",
            "url": "https://gazette.example.com/budget",
            "publisher": {
                "@type": "NewsMediaOrganization",
                "name": "Example Gazette",
                "url": "https://gazette.example.com/",
            },
        },
        {
            "@type": "CreativeWork",
            "publisher": {"@type": "NewsMediaOrganization", "name": "Plain Post"},
        },
    ]
    assert article["isBasedOn"] == ["https://gazette.example.com/budget"]
