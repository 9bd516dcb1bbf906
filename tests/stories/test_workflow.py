"""Roles and states: who may take which action, by every route."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from stories import services, workflow
from stories.models import Story, StoryTransition
from tests.admin_forms import form_data
from tests.stories.factories import StoryFactory, UserFactory

pytestmark = pytest.mark.django_db
S = Story.Status

# A state each action can be taken from.
SOURCE = {
    "submit": S.DRAFT,
    "withdraw_submission": S.IN_REVIEW,
    "request_changes": S.IN_REVIEW,
    "approve": S.IN_REVIEW,
    "schedule": S.APPROVED,
    "unschedule": S.SCHEDULED,
    "publish": S.APPROVED,
    "republish": S.UNPUBLISHED,
    "unpublish": S.PUBLISHED,
    "archive": S.UNPUBLISHED,
    "unarchive": S.ARCHIVED,
}
JOURNALIST_MAY = {"submit", "withdraw_submission"}


def story_in(state, author):
    story = StoryFactory(published=state in (S.PUBLISHED, S.UNPUBLISHED))
    Story.objects.filter(pk=story.pk).update(status=state)
    story.refresh_from_db()
    story.authors.add(author)
    return story


def kwargs_for(action):
    from datetime import timedelta

    from django.utils import timezone

    extra = {}
    if workflow.ACTIONS[action].needs_comment:
        extra["comment"] = "Because."
    if action == "schedule":
        extra["scheduled_at"] = timezone.now() + timedelta(hours=2)
    return extra


@pytest.mark.parametrize("action", sorted(SOURCE))
@pytest.mark.parametrize("role", ["author", "other_journalist", "editor"])
def test_permission_matrix_through_the_service(action, role, reporter, editor):
    story = story_in(SOURCE[action], reporter)
    actor = {
        "author": reporter,
        "editor": editor,
        "other_journalist": _journalist("other"),
    }[role]
    allowed = role == "editor" or (role == "author" and action in JOURNALIST_MAY)
    if allowed:
        services.take_action(story=story, action=action, by=actor, **kwargs_for(action))
        story.refresh_from_db()
        assert story.status == workflow.ACTIONS[action].target
    else:
        with pytest.raises(PermissionDenied):
            services.take_action(
                story=story, action=action, by=actor, **kwargs_for(action)
            )
        assert Story.objects.get(pk=story.pk).status == SOURCE[action]


def _journalist(username):
    from django.contrib.auth.models import Group

    user = UserFactory(username=username, is_staff=True)
    user.groups.add(Group.objects.get(name="Journalists"))
    return user


@pytest.mark.parametrize(
    "action", ["publish", "schedule", "unpublish", "republish", "approve"]
)
def test_journalist_cannot_take_editor_actions_with_a_crafted_post(
    client, reporter, action
):
    story = story_in(SOURCE[action], reporter)
    client.force_login(reporter)
    response = client.post(
        reverse("admin:stories_story_action", args=[story.pk, action]),
        {"version": story.version, "comment": "x", "scheduled_at": "2099-01-01T10:00"},
    )
    assert response.status_code == 403
    assert Story.objects.get(pk=story.pk).status == SOURCE[action]


def test_journalist_bulk_actions_are_not_offered_and_do_nothing(client, reporter):
    story = story_in(S.APPROVED, reporter)
    client.force_login(reporter)
    for action in ("publish_selected", "approve_selected"):
        client.post(
            reverse("admin:stories_story_changelist"),
            {"action": action, "_selected_action": [story.pk]},
        )
    assert Story.objects.get(pk=story.pk).status == S.APPROVED


def test_a_status_field_posted_to_the_change_page_is_ignored(client, reporter):
    story = story_in(S.DRAFT, reporter)
    client.force_login(reporter)
    page = client.get(reverse("admin:stories_story_change", args=[story.pk]))
    data = form_data(page)
    data.update(
        status=S.PUBLISHED,
        live_revision="1",
        public_slug="hijack",
        headline="Edited headline",
    )
    response = client.post(reverse("admin:stories_story_change", args=[story.pk]), data)
    assert response.status_code == 302
    story.refresh_from_db()
    assert story.headline == "Edited headline"
    assert story.status == S.DRAFT and story.public_slug is None


def test_importer_creates_drafts_only(reporter):
    from pathlib import Path

    raw = (Path(__file__).parent / "documents" / "brazil_amazon.txt").read_bytes()
    story = services.import_explainer(raw=raw, by=reporter).story
    assert story.status == S.DRAFT and not story.is_live


def test_journalist_edits_only_stories_they_author(client, reporter):
    theirs = StoryFactory()
    client.force_login(reporter)
    url = reverse("admin:stories_story_change", args=[theirs.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert 'name="headline"' not in page.content.decode()  # read-only view
    assert client.post(url, {"headline": "Hijacked"}).status_code == 403
    assert Story.objects.get(pk=theirs.pk).headline != "Hijacked"


def test_every_move_is_recorded_and_shown_as_a_timeline(client, reporter, editor):
    story = story_in(S.DRAFT, reporter)
    services.take_action(story=story, action="submit", by=reporter)
    services.take_action(
        story=story,
        action="request_changes",
        by=editor,
        comment="Needs a source for the budget figure",
    )
    moves = list(StoryTransition.objects.filter(story=story).order_by("id"))
    assert [(m.from_status, m.to_status, m.by) for m in moves] == [
        (S.DRAFT, S.IN_REVIEW, reporter),
        (S.IN_REVIEW, S.CHANGES_REQUESTED, editor),
    ]
    client.force_login(editor)
    page = client.get(
        reverse("admin:stories_story_change", args=[story.pk])
    ).content.decode()
    assert "Needs a source for the budget figure" in page


def test_request_changes_and_unpublish_need_a_comment(editor, reporter):
    from django.core.exceptions import ValidationError

    story = story_in(S.IN_REVIEW, reporter)
    with pytest.raises(ValidationError):
        services.take_action(story=story, action="request_changes", by=editor)
    live = story_in(S.PUBLISHED, reporter)
    with pytest.raises(ValidationError):
        services.take_action(story=live, action="unpublish", by=editor, comment="  ")


def test_an_action_from_the_wrong_state_is_refused(editor, reporter):
    story = story_in(S.DRAFT, reporter)
    with pytest.raises(services.InvalidTransition):
        services.take_action(story=story, action="unpublish", by=editor, comment="x")


def test_submission_runs_the_strict_checks_with_clear_messages(reporter):
    story = StoryFactory(headline="", summary="", sections=0)
    story.authors.add(reporter)
    with pytest.raises(services.StoryNotReady) as caught:
        services.take_action(story=story, action="submit", by=reporter)
    assert "Add a headline." in caught.value.messages
    assert any("summary" in m for m in caught.value.messages)


def test_a_journalists_edit_after_approval_sends_the_story_back_to_review(reporter):
    story = story_in(S.APPROVED, reporter)
    locked = services.lock_story(story_id=story.pk, expected_version=story.version)
    services.record_save(story=locked, by=reporter)
    story.refresh_from_db()
    assert story.status == S.IN_REVIEW


def test_submission_emails_editors_and_changes_requested_emails_authors(
    reporter, editor, mailoutbox
):
    from stories.tasks import notify_transition_task

    story = story_in(S.DRAFT, reporter)
    services.take_action(story=story, action="submit", by=reporter)
    notify_transition_task(story.transitions.get(action="submit").pk)
    assert [m.to for m in mailoutbox] == [["editor@example.com"]]
    services.take_action(
        story=story, action="request_changes", by=editor, comment="Fix"
    )
    notify_transition_task(story.transitions.get(action="request_changes").pk)
    assert mailoutbox[1].to == ["reporter@example.com"]
    assert "Fix" in mailoutbox[1].body


def test_notification_failures_release_the_claim_for_a_retry(
    reporter, editor, monkeypatch
):
    from stories import tasks

    story = story_in(S.DRAFT, reporter)
    services.take_action(story=story, action="submit", by=reporter)
    transition = story.transitions.get()

    def smtp_down(*args, **kwargs):
        raise OSError("connection refused")

    monkeypatch.setattr(tasks, "send_mass_mail", smtp_down)
    with pytest.raises(OSError):
        tasks.notify_transition_task.run(transition.pk)
    transition.refresh_from_db()
    assert transition.notified_at is None


def test_desk_orders_the_review_queue_by_waiting_time(client, reporter, editor):
    first = story_in(S.DRAFT, reporter)
    second = story_in(S.DRAFT, reporter)
    services.take_action(story=first, action="submit", by=reporter)
    services.take_action(story=second, action="submit", by=reporter)
    client.force_login(editor)
    html = client.get(reverse("admin:index")).content.decode()
    assert 'Awaiting review <span class="desk-count">(2)</span>' in html
    assert html.index(str(first)) < html.index(str(second))


def test_journalists_desk_shows_their_drafts_and_requests(client, reporter, editor):
    draft = story_in(S.DRAFT, reporter)
    sent_back = story_in(S.IN_REVIEW, reporter)
    services.take_action(
        story=sent_back, action="request_changes", by=editor, comment="x"
    )
    client.force_login(reporter)
    html = client.get(reverse("admin:index")).content.decode()
    assert 'My drafts <span class="desk-count">(1)</span>' in html
    assert 'Changes requested of me <span class="desk-count">(1)</span>' in html
    assert "Awaiting review" not in html
    assert str(draft) in html


def test_action_links_carry_the_version_the_editor_saw(client, reporter, editor):
    story = story_in(S.IN_REVIEW, reporter)
    client.force_login(editor)
    page = client.get(
        reverse("admin:stories_story_change", args=[story.pk])
    ).content.decode()
    seen = story.version
    assert f"/action/approve/?version={seen}" in page
    # The journalist saves after the editor read the page.
    locked = services.lock_story(story_id=story.pk, expected_version=seen)
    Story.objects.filter(pk=story.pk).update(headline="Unseen change")
    services.record_save(story=locked, by=reporter)
    confirm = client.get(
        reverse("admin:stories_story_action", args=[story.pk, "approve"]),
        {"version": seen},
    )
    assert f'name="version" value="{seen}"' in confirm.content.decode()
    response = client.post(
        reverse("admin:stories_story_action", args=[story.pk, "approve"]),
        {"version": seen},
    )
    assert "changed while you were deciding" in response.content.decode()
    assert Story.objects.get(pk=story.pk).status == S.IN_REVIEW


def test_bulk_publish_takes_only_approved_stories(client, reporter, editor):
    draft = story_in(S.DRAFT, reporter)
    approved = story_in(S.APPROVED, reporter)
    client.force_login(editor)
    client.post(
        reverse("admin:stories_story_changelist"),
        {"action": "publish_selected", "_selected_action": [draft.pk, approved.pk]},
    )
    assert not Story.objects.get(pk=draft.pk).is_live
    assert Story.objects.get(pk=approved.pk).is_live


def test_topics_of_an_approved_story_are_editor_only(client, reporter, editor):
    from tests.entities.factories import EntityFactory

    topic = EntityFactory(name="Soon public")
    story = StoryFactory(entities=[topic])
    story.authors.add(reporter)
    client.force_login(reporter)
    url = f"/admin/entities/entity/{topic.pk}/change/"
    assert 'name="name"' in client.get(url).content.decode()
    services.take_action(story=story, action="approve", by=editor)
    assert 'name="name"' not in client.get(url).content.decode()
    assert client.post(url, {"name": "Rewritten", "kind": "topic"}).status_code == 403


def test_publishing_after_the_expiry_time_is_refused(editor, reporter):
    from datetime import timedelta

    from django.core.exceptions import ValidationError
    from django.utils import timezone

    story = story_in(S.APPROVED, reporter)
    Story.objects.filter(pk=story.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    with pytest.raises(ValidationError, match="expiry"):
        services.take_action(story=story, action="publish", by=editor)
