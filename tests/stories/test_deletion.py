"""Deleting what published stories show is refused, naming the stories."""

import pytest

from entities.models import Entity
from stories.models import FAQ, Outlet
from tests.entities.factories import EntityFactory
from tests.stories.factories import FAQFactory, StoryFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_as_editor(client, editor):
    client.force_login(editor)
    return client


def test_deleting_a_topic_a_published_story_shows_is_refused(
    admin_client_as_editor, editor
):
    japan = EntityFactory(name="Japan")
    story = StoryFactory(headline="Live about Japan", entities=[japan], published=True)
    # Unlinked from the working copy, still in what readers see.
    story.storyentity_set.all().delete()
    url = f"/admin/entities/entity/{japan.pk}/delete/"
    page = admin_client_as_editor.get(url).content.decode()
    assert "Live about Japan" in page
    admin_client_as_editor.post(url, {"post": "yes"})
    assert Entity.objects.filter(pk=japan.pk).exists()


def test_deleting_an_faq_a_published_story_shows_is_refused(admin_client_as_editor):
    faq = FAQFactory(question="Why now?")
    StoryFactory(headline="Live with a question", faqs=[faq], published=True)
    url = f"/admin/stories/faq/{faq.pk}/delete/"
    assert "Live with a question" in admin_client_as_editor.get(url).content.decode()
    admin_client_as_editor.post(url, {"post": "yes"})
    assert FAQ.objects.filter(pk=faq.pk).exists()


def test_deleting_an_outlet_a_published_story_quotes_is_refused(admin_client_as_editor):
    story = StoryFactory(headline="Live with sources", sources=1, published=True)
    outlet = story.source_summaries.get().outlet
    url = f"/admin/stories/outlet/{outlet.pk}/delete/"
    assert "Live with sources" in admin_client_as_editor.get(url).content.decode()
    admin_client_as_editor.post(url, {"post": "yes"})
    assert Outlet.objects.filter(pk=outlet.pk).exists()


def test_an_unused_topic_can_be_deleted(admin_client_as_editor):
    lonely = EntityFactory(name="Unused topic")
    admin_client_as_editor.post(
        f"/admin/entities/entity/{lonely.pk}/delete/", {"post": "yes"}
    )
    assert not Entity.objects.filter(pk=lonely.pk).exists()
