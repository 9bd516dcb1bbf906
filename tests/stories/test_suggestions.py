"""Topics the text names are suggested; only an editor's click links one."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from entities.models import Entity
from stories import services, tasks
from stories.models import EntitySuggestion, Section, StoryEntity
from stories.suggestions import (
    accept_entity_suggestion,
    dismiss_entity_suggestion,
    refresh_entity_suggestions,
)
from tests.entities.factories import EntityFactory
from tests.stories.factories import StoryFactory

pytestmark = pytest.mark.django_db

TEXT = (
    "<p>Sanae Takaichi told Japan's parliament that Ana Ruiz of the Harbour "
    "Authority would visit. Ruiz met Takaichi in Osaka, and Ruiz praised "
    "the Harbour Authority.</p>"
)


@pytest.fixture
def takaichi():
    return EntityFactory(name="Sanae Takaichi", kind=Entity.Kind.PERSON)


@pytest.fixture
def japan():
    return EntityFactory(name="Japan", kind=Entity.Kind.PLACE)


@pytest.fixture
def story(reporter):
    story = StoryFactory(sections=0)
    story.authors.add(reporter)
    Section.objects.create(story=story, heading="Why it matters", body=TEXT)
    return story


@pytest.fixture
def outsider(django_user_model):
    """A journalist who is not an author of the story."""
    from django.contrib.auth.models import Group

    user = django_user_model.objects.create_user("outsider", is_staff=True)
    user.groups.add(Group.objects.get(name="Journalists"))
    return user


def pending(story):
    return {
        s.name: s
        for s in story.entity_suggestions.filter(status=EntitySuggestion.Status.PENDING)
    }


def test_known_and_new_topics_are_suggested_with_counts(story, takaichi, japan):
    refresh_entity_suggestions(story_id=story.pk)
    found = pending(story)
    assert found["Sanae Takaichi"].entity == takaichi
    assert found["Sanae Takaichi"].mentions == 2
    assert found["Japan"].entity == japan
    assert found["Ana Ruiz"].is_new and found["Ana Ruiz"].mentions == 3
    assert found["Harbour Authority"].kind == Entity.Kind.ORGANISATION


def test_suggestions_link_nothing_by_themselves(story, takaichi):
    refresh_entity_suggestions(story_id=story.pk)
    assert not StoryEntity.objects.filter(story=story).exists()


def test_topics_the_story_already_has_are_not_suggested(story, takaichi):
    StoryEntity.objects.create(story=story, entity=takaichi)
    refresh_entity_suggestions(story_id=story.pk)
    assert "Sanae Takaichi" not in pending(story)


def test_accepting_a_known_topic_links_it_last_as_a_new_version(
    story, reporter, takaichi, japan
):
    StoryEntity.objects.create(story=story, entity=japan, position=0)
    refresh_entity_suggestions(story_id=story.pk)
    version = story.version
    accept_entity_suggestion(
        suggestion_id=pending(story)["Sanae Takaichi"].pk,
        by=reporter,
        expected_version=version,
    )
    story.refresh_from_db()
    assert [e.name for e in story.entities.order_by("story_links__position")] == [
        "Japan",
        "Sanae Takaichi",
    ]
    assert story.version > version
    assert story.revisions.latest().content["entities"][-1]["name"] == "Sanae Takaichi"


def test_accepting_a_new_name_creates_a_topic_for_review(story, reporter):
    refresh_entity_suggestions(story_id=story.pk)
    accept_entity_suggestion(suggestion_id=pending(story)["Ana Ruiz"].pk, by=reporter)
    ruiz = Entity.objects.get(name="Ana Ruiz")
    assert ruiz.needs_review and ruiz.kind == Entity.Kind.PERSON
    assert story.entities.filter(pk=ruiz.pk).exists()


def test_accepting_over_an_unseen_edit_is_refused(story, reporter, takaichi):
    refresh_entity_suggestions(story_id=story.pk)
    seen = story.version
    locked = services.lock_story(story_id=story.pk)
    services.record_save(story=locked, by=reporter)  # someone else saves
    with pytest.raises(services.EditConflict):
        accept_entity_suggestion(
            suggestion_id=pending(story)["Sanae Takaichi"].pk,
            by=reporter,
            expected_version=seen,
        )
    assert not story.entities.exists()


def test_dismissed_topics_stay_dismissed_when_the_text_is_read_again(
    story, reporter, takaichi
):
    refresh_entity_suggestions(story_id=story.pk)
    dismiss_entity_suggestion(
        suggestion_id=pending(story)["Sanae Takaichi"].pk, by=reporter
    )
    refresh_entity_suggestions(story_id=story.pk)
    assert "Sanae Takaichi" not in pending(story)
    assert story.entity_suggestions.get(name="Sanae Takaichi").status == "dismissed"


def test_suggestions_the_text_no_longer_supports_go(story, takaichi):
    refresh_entity_suggestions(story_id=story.pk)
    Section.objects.filter(story=story).update(body="<p>Nothing to see.</p>")
    refresh_entity_suggestions(story_id=story.pk)
    assert pending(story) == {}


def test_only_someone_who_may_edit_the_story_decides(story, takaichi, outsider):
    refresh_entity_suggestions(story_id=story.pk)
    suggestion = pending(story)["Sanae Takaichi"]
    with pytest.raises(PermissionDenied):
        accept_entity_suggestion(suggestion_id=suggestion.pk, by=outsider)
    with pytest.raises(PermissionDenied):
        dismiss_entity_suggestion(suggestion_id=suggestion.pk, by=outsider)


def test_saving_a_story_queues_the_reading_after_commit(
    story, reporter, monkeypatch, django_capture_on_commit_callbacks
):
    queued = []
    monkeypatch.setattr(tasks.suggest_entities_task, "delay", queued.append)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.record_save(story=story, by=reporter)
        assert queued == []
    for callback in callbacks:
        callback()
    assert queued == [story.pk]


def test_the_task_reads_the_story_and_ignores_a_deleted_one(story, takaichi):
    assert tasks.suggest_entities_task.run(story.pk) >= 1
    assert tasks.suggest_entities_task.run(story.pk + 1000) == 0


def test_change_page_shows_suggestions_and_their_page_decides(
    client, story, reporter, takaichi
):
    refresh_entity_suggestions(story_id=story.pk)
    client.force_login(reporter)
    change = client.get(reverse("admin:stories_story_change", args=[story.pk]))
    assert "Suggested topics" in change.content.decode()
    assert "Sanae Takaichi" in change.content.decode()
    page = reverse("admin:stories_story_suggestions", args=[story.pk])
    suggestion = pending(story)["Sanae Takaichi"]
    response = client.post(
        page,
        {"suggestion": suggestion.pk, "decision": "accept", "version": story.version},
    )
    assert response.status_code == 302
    assert story.entities.filter(pk=takaichi.pk).exists()


def test_suggestion_page_refuses_a_journalist_who_is_not_an_author(
    client, story, takaichi, outsider
):
    refresh_entity_suggestions(story_id=story.pk)
    client.force_login(outsider)
    page = reverse("admin:stories_story_suggestions", args=[story.pk])
    suggestion = pending(story)["Sanae Takaichi"]
    response = client.post(page, {"suggestion": suggestion.pk, "decision": "accept"})
    assert response.status_code == 403
    assert not story.entities.exists()


def test_a_stale_accept_from_the_page_says_so_and_links_nothing(
    client, story, reporter, takaichi
):
    refresh_entity_suggestions(story_id=story.pk)
    client.force_login(reporter)
    page = reverse("admin:stories_story_suggestions", args=[story.pk])
    suggestion = pending(story)["Sanae Takaichi"]
    response = client.post(
        page,
        {"suggestion": suggestion.pk, "decision": "accept", "version": 0},
        follow=True,
    )
    assert "the story changed" in response.content.decode()
    assert not story.entities.exists()


def test_a_decided_suggestion_cannot_be_decided_again(story, reporter, takaichi):
    from stories.suggestions import AlreadyDecided

    refresh_entity_suggestions(story_id=story.pk)
    suggestion = pending(story)["Sanae Takaichi"]
    dismiss_entity_suggestion(suggestion_id=suggestion.pk, by=reporter)
    with pytest.raises(AlreadyDecided):
        accept_entity_suggestion(suggestion_id=suggestion.pk, by=reporter)
    assert not story.entities.exists()


def test_a_name_dismissed_before_it_was_an_entity_stays_dismissed(story, reporter):
    refresh_entity_suggestions(story_id=story.pk)
    dismiss_entity_suggestion(suggestion_id=pending(story)["Ana Ruiz"].pk, by=reporter)
    EntityFactory(name="Ana Ruiz")
    refresh_entity_suggestions(story_id=story.pk)
    assert "Ana Ruiz" not in pending(story)


def test_names_too_long_for_a_topic_are_not_suggested(story):
    long_name = "Zq" + "x" * 120 + " Yq" + "y" * 120
    Section.objects.filter(story=story).update(
        body=f"<p>Then {long_name} spoke. Later {long_name} left.</p>"
    )
    refresh_entity_suggestions(story_id=story.pk)
    assert not story.entity_suggestions.filter(name__startswith="Zq").exists()


def test_accepting_from_the_page_needs_the_version_it_showed(
    client, story, reporter, takaichi
):
    refresh_entity_suggestions(story_id=story.pk)
    client.force_login(reporter)
    page = reverse("admin:stories_story_suggestions", args=[story.pk])
    suggestion = pending(story)["Sanae Takaichi"]
    client.post(page, {"suggestion": suggestion.pk, "decision": "accept"})
    assert not story.entities.exists()


def test_names_an_entity_matched_are_not_read_again_as_new(story, takaichi):
    from stories.suggestions import read_story

    counts, new_names = read_story(story)
    assert counts[takaichi.pk] == 2
    assert "Ana Ruiz" in {c.name for c in new_names}
    assert not {c.name for c in new_names} & {"Sanae Takaichi", "Takaichi"}
