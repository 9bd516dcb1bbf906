import pytest
from django.core.exceptions import PermissionDenied

from stories import services, tasks
from stories.models import Story, StoryRevision
from tests.entities.factories import EntityFactory
from tests.stories.factories import FAQFactory, StoryFactory

pytestmark = pytest.mark.django_db


def test_publish_freezes_every_part_into_a_revision(editor):
    entity = EntityFactory()
    faq = FAQFactory()
    story = StoryFactory(sections=2, sources=2, entities=[entity], faqs=[faq])
    story.tags.add("defence")
    story.authors.add(editor)

    revision = services.publish_story(story=story, by=editor)

    story.refresh_from_db()
    assert story.is_live and story.live_revision == revision
    assert story.first_published_at == story.last_published_at
    content = revision.content
    assert [s["heading"] for s in content["sections"]] == ["Angle 1", "Angle 2"]
    assert len(content["source_summaries"]) == 2
    assert [e["name"] for e in content["entities"]] == [entity.name]
    assert [f["question"] for f in content["faqs"]] == [faq.question]
    assert content["tags"] == [{"name": "defence", "slug": "defence"}]
    assert content["authors"][0]["username"] == "editor"
    assert list(revision.entities.all()) == [entity]


def test_editing_a_live_story_changes_nothing_for_readers_until_republished(editor):
    story = StoryFactory(published=True)
    story.headline = "A rewritten headline"
    story.save()
    section = story.sections.first()
    section.heading = "A rewritten section"
    section.save()

    assert story.live_revision.content["headline"] != "A rewritten headline"
    services.publish_story(story=story, by=editor)
    story.refresh_from_db()
    assert story.live_revision.content["headline"] == "A rewritten headline"
    assert (
        story.live_revision.content["sections"][0]["heading"] == "A rewritten section"
    )
    assert story.revisions.count() == 2


def test_republishing_keeps_first_publication_time(editor):
    story = StoryFactory(published=True)
    first = story.first_published_at
    services.publish_story(story=story, by=editor)
    story.refresh_from_db()
    assert story.first_published_at == first
    assert story.last_published_at >= first
    assert story.revisions.count() == 2


def test_revisions_cannot_be_changed_once_written(editor):
    revision = StoryFactory(published=True).live_revision
    with pytest.raises(ValueError):
        revision.save()


def test_journalist_may_not_publish_or_unpublish(reporter):
    story = StoryFactory(published=True)
    story.authors.add(reporter)
    with pytest.raises(PermissionDenied):
        services.publish_story(story=story, by=reporter)
    with pytest.raises(PermissionDenied):
        services.unpublish_story(story=story, by=reporter, reason="Because")
    story.refresh_from_db()
    assert story.is_live


def test_publishing_an_incomplete_story_says_what_is_missing(editor):
    story = StoryFactory(summary="", sections=0)
    with pytest.raises(services.StoryNotReady) as caught:
        services.publish_story(story=story, by=editor)
    assert any("summary" in m for m in caught.value.messages)
    assert any("section" in m for m in caught.value.messages)
    assert not StoryRevision.objects.filter(kind=StoryRevision.Kind.PUBLISH).exists()


def test_unpublish_takes_the_story_off_and_keeps_its_revisions(editor):
    story = StoryFactory(published=True)
    services.unpublish_story(story=story, by=editor, reason="Legal advice")
    story.refresh_from_db()
    assert story.status == Story.Status.UNPUBLISHED
    assert story.is_withdrawn
    assert not Story.objects.published().filter(pk=story.pk).exists()
    assert story.revisions.count() == 1
    assert story.transitions.first().comment == "Legal advice"


def test_workflow_moves_are_emailed_only_after_commit(
    editor, monkeypatch, django_capture_on_commit_callbacks
):
    sent = []
    monkeypatch.setattr(tasks.notify_transition_task, "delay", sent.append)
    story = StoryFactory()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.publish_story(story=story, by=editor)
        assert sent == []
    for callback in callbacks:
        callback()
    assert sent == list(story.transitions.order_by("id").values_list("pk", flat=True))
    assert len(sent) == 2  # approve, publish


def test_a_broker_outage_does_not_undo_a_publication(
    editor, monkeypatch, django_capture_on_commit_callbacks
):
    def broker_down(*args):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(tasks.notify_transition_task, "delay", broker_down)
    story = StoryFactory()
    with django_capture_on_commit_callbacks(execute=True):
        services.publish_story(story=story, by=editor)
    story.refresh_from_db()
    assert story.is_live


def test_publication_email_reaches_the_authors_once(editor, reporter, mailoutbox):
    story = StoryFactory()
    story.authors.add(reporter)
    services.publish_story(story=story, by=editor)
    publish = story.transitions.get(action="publish")
    assert tasks.notify_transition_task(publish.pk) == 1
    assert tasks.notify_transition_task(publish.pk) == 0
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["reporter@example.com"]
