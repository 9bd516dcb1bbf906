"""What keeps reader pages' cost flat as the archive grows: bounded search
over live revisions only, bounded counting for pagination, remembered
cards."""

import pytest
from django.db import DatabaseError, connection

from stories import listings, search, services
from stories.models import Story, StoryRevision
from tests.entities.factories import EntityFactory
from tests.stories.factories import StoryFactory

pytestmark = pytest.mark.django_db
on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL's full-text search"
)


@on_postgresql
def test_only_live_revisions_keep_a_search_vector(editor):
    story = StoryFactory(headline="Tariff talks resume", published=True)
    first = story.live_revision_id
    services.publish_story(
        story=Story.objects.get(pk=story.pk),
        by=editor,
        correction_kind="update",
        correction_text="Updated with the new figures.",
    )
    story.refresh_from_db()
    with_vector = StoryRevision.objects.filter(search_vector__isnull=False)
    assert list(with_vector.values_list("pk", flat=True)) == [story.live_revision_id]
    assert story.live_revision_id != first
    services.unpublish_story(story=story, by=editor, reason="Legal advice.")
    assert not with_vector.exists()


@on_postgresql
def test_search_vectors_are_kept_in_the_revision_row():
    """MAIN storage: the scan that finds a candidate holds its vector, where
    the default EXTENDED put every live vector (about 4 kB, incompressible)
    in the TOAST table, read twice per candidate."""
    assert _storage("search_vector") == "m"


@on_postgresql
@pytest.mark.parametrize(
    "column", ["search_headline", "search_summary", "note", "search_snippet"]
)
def test_a_live_revision_keeps_its_short_text_in_its_row(column):
    """Next to a 4 kB vector, PostgreSQL moves EXTENDED values out of line
    however short they are: every card would read its headline and summary
    from TOAST."""
    assert _storage(column) == "m"


@on_postgresql
def test_a_live_revision_keeps_the_text_its_snippet_is_cut_from(editor):
    background = f"<p>{'A long history. ' * 100}</p>"
    story = StoryFactory(summary="Tariffs rise.", background=background, published=True)
    first = StoryRevision.objects.get(pk=story.live_revision_id)
    assert first.search_snippet == f"Tariffs rise. {first.search_body[:1000]}"
    assert len(first.search_body) > 1000
    services.publish_story(story=Story.objects.get(pk=story.pk), by=editor)
    first.refresh_from_db()
    # Only live revisions are searched: a superseded one drops its vector and
    # with it the snippet's text.
    assert first.search_snippet is None


def _storage(column):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attstorage FROM pg_attribute WHERE attname = %s "
            "AND attrelid = 'stories_storyrevision'::regclass",
            [column],
        )
        return cursor.fetchone()[0]


@on_postgresql
def test_a_withdrawn_story_is_not_found_by_its_old_words(client, editor):
    story = StoryFactory(headline="Walrus census published", published=True)
    assert "Walrus census" in client.get("/search/", {"q": "walrus"}).content.decode()
    services.unpublish_story(story=story, by=editor, reason="Wrong figures.")
    html = client.get("/search/", {"q": "walrus"}).content.decode()
    assert "Walrus census" not in html and "Nothing matched" in html


@on_postgresql
def test_a_draft_whose_revisions_were_indexed_is_not_found(client, editor):
    """A vector left on a draft's revision is still not a result: search
    starts from Story.objects.published()."""
    draft = StoryFactory(headline="Narwhal numbers fall")
    services.record_save(story=draft, by=editor)
    StoryRevision.objects.filter(story=draft).update(
        search_vector=search.SearchVector("search_headline")
    )
    StoryRevision.objects.filter(story=draft).update(search_headline="Narwhal")
    assert (
        "Nothing matched" in client.get("/search/", {"q": "narwhal"}).content.decode()
    )


@on_postgresql
def test_search_ranks_only_the_newest_matches_and_says_so(
    client, monkeypatch, django_assert_max_num_queries
):
    monkeypatch.setattr(search, "SEARCH_CANDIDATES", 3)
    oldest = StoryFactory(headline="Glacier glacier glacier melt", published=True)
    newer = [
        StoryFactory(headline=f"Report {n}", summary="A glacier moved.", published=True)
        for n in range(4)
    ]
    # one page of the ranked candidates, counted in the same pass (and
    # PREPARE on the connection's first visit)
    with django_assert_max_num_queries(2):
        html = client.get("/search/", {"q": "glacier"}).content.decode()
    # The oldest match ranks best but is not among the newest three.
    assert oldest.headline not in html
    assert all(story.headline in html for story in newer[1:])
    assert newer[0].headline not in html
    assert "3 or more results" in html


def test_search_counts_every_match_on_every_page(client):
    for n in range(22):
        StoryFactory(headline=f"Glacier report {n}", published=True)
    StoryFactory(headline="Glacier draft")
    first = client.get("/search/", {"q": "glacier"}).content.decode()
    second = client.get("/search/", {"q": "glacier", "page": 2}).content.decode()
    assert "22 results" in first and "22 results" in second
    assert second.count('class="snippet"') == 2 and "Glacier draft" not in second
    assert client.get("/search/", {"q": "glacier", "page": 3}).status_code == 404


@on_postgresql
def test_search_ranks_headline_over_summary_among_candidates(client):
    StoryFactory(
        headline="Weekly budget notes", summary="About ferries.", published=True
    )
    StoryFactory(headline="Ferries return", summary="Timetables.", published=True)
    html = client.get("/search/", {"q": "ferries"}).content.decode()
    assert html.index("Ferries return") < html.index("Weekly budget notes")
    assert "2 results for" in html


def test_pagination_counts_only_so_far_past_the_page(client, monkeypatch):
    monkeypatch.setattr(listings, "COUNT_LIMIT", 25)
    monkeypatch.setattr(listings, "STORIES_PER_PAGE", 10)
    StoryFactory.create_batch(41, published=True)
    html = client.get("/").content.decode()
    assert "Page 1 of more than 3" in html and 'rel="next"' in html
    html = client.get("/?page=3").content.decode()
    # 20 before the page and 21 from it on: within the limit, so exact.
    assert "Page 3 of 5" in html
    assert client.get("/?page=5").status_code == 200
    assert client.get("/?page=6").status_code == 404


@pytest.mark.parametrize(
    "page", ["0", "-1", "two", "1.5", "01", "+1", " 1", "501", "9" * 30]
)
def test_a_page_that_is_not_a_positive_number_is_404(client, page):
    StoryFactory(published=True)
    assert client.get("/", {"page": page}).status_code == 404
    assert client.get("/tags/defence/", {"page": page}).status_code == 404


def test_the_deepest_page_offers_no_older_link(client, monkeypatch):
    monkeypatch.setattr(listings, "MAX_PAGE_NUMBER", 2)
    for _ in range(45):
        StoryFactory(published=True)
    assert 'rel="next"' in client.get("/").content.decode()
    assert 'rel="next"' not in client.get("/?page=2").content.decode()
    assert client.get("/?page=3").status_code == 404


def test_an_archive_past_the_last_representable_date_is_404(client):
    assert client.get("/archive/9999/").status_code == 404
    assert client.get("/archive/9999/12/").status_code == 404


def test_a_search_with_a_nul_character_still_answers(client):
    StoryFactory(published=True, headline="Defence spending")
    assert client.get("/search/", {"q": "Defence\x00"}).status_code == 200


def test_a_remembered_card_shows_the_republished_headline(client, editor):
    topic = EntityFactory()
    story = StoryFactory(headline="First headline", entities=[topic], published=True)
    assert "First headline" in client.get(topic.get_absolute_url()).content.decode()
    Story.objects.filter(pk=story.pk).update(headline="Second headline")
    services.publish_story(story=Story.objects.get(pk=story.pk), by=editor)
    html = client.get(topic.get_absolute_url()).content.decode()
    assert "Second headline" in html and "First headline" not in html


def test_topic_tag_and_feed_pages_read_the_live_topic_index(
    client, django_assert_max_num_queries
):
    topic = EntityFactory()
    StoryFactory.create_batch(25, entities=[topic], published=True)
    client.get(topic.get_absolute_url())  # prepares the statements
    client.get(f"/feeds/topics/{topic.slug}/rss/")
    # the topic with its FAQs (read apart but on PostgreSQL), a page of its
    # stories with their bounded count
    with django_assert_max_num_queries(2 if connection.vendor == "postgresql" else 3):
        html = client.get(topic.get_absolute_url()).content.decode()
    assert html.count('class="story-card"') == 20
    # the topic, its stories with authors and tags
    with django_assert_max_num_queries(2):
        assert client.get(f"/feeds/topics/{topic.slug}/rss/").status_code == 200


def test_every_story_about_a_topic_is_reachable_page_by_page(client):
    """A topic page showed only its newest 50 stories: older ones about a
    busy topic could be found by search alone."""
    topic = EntityFactory()
    stories = StoryFactory.create_batch(25, entities=[topic], published=True)
    url = topic.get_absolute_url()
    first = client.get(url).content.decode()
    second = client.get(url, {"page": 2}).content.decode()
    assert 'rel="next" href="?page=2"' in first and "Page 1 of 2" in first
    assert 'rel="prev" href="?page=1"' in second
    assert f'<link rel="canonical" href="http://testserver{url}?page=2">' in second
    shown = first.count('class="story-card"'), second.count('class="story-card"')
    assert shown == (20, 5)
    assert all(story.get_absolute_url() in first + second for story in stories)
    assert client.get(url, {"page": 3}).status_code == 404


def prepared_plans(name):
    """(custom, generic) plans the session's statement named name* ran."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT custom_plans, generic_plans FROM pg_prepared_statements "
            "WHERE name ~ %s",
            [f"^newsroom_{name}_[0-9a-f]{{16}}$"],
        )
        return cursor.fetchone()


@on_postgresql
def test_topic_pages_run_one_generic_plan_instead_of_planning_per_topic(client):
    """PostgreSQL kept planning the topic statement for each topic (1 ms of
    planning for 0.2 ms of work at 100k stories), as keys' row counts differ
    so widely."""
    busy, quiet = EntityFactory(), EntityFactory()
    StoryFactory.create_batch(12, entities=[busy], published=True)
    StoryFactory(entities=[quiet], published=True)
    for _ in range(4):
        for topic in (busy, quiet):
            assert client.get(topic.get_absolute_url()).status_code == 200
    assert prepared_plans("live_topic_page") == (0, 8)
    with connection.cursor() as cursor:  # not left set for other statements
        cursor.execute("SHOW plan_cache_mode")
        assert cursor.fetchone() == ("auto",)
    # The home page's first page has its offset written in: one plan. Its
    # other pages are planned for their offset: a generic plan that does
    # not know it would sort the whole listing.
    StoryFactory.create_batch(20, published=True)
    for _ in range(3):
        client.get("/")
        client.get("/?page=2")
    assert prepared_plans("home_first") == (0, 3)
    custom, generic = prepared_plans("home")
    assert custom >= 1


@on_postgresql
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_failed_generic_plan_statement_leaves_the_session_as_it_was(client):
    topic = EntityFactory()
    StoryFactory(entities=[topic], published=True)
    assert client.get(topic.get_absolute_url()).status_code == 200
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")  # as a pooler's session reset does
        # Its EXECUTE fails after the SET: both are rolled back together.
        with pytest.raises(DatabaseError):
            listings._ON_LIVE_TOPIC._execute(cursor, ("tag:x", 0), retry=False)
        cursor.execute("SHOW plan_cache_mode")
        assert cursor.fetchone() == ("auto",)
    # The page prepares it again and runs.
    assert client.get(topic.get_absolute_url()).status_code == 200
