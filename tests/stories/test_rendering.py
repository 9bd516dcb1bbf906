"""A published revision's article is rendered once per process; everything
that changes without a new revision is still rendered per request."""

import pytest
from django.template.backends.jinja2 import Template

from stories import rendering, services
from tests.entities.factories import EntityFactory
from tests.stories.factories import StoryFactory

pytestmark = pytest.mark.django_db

PARTS = "stories/includes/story_parts.html"


@pytest.fixture(autouse=True)
def no_page_cache(settings):
    settings.PAGE_CACHE_SECONDS = 0
    settings.ARTICLE_MEMO_ENTRIES = 50  # also empties the memo


@pytest.fixture(autouse=True)
def template_names(monkeypatch):
    """Names of the templates each request renders (Jinja2 sends no
    template_rendered signal for response.templates)."""
    names = []
    original_init = Template.__init__

    def recording(self, template, backend):
        names.append(template.name)
        original_init(self, template, backend)

    monkeypatch.setattr(Template, "__init__", recording)
    return names


@pytest.fixture
def rendered_templates(template_names):
    def get(client, story):
        template_names.clear()
        response = client.get(story.get_absolute_url())
        assert response.status_code == 200
        return list(template_names), response.content.decode()

    return get


def test_second_view_reuses_the_rendered_article(client, rendered_templates):
    story = StoryFactory(sections=3, headline="Memo headline", published=True)
    first, first_html = rendered_templates(client, story)
    second, second_html = rendered_templates(client, story)
    assert PARTS in first
    assert PARTS not in second
    assert "stories/story_detail.html" in second
    assert first_html == second_html


def test_a_new_revision_is_rendered_afresh(client, editor, rendered_templates):
    story = StoryFactory(summary="Old summary text.", published=True)
    rendered_templates(client, story)
    story.summary = "New summary text."
    story.save()
    services.publish_story(story=story, by=editor)
    story.refresh_from_db()
    templates, html = rendered_templates(client, story)
    assert PARTS in templates
    assert "New summary text." in html and "Old summary text." not in html


def test_corrections_show_without_a_new_revision(client, editor, rendered_templates):
    story = StoryFactory(published=True)
    rendered_templates(client, story)
    story.corrections.create(
        kind="correction", text="We misspelt a name.", revision=story.live_revision
    )
    _, html = rendered_templates(client, story)
    assert "We misspelt a name." in html


def test_zero_entries_renders_every_request(client, settings, rendered_templates):
    settings.ARTICLE_MEMO_ENTRIES = 0
    story = StoryFactory(published=True)
    rendered_templates(client, story)
    templates, _ = rendered_templates(client, story)
    assert PARTS in templates


def test_memo_keeps_only_the_most_recent_articles(client, settings, rendered_templates):
    settings.ARTICLE_MEMO_ENTRIES = 2
    stories = [StoryFactory(published=True) for _ in range(3)]
    for story in stories:
        rendered_templates(client, story)
    assert len(rendering._memo) == 2
    templates, _ = rendered_templates(client, stories[0])  # evicted first
    assert PARTS in templates


def test_a_preview_never_fills_the_memo_for_readers(client, editor):
    """A preview of the live revision links nowhere; readers opening the
    story afterwards must still get its topic and tag links."""
    story = StoryFactory(entities=[EntityFactory(name="Japan")], published=True)
    story.tags.add("defence")
    services.publish_story(story=story, by=editor)
    story.refresh_from_db()
    _, token = services.create_preview_link(story=story, by=editor, hours=1)
    preview = client.get(f"/preview/{token}/").content.decode()
    topic = story.live_revision.entities.first()
    assert topic.name in preview and topic.get_absolute_url() not in preview
    html = client.get(story.get_absolute_url()).content.decode()
    assert topic.get_absolute_url() in html and 'href="/tags/defence/"' in html
