"""Revisions, diffs, restore, no lost edits, autosave, presence."""

import pytest
from django.urls import reverse

from stories import services, tasks
from stories.models import AutosaveDraft, Correction, Story, StoryRevision
from tests.admin_forms import form_data
from tests.stories.factories import StoryFactory

pytestmark = pytest.mark.django_db


def change_url(story):
    return reverse("admin:stories_story_change", args=[story.pk])


def save_via_admin(client, story, **changes):
    data = form_data(client.get(change_url(story)))
    data.update(changes)
    return client.post(change_url(story), data)


@pytest.fixture
def story(reporter):
    story = StoryFactory(headline="Original headline", sections=2)
    story.authors.add(reporter)
    return story


def test_every_admin_save_records_a_revision_of_the_whole_story(
    client, reporter, story
):
    client.force_login(reporter)
    save_via_admin(client, story, headline="Second headline", tags="defence")
    revision = story.revisions.get()
    assert revision.created_by == reporter
    assert revision.content["headline"] == "Second headline"
    assert [s["heading"] for s in revision.content["sections"]] == [
        "Angle 1",
        "Angle 2",
    ]
    assert revision.content["tags"] == [{"name": "defence", "slug": "defence"}]


def test_drafts_save_incomplete(client, reporter, story):
    client.force_login(reporter)
    response = save_via_admin(client, story, headline="", summary="")
    assert response.status_code == 302
    assert Story.objects.get(pk=story.pk).headline == ""


def test_second_save_of_the_same_loaded_copy_is_refused_and_keeps_the_text(
    client, django_user_model, reporter, editor, story
):
    from django.test import Client

    other = Client()
    client.force_login(reporter)
    other.force_login(editor)
    mine = form_data(client.get(change_url(story)))
    theirs = form_data(other.get(change_url(story)))

    theirs["headline"] = "Editor's headline"
    assert other.post(change_url(story), theirs).status_code == 302

    mine["headline"] = "Reporter's headline"
    mine["summary"] = "Text the reporter typed and must not lose."
    response = client.post(change_url(story), mine)
    html = response.content.decode()
    assert response.status_code == 200
    assert Story.objects.get(pk=story.pk).headline == "Editor's headline"
    assert "someone else changed this story" in html.lower()
    assert "saved changes" in html and "Headline" in html  # what changed
    assert "Text the reporter typed and must not lose." in html
    assert 'value="Reporter&#x27;s headline"' in html


def test_saving_again_after_seeing_the_conflict_replaces_deliberately(
    client, reporter, editor, story
):
    from django.test import Client

    other = Client()
    other.force_login(editor)
    client.force_login(reporter)
    mine = form_data(client.get(change_url(story)))
    theirs = form_data(other.get(change_url(story)))
    theirs["headline"] = "Editor's headline"
    other.post(change_url(story), theirs)
    mine["headline"] = "Reporter's headline"
    refused = client.post(change_url(story), mine)
    again = form_data(refused)
    assert client.post(change_url(story), again).status_code == 302
    assert Story.objects.get(pk=story.pk).headline == "Reporter's headline"


def test_a_background_publish_between_load_and_save_is_detected(
    client, reporter, editor, story
):
    client.force_login(reporter)
    loaded = form_data(client.get(change_url(story)))
    services.publish_story(story=story, by=editor)
    loaded["headline"] = "Late edit"
    response = client.post(change_url(story), loaded)
    assert response.status_code == 200
    assert "moved it from" in response.content.decode()
    assert Story.objects.get(pk=story.pk).headline == "Original headline"


def test_a_save_without_the_loaded_version_is_refused(client, reporter, story):
    client.force_login(reporter)
    data = form_data(client.get(change_url(story)))
    del data["loaded_version"]
    assert client.post(change_url(story), data).status_code == 200


def test_workflow_action_with_a_stale_version_is_refused(
    client, editor, reporter, story
):
    services.take_action(story=story, action="submit", by=reporter)
    client.force_login(editor)
    stale = story.version - 1
    response = client.post(
        reverse("admin:stories_story_action", args=[story.pk, "approve"]),
        {"version": stale},
    )
    assert "changed while you were deciding" in response.content.decode()
    assert Story.objects.get(pk=story.pk).status == Story.Status.IN_REVIEW


def test_history_diff_shows_changed_added_removed_and_reordered_parts(
    client, reporter, story
):
    client.force_login(reporter)
    save_via_admin(client, story)
    first = story.revisions.get()
    data = form_data(client.get(change_url(story)))
    data.update(
        {
            "headline": "Rewritten headline",
            "sections-0-position": "5",  # Angle 1 now after Angle 2
            "sections-1-body": "<p>Analysis 2, expanded.</p>",
        }
    )
    client.post(change_url(story), data)
    second = story.revisions.order_by("-id").first()
    response = client.get(
        reverse("admin:stories_story_compare", args=[story.pk]),
        {"a": first.pk, "b": second.pk},
    )
    html = response.content.decode()
    assert "<del>Original</del><ins>Rewritten</ins>" in html
    assert "Section: reordered" in html
    assert "Section: \u201cAngle 2\u201d changed" in html
    assert "<del>2.</del><ins>2, expanded.</ins>" in html


def test_restore_makes_an_old_revision_the_working_copy_and_keeps_history(
    client, reporter, editor, story
):
    client.force_login(reporter)
    save_via_admin(client, story)
    old = story.revisions.get()
    save_via_admin(client, story, headline="Newer headline")
    services.publish_story(story=story, by=editor)
    services.publish_story(
        story=story,
        by=editor,
        correction_kind="correction",
        correction_text="An earlier version misnamed the minister.",
    )
    story.refresh_from_db()
    before = story.revisions.count()

    response = client.post(
        reverse("admin:stories_story_restore", args=[story.pk, old.pk]),
        {"version": story.version},
    )
    assert response.status_code == 302
    story.refresh_from_db()
    assert story.headline == "Original headline"
    assert story.revisions.count() == before + 1
    assert story.revisions.first().kind == StoryRevision.Kind.RESTORE
    assert Correction.objects.filter(story=story).count() == 1
    # Readers still see the published text until it is republished.
    assert story.live_revision.content["headline"] == "Newer headline"


def test_change_page_shows_whether_the_working_copy_differs_from_live(
    client, editor, story
):
    services.publish_story(story=story, by=editor)
    client.force_login(editor)
    html = client.get(change_url(story)).content.decode()
    assert "matches what readers see" in html
    Story.objects.filter(pk=story.pk).update(headline="Unpublished tweak")
    html = client.get(change_url(story)).content.decode()
    assert "differs from what readers see (1 change)" in html
    assert "<ins>Unpublished</ins>" in html


def test_change_page_shows_who_else_has_the_story_open(client, reporter, editor, story):
    from django.test import Client

    other = Client()
    other.force_login(editor)
    other.get(change_url(story))
    client.force_login(reporter)
    html = client.get(change_url(story)).content.decode()
    assert "Also open by: Editor" in html


def test_autosave_keeps_the_form_without_side_effects(
    client, reporter, story, monkeypatch, django_capture_on_commit_callbacks
):
    enqueued = []
    monkeypatch.setattr(tasks.notify_transition_task, "delay", enqueued.append)
    client.force_login(reporter)
    data = form_data(client.get(change_url(story)))
    data["summary"] = "Typed but not saved"
    version = Story.objects.get(pk=story.pk).version
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(
            reverse("admin:stories_story_autosave", args=[story.pk]), data
        )
    assert response.status_code == 200
    assert response.json()["stale"] is False
    assert callbacks == [] and enqueued == []
    fresh = Story.objects.get(pk=story.pk)
    assert fresh.version == version and fresh.summary != "Typed but not saved"
    assert not story.revisions.exists()
    draft = AutosaveDraft.objects.get(story=story, user=reporter)
    assert draft.data["summary"] == ["Typed but not saved"]
    page = client.get(change_url(story)).content.decode()
    assert "Restore my unsaved changes" in page and "Typed but not saved" in page


def test_a_real_save_clears_the_autosave(client, reporter, story):
    client.force_login(reporter)
    data = form_data(client.get(change_url(story)))
    client.post(reverse("admin:stories_story_autosave", args=[story.pk]), data)
    client.post(change_url(story), data)
    assert not AutosaveDraft.objects.exists()


def test_autosave_refuses_someone_who_may_not_edit(client, editor, django_user_model):
    from tests.stories.test_workflow import _journalist

    story = StoryFactory()
    outsider = _journalist("outsider")
    client.force_login(outsider)
    response = client.post(
        reverse("admin:stories_story_autosave", args=[story.pk]),
        {"loaded_version": "1", "headline": "x"},
    )
    assert response.status_code == 403


def test_change_page_query_count_does_not_grow_with_revisions(
    client, editor, story, django_assert_max_num_queries
):
    client.force_login(editor)
    for n in range(3):
        save_via_admin(client, story, headline=f"Headline {n}")
    with django_assert_max_num_queries(60) as few:
        client.get(change_url(story))
    baseline = len(few.captured_queries)
    for n in range(25):
        save_via_admin(client, story, headline=f"Later headline {n}")
    with django_assert_max_num_queries(baseline):
        client.get(change_url(story))


def test_changelist_query_count_does_not_grow_with_stories(
    client, editor, django_assert_max_num_queries
):
    client.force_login(editor)
    StoryFactory.create_batch(3)
    with django_assert_max_num_queries(40) as few:
        client.get(reverse("admin:stories_story_changelist"))
    baseline = len(few.captured_queries)
    StoryFactory.create_batch(30)
    with django_assert_max_num_queries(baseline):
        client.get(reverse("admin:stories_story_changelist"))
