from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.utils import timezone

from stories import services, tasks, workflow
from stories.forms import WorkflowActionForm
from stories.models import Heartbeat, Story, StoryRevision, StoryTransition
from tests.stories.factories import StoryFactory

pytestmark = pytest.mark.django_db
S = Story.Status


@pytest.fixture
def queued(monkeypatch):
    """Timed publication tasks the services queue, instead of a broker."""
    sent = []
    monkeypatch.setattr(
        tasks.publish_scheduled_story_task,
        "apply_async",
        lambda args, eta: sent.append((tuple(args), eta)),
    )
    return sent


@pytest.fixture
def approved(editor):
    story = StoryFactory()
    services.take_action(story=story, action="approve", by=editor)
    story.refresh_from_db()
    return story


def schedule(story, editor, at, **kwargs):
    return services.take_action(
        story=story, action="schedule", by=editor, scheduled_at=at, **kwargs
    )


def publications(story):
    return StoryTransition.objects.filter(story=story, to_status=S.PUBLISHED).count()


def test_scheduling_queues_a_timed_task_after_commit(
    approved, editor, queued, django_capture_on_commit_callbacks
):
    at = timezone.now() + timedelta(minutes=5)
    with django_capture_on_commit_callbacks(execute=True):
        story = schedule(approved, editor, at)
    assert story.status == S.SCHEDULED and story.scheduled_at == at
    assert queued == [((story.pk, str(story.schedule_id)), at)]


def test_the_timed_task_publishes_once_even_when_delivered_twice(
    approved, editor, queued
):
    story = schedule(approved, editor, timezone.now() + timedelta(minutes=5))
    Story.objects.filter(pk=story.pk).update(
        scheduled_at=timezone.now() - timedelta(seconds=1)
    )
    args = (story.pk, str(story.schedule_id))
    assert tasks.publish_scheduled_story_task(*args) is True
    assert tasks.publish_scheduled_story_task(*args) is False
    assert services.sweep_schedules()["published"] == []
    story.refresh_from_db()
    assert story.is_live and publications(story) == 1
    assert story.revisions.filter(kind=StoryRevision.Kind.PUBLISH).count() == 1


def test_a_task_that_arrives_early_does_not_publish(approved, editor, queued):
    story = schedule(approved, editor, timezone.now() + timedelta(minutes=5))
    assert tasks.publish_scheduled_story_task(story.pk, str(story.schedule_id)) is False
    assert Story.objects.get(pk=story.pk).status == S.SCHEDULED


def test_a_stale_task_after_reschedule_does_nothing(approved, editor, queued):
    story = schedule(approved, editor, timezone.now() + timedelta(minutes=5))
    stale = (story.pk, str(story.schedule_id))
    story = services.take_action(
        story=story,
        action="reschedule",
        by=editor,
        scheduled_at=timezone.now() + timedelta(hours=3),
    )
    Story.objects.filter(pk=story.pk).update(
        scheduled_at=timezone.now() - timedelta(seconds=1)
    )
    assert tasks.publish_scheduled_story_task(*stale) is False
    assert tasks.publish_scheduled_story_task(story.pk, str(story.schedule_id)) is True


def test_cancelling_a_schedule_never_publishes(approved, editor, queued):
    story = schedule(approved, editor, timezone.now() + timedelta(seconds=30))
    old = (story.pk, str(story.schedule_id))
    story = services.take_action(story=story, action="unschedule", by=editor)
    assert story.status == S.APPROVED and story.scheduled_at is None
    Story.objects.filter(pk=story.pk).update(created_at=timezone.now())
    assert tasks.publish_scheduled_story_task(*old) is False
    assert services.sweep_schedules() == {"published": [], "expired": []}
    assert not Story.objects.get(pk=story.pk).is_live


def test_scheduling_in_the_past_is_refused(approved, editor, queued):
    with pytest.raises(ValidationError):
        schedule(approved, editor, timezone.now() - timedelta(minutes=1))


def test_embargo_stops_even_publish_now(approved, editor):
    Story.objects.filter(pk=approved.pk).update(
        embargo_until=timezone.now() + timedelta(hours=1)
    )
    with pytest.raises(ValidationError, match="Embargoed"):
        services.publish_story(story=approved, by=editor)
    assert not Story.objects.get(pk=approved.pk).is_live


def test_embargo_refuses_an_earlier_schedule_and_accepts_a_later_one(
    approved, editor, queued
):
    embargo = timezone.now() + timedelta(hours=1)
    Story.objects.filter(pk=approved.pk).update(embargo_until=embargo)
    with pytest.raises(ValidationError, match="embargoed"):
        schedule(approved, editor, embargo - timedelta(minutes=1))
    assert schedule(approved, editor, embargo).status == S.SCHEDULED


def test_the_sweep_publishes_overdue_stories_and_records_how_late(
    approved, editor, queued, settings, mailoutbox
):
    settings.SCHEDULE_LATE_AFTER = timedelta(seconds=10)
    story = schedule(approved, editor, timezone.now() + timedelta(minutes=5))
    Story.objects.filter(pk=story.pk).update(
        scheduled_at=timezone.now() - timedelta(minutes=2)
    )
    assert services.sweep_schedules()["published"] == [story.pk]
    transition = StoryTransition.objects.get(story=story, action="publish")
    assert transition.by is None
    assert timedelta(minutes=2) <= transition.late_by < timedelta(minutes=3)
    tasks.notify_transition_task(transition.pk)
    assert any("LATE" in m.subject for m in mailoutbox)


def test_editors_see_a_banner_for_a_missed_schedule(client, approved, editor, queued):
    story = schedule(approved, editor, timezone.now() + timedelta(minutes=5))
    Story.objects.filter(pk=story.pk).update(
        scheduled_at=timezone.now() - timedelta(minutes=2)
    )
    services.sweep_schedules()
    client.force_login(editor)
    html = client.get("/admin/").content.decode()
    assert "the scheduler missed it" in html


def test_expiry_withdraws_and_archives_without_deleting(client, editor):
    story = StoryFactory(published=True)
    Story.objects.filter(pk=story.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert services.sweep_schedules()["expired"] == [story.pk]
    story.refresh_from_db()
    assert story.status == S.ARCHIVED and story.is_withdrawn
    assert client.get(story.get_absolute_url()).status_code == 410
    assert story.revisions.exists()


def test_schedule_form_reads_times_in_the_newsroom_time_zone(settings, approved):
    settings.TIME_ZONE = "Europe/London"
    timezone.activate(ZoneInfo("Europe/London"))
    try:
        form = WorkflowActionForm(
            {"version": approved.version, "scheduled_at": "2099-07-01T09:00"},
            action=workflow.ACTIONS["schedule"],
            story=approved,
        )
        assert form.is_valid(), form.errors
        assert form.cleaned_data["scheduled_at"] == datetime(
            2099, 7, 1, 8, 0, tzinfo=ZoneInfo("UTC")
        )
        winter = WorkflowActionForm(
            {"version": approved.version, "scheduled_at": "2099-01-15T09:00"},
            action=workflow.ACTIONS["schedule"],
            story=approved,
        )
        assert winter.is_valid()
        assert winter.cleaned_data["scheduled_at"] == datetime(
            2099, 1, 15, 9, 0, tzinfo=ZoneInfo("UTC")
        )
    finally:
        timezone.deactivate()


@pytest.mark.parametrize("local", ["2099-03-29T01:30", "2099-10-25T01:30"])
def test_times_that_do_not_exist_or_happen_twice_at_a_dst_change_are_refused(
    settings, approved, local
):
    settings.TIME_ZONE = "Europe/London"
    timezone.activate(ZoneInfo("Europe/London"))
    try:
        form = WorkflowActionForm(
            {"version": approved.version, "scheduled_at": local},
            action=workflow.ACTIONS["schedule"],
            story=approved,
        )
        assert not form.is_valid()
        assert "ambiguous" in str(form.errors["scheduled_at"]) or "exist" in str(
            form.errors["scheduled_at"]
        )
    finally:
        timezone.deactivate()


def test_a_publication_across_a_dst_change_happens_at_the_right_instant(
    approved, editor, queued, django_capture_on_commit_callbacks
):
    london = ZoneInfo("Europe/London")
    # 09:00 on the Monday after clocks go back is 09:00 GMT = 09:00 UTC.
    at = datetime(2099, 10, 26, 9, 0, tzinfo=london)
    with django_capture_on_commit_callbacks(execute=True):
        story = schedule(approved, editor, at)
    assert story.scheduled_at == datetime(2099, 10, 26, 9, 0, tzinfo=ZoneInfo("UTC"))
    assert queued[-1][1] == at


def test_schedule_view_lists_upcoming_publications_with_time_zone(
    client, approved, editor, queued
):
    at = timezone.now() + timedelta(days=1)
    schedule(approved, editor, at)
    client.force_login(editor)
    html = client.get("/admin/stories/story/schedule/").content.decode()
    assert str(approved) in html
    assert "All times in UTC" in html
    assert f"/admin/stories/story/{approved.pk}/action/reschedule/" in html


def test_schedule_view_is_for_editors_only(client, reporter):
    client.force_login(reporter)
    assert client.get("/admin/stories/story/schedule/").status_code == 403


def test_scheduler_status_reports_dead_workers_beat_and_lateness(
    approved, editor, queued, capsys, monkeypatch
):
    from newsroom.celery import app

    monkeypatch.setattr(app.control, "ping", lambda timeout: [])
    story = schedule(approved, editor, timezone.now() + timedelta(minutes=5))
    Story.objects.filter(pk=story.pk).update(
        scheduled_at=timezone.now() - timedelta(minutes=1)
    )
    with pytest.raises(CommandError):
        call_command("scheduler_status", timeout=0.1)
    out = capsys.readouterr().out
    assert "workers: none answering" in out
    assert "beat: NOT RUNNING" in out
    assert "overdue: 1 (oldest 6" in out


def test_scheduler_status_is_healthy_with_a_worker_and_a_recent_sweep(
    capsys, monkeypatch
):
    from newsroom.celery import app

    monkeypatch.setattr(
        app.control, "ping", lambda timeout: [{"celery@host": {"ok": "pong"}}]
    )
    Heartbeat.objects.create(name=tasks.SWEEP_HEARTBEAT, beat_at=timezone.now())
    call_command("scheduler_status", timeout=0.1)
    assert "scheduler healthy" in capsys.readouterr().out


def test_the_sweep_task_records_its_heartbeat():
    tasks.sweep_schedules_task()
    assert Heartbeat.objects.filter(name=tasks.SWEEP_HEARTBEAT).exists()


def test_a_task_that_keeps_failing_is_recorded_for_editors(client, editor):
    from stories.models import FailedTask

    tasks.notify_transition_task.on_failure(
        OSError("SMTP down"), "task-1", [42], {}, None
    )
    failure = FailedTask.objects.get()
    assert failure.task_name == "stories.tasks.notify_transition_task"
    assert failure.args == [42] and "SMTP down" in failure.error
    client.force_login(editor)
    assert "1 background task kept failing" in client.get("/admin/").content.decode()
