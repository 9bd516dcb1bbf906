import re
import weakref

import pytest
from django.db import DatabaseError, connection, transaction

from stories import services, story_page
from stories.models import Story
from tests.entities.factories import EntityFactory
from tests.stories.factories import FAQFactory, StoryFactory

pytestmark = pytest.mark.django_db
# The story page's one prepared statement is PostgreSQL's.
on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="one statement on PostgreSQL only"
)

FORMAT_HEADINGS = [
    "What’s happened",
    "What’s behind the headline?",
    "What the papers say",
    "How we got here",
    "Go deeper",
    "More on these topics",
]


def h2s(html):
    return re.findall(r"<h2[^>]*>(.*?)</h2>", html)


def test_story_page_shows_every_part_in_the_formats_order(client):
    story = StoryFactory(
        sections=2,
        sources=1,
        entities=[EntityFactory(name="Japan")],
        faqs=[FAQFactory(question="Why now?")],
        published=True,
    )
    response = client.get(story.get_absolute_url())
    html = response.content.decode()
    assert response.status_code == 200
    assert h2s(html)[: len(FORMAT_HEADINGS)] == FORMAT_HEADINGS
    assert '<h3 id="analysis-1">Angle 1</h3>' in html
    assert "Daily Example" in html and "Why now?" in html and ">Japan</a>" in html
    assert f'<meta name="description" content="{story.summary}">' in html
    assert f'<meta property="og:description" content="{story.summary}">' in html


def test_story_page_omits_empty_parts(client):
    story = StoryFactory(papers_overview="", background="", published=True)
    headings = h2s(client.get(story.get_absolute_url()).content.decode())
    assert "What the papers say" not in headings
    assert "How we got here" not in headings
    assert "Go deeper" not in headings
    assert "More on these topics" not in headings


def test_readers_see_the_published_revision_not_later_edits(client):
    story = StoryFactory(headline="As published", published=True)
    story.headline = "Unpublished rewrite"
    story.save()
    html = client.get(story.get_absolute_url()).content.decode()
    assert "As published" in html
    assert "Unpublished rewrite" not in html


def test_drafts_answer_404_to_readers(client):
    story = StoryFactory()
    assert client.get(story.get_absolute_url()).status_code == 404


def test_withdrawn_story_answers_410_with_a_notice_not_the_text(client, editor):
    story = StoryFactory(headline="Soon withdrawn", published=True)
    services.unpublish_story(story=story, by=editor, reason="Legal")
    response = client.get(story.get_absolute_url())
    html = response.content.decode()
    assert response.status_code == 410
    assert "This story has been withdrawn" in html
    assert "Soon withdrawn" not in html and "Analysis 1" not in html


def test_plain_text_is_escaped_on_the_page(client):
    story = StoryFactory(headline='<img src=x onerror="alert(1)">', published=True)
    html = client.get(story.get_absolute_url()).content.decode()
    assert "<img src=x" not in html
    assert "&lt;img src=x" in html


def test_story_page_query_count_is_flat(client, django_assert_max_num_queries):
    entities = EntityFactory.create_batch(20)
    faqs = FAQFactory.create_batch(3)
    related = [StoryFactory(entities=entities[:1], published=True) for _ in range(6)]
    story = StoryFactory(
        sections=30, sources=12, entities=entities, faqs=faqs, published=True
    )
    for n in range(3):
        story.corrections.create(
            kind="update", text=f"Update {n}.", revision=story.live_revision
        )
    # story with its live revision, its corrections, related stories
    with django_assert_max_num_queries(3):
        response = client.get(story.get_absolute_url())
    html = response.content.decode()
    assert html.count('class="entity-card"') == 20
    assert html.count('class="story-card"') == 4 and "Update 2." in html
    assert related[-1].get_absolute_url() in html
    # Citations in the JSON-LD come from the revision already read.
    assert html.count('"@type": "CreativeWork"') == 12


@on_postgresql
def test_story_page_reads_everything_in_one_statement_on_postgresql(
    client, editor, django_assert_num_queries
):
    topic = EntityFactory()
    older = StoryFactory(
        headline="An older explainer", entities=[topic], published=True
    )
    story = StoryFactory(entities=[topic], sources=2, published=True)
    services.publish_story(
        story=Story.objects.get(pk=story.pk),
        by=editor,
        correction_kind="correction",
        correction_text="An earlier version misnamed the minister.",
    )
    # A connection's first story page also prepares the statement (tested
    # below); every later one runs just it.
    client.get(older.get_absolute_url())
    with django_assert_num_queries(1):
        html = client.get(story.get_absolute_url()).content.decode()
    assert "An earlier version misnamed the minister." in html
    assert f'href="{older.get_absolute_url()}"' in html
    assert html.count('"@type": "CreativeWork"') == 2


@on_postgresql
def test_story_page_prepares_its_statement_once_per_connection(
    client, django_assert_num_queries, monkeypatch
):
    story = StoryFactory(published=True)
    other = StoryFactory(published=True)
    monkeypatch.setattr(story_page, "_prepared_on", weakref.WeakSet())
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    with django_assert_num_queries(2) as queries:
        assert client.get(story.get_absolute_url()).status_code == 200
    assert queries.captured_queries[0]["sql"].startswith("PREPARE ")
    assert queries.captured_queries[1]["sql"].startswith("EXECUTE ")
    with django_assert_num_queries(1):
        html = client.get(other.get_absolute_url()).content.decode()
    assert f"<h1>{other.headline}</h1>" in html
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements")
        assert cursor.fetchone() == (1,)


@on_postgresql
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_story_page_prepares_again_after_a_migration_changes_a_column(client):
    story = StoryFactory(published=True)
    _assert_shows(client.get(story.get_absolute_url()), story)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute"
            " WHERE attrelid = 'stories_story'::regclass AND attname = 'status'"
        )
        (original,) = cursor.fetchone()
        # The statement's plan now returns a column of another type.
        cursor.execute("ALTER TABLE stories_story ALTER COLUMN status TYPE text")
    try:
        # Inside a transaction the error stands...
        with pytest.raises(DatabaseError), transaction.atomic():
            client.get(story.get_absolute_url())
        # ...and the next request replaces the stale statement.
        _assert_shows(client.get(story.get_absolute_url()), story)
    finally:
        with connection.cursor() as cursor:
            cursor.execute(
                f"ALTER TABLE stories_story ALTER COLUMN status TYPE {original}"
            )


@on_postgresql
def test_story_page_inside_a_transaction_leaves_a_lost_statement_an_error(client):
    story = StoryFactory(published=True)
    client.get(story.get_absolute_url())
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    # The failed EXECUTE aborted the transaction: nothing can run after it.
    with pytest.raises(DatabaseError):
        client.get(story.get_absolute_url())
    # The next transaction on this connection prepares it again.
    transaction.set_rollback(True)
    assert connection.connection not in story_page._prepared_on


def _deallocate_all(monkeypatch):
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")  # as a pooler's session reset does


def _forget_preparing(monkeypatch):
    # The session has it, prepared by another process through a pooler.
    monkeypatch.setattr(story_page, "_prepared_on", weakref.WeakSet())


def _assert_shows(response, story):
    assert response.status_code == 200
    assert f"<h1>{story.headline}</h1>" in response.content.decode()


@on_postgresql
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("unlike_this_process", [_deallocate_all, _forget_preparing])
def test_story_page_prepares_afresh_where_the_session_is_not_as_remembered(
    client, monkeypatch, unlike_this_process
):
    story = StoryFactory(published=True)
    _assert_shows(client.get(story.get_absolute_url()), story)
    unlike_this_process(monkeypatch)
    _assert_shows(client.get(story.get_absolute_url()), story)


@on_postgresql
def test_story_page_statement_freezes_no_moment_in_time():
    """It is compiled once per process: a time among its parameters (an
    embargo checked against now, say) would stay at its first request's."""
    from datetime import date, datetime

    from stories.story_page import _statement

    _, params = _statement()
    assert not [p for p in params if isinstance(p, date | datetime)]


def test_home_lists_only_published_stories_newest_first(client):
    older = StoryFactory(headline="Older story", published=True)
    newer = StoryFactory(headline="Newer story", published=True)
    StoryFactory(headline="Draft story")
    html = client.get("/").content.decode()
    assert html.index(newer.headline) < html.index(older.headline)
    assert "Draft story" not in html


def test_home_query_count_is_flat(client, django_assert_max_num_queries):
    for _ in range(30):
        StoryFactory(published=True)
    client.get("/")  # a connection's first visit also prepares the statement
    # one page of stories with their revisions, the paginator's bounded
    # count and the topics' version; the most active topics by id
    with django_assert_max_num_queries(2):
        assert client.get("/").status_code == 200


def test_entity_page_lists_its_published_stories_only(client):
    entity = EntityFactory(name="Sanae Takaichi")
    StoryFactory(headline="Live one", entities=[entity], published=True)
    StoryFactory(headline="Draft one", entities=[entity])
    html = client.get(entity.get_absolute_url()).content.decode()
    assert "Live one" in html and "Draft one" not in html


def test_entity_only_in_drafts_has_no_public_page(client):
    entity = EntityFactory()
    StoryFactory(entities=[entity])
    assert client.get(entity.get_absolute_url()).status_code == 404


def test_entity_page_query_count_is_flat(client, django_assert_max_num_queries):
    entity = EntityFactory()
    for _ in range(15):
        StoryFactory(entities=[entity], published=True)
    client.get(entity.get_absolute_url())  # prepares the statement
    # entity, its stories with revisions, its FAQs
    with django_assert_max_num_queries(3):
        assert client.get(entity.get_absolute_url()).status_code == 200


def test_faq_page_shows_question_answer_and_live_stories(
    client, django_assert_max_num_queries
):
    faq = FAQFactory(question="What happens next?")
    StoryFactory(headline="Answering story", faqs=[faq], published=True)
    StoryFactory(headline="Secret draft", faqs=[faq])
    client.get(faq.get_absolute_url())  # prepares the statement
    # FAQ, its live stories
    with django_assert_max_num_queries(2):
        html = client.get(faq.get_absolute_url()).content.decode()
    assert "What happens next?" in html and "Answering story" in html
    assert "Secret draft" not in html


def test_faq_only_in_drafts_has_no_public_page(client):
    faq = FAQFactory()
    StoryFactory(faqs=[faq])
    assert client.get(faq.get_absolute_url()).status_code == 404


def test_hero_image_is_served_in_responsive_modern_formats(
    client, editor, settings, tmp_path
):
    from django.core.files.storage import default_storage

    from tests.images import png_upload

    upload = png_upload("hero.png", size=(1000, 500))
    name = default_storage.save("heroes/hero.png", upload)
    story = StoryFactory(hero_image=name, hero_image_alt="A harbour at dawn")
    services.publish_story(story=story, by=editor)
    html = client.get(story.get_absolute_url()).content.decode()
    assert '<source type="image/avif"' in html and '<source type="image/webp"' in html
    assert "hero-480w.webp 480w" in html and "hero-1000w.webp 1000w" in html
    assert 'width="1000" height="500" alt="A harbour at dawn"' in html
    assert default_storage.exists("heroes/hero-800w.avif")
