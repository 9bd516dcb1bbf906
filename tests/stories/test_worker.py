"""Real Celery worker processes, on the broker the settings choose: Redis
where REDIS_URL is set (CI), the embedded filesystem broker otherwise."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from newsroom import celery_app
from stories import services, tasks
from stories.models import Story, StoryTransition
from tests.redis_server import RedisServer
from tests.stories.factories import StoryFactory
from tests.workers import Worker, broker, own_queue, wait_for

pytestmark = [
    pytest.mark.celery_worker,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
FAST_SWEEP = {"SCHEDULE_SWEEP_SECONDS": "1", "SCHEDULE_LATE_AFTER_SECONDS": "1"}


@pytest.fixture
def queue():
    with own_queue() as name:
        yield name


@pytest.fixture
def workers(queue, tmp_path):
    started = []

    def start(**kwargs):
        worker = Worker(queue, tmp_path / f"worker{len(started)}.log", **kwargs)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def publications(story):
    return StoryTransition.objects.filter(
        story=story, to_status=Story.Status.PUBLISHED
    ).count()


def approved_story(editor, **kwargs):
    story = StoryFactory(**kwargs)
    services.take_action(story=story, action="approve", by=editor)
    return Story.objects.get(pk=story.pk)


def schedule_in(story, editor, seconds):
    return services.take_action(
        story=story,
        action="schedule",
        by=editor,
        scheduled_at=timezone.now() + timedelta(seconds=seconds),
    )


def test_real_worker_emails_the_author_when_an_editor_publishes(
    workers, editor, reporter, tmp_path
):
    mail = tmp_path / "mail"
    workers(
        env={
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": str(mail),
        }
    )
    story = StoryFactory(headline="Worker-delivered story")
    story.authors.add(reporter)

    services.publish_story(story=story, by=editor)

    def messages():
        return "".join(p.read_text() for p in mail.iterdir()) if mail.exists() else ""

    # One email for the approval, one for the publication.
    assert wait_for(lambda: messages().count("Subject:") >= 2), messages()
    sent = messages()
    assert "Worker-delivered story: published" in sent
    assert "To: reporter@example.com" in sent
    expected_transport = "redis" if settings.REDIS_URL else "filesystem"
    assert celery_app.conf.broker_url.startswith(expected_transport)


def test_a_scheduled_story_goes_live_on_time_without_the_sweep(workers, editor):
    workers()
    story = schedule_in(approved_story(editor), editor, 2)
    assert wait_for(lambda: Story.objects.get(pk=story.pk).is_live, timeout=30)
    transition = StoryTransition.objects.get(story=story, action="publish")
    assert transition.by is None and transition.late_by is None
    assert publications(story) == 1


def test_two_workers_and_duplicate_deliveries_publish_once(workers, editor):
    workers(name="one")
    workers(name="two")
    story = schedule_in(approved_story(editor), editor, 2)
    args = (story.pk, str(story.schedule_id))
    for _ in range(6):  # redelivered copies of the same timed task
        tasks.publish_scheduled_story_task.apply_async(
            args=args, eta=story.scheduled_at
        )
    assert wait_for(lambda: Story.objects.get(pk=story.pk).is_live, timeout=30)
    # Let every copy run before counting.
    wait_for(lambda: False, timeout=4)
    assert publications(story) == 1
    assert story.revisions.filter(kind="publish").count() == 1


def test_a_worker_killed_mid_publish_publishes_once_after_restart(workers, editor):
    story = schedule_in(approved_story(editor), editor, 1)
    first = workers()
    with transaction.atomic():
        # Hold the story's row: the worker blocks inside its publish transaction.
        Story.objects.filter(pk=story.pk).update(updated_at=timezone.now())
        wait_for(lambda: "publish_scheduled_story_task" in first.output(), timeout=30)
        wait_for(lambda: False, timeout=1.5)
        first.kill()
    assert not Story.objects.get(pk=story.pk).is_live
    workers(env=FAST_SWEEP)  # sweeps as it starts
    assert wait_for(lambda: Story.objects.get(pk=story.pk).is_live, timeout=60)
    wait_for(lambda: False, timeout=2)
    assert publications(story) == 1


def test_overdue_stories_publish_when_the_worker_comes_back_and_editors_are_told(
    workers, editor, client
):
    story = schedule_in(approved_story(editor), editor, 1)
    wait_for(lambda: False, timeout=3)  # no worker at the scheduled time
    workers(beat=True, env=FAST_SWEEP)
    assert wait_for(lambda: Story.objects.get(pk=story.pk).is_live, timeout=60)
    transition = StoryTransition.objects.get(story=story, action="publish")
    assert transition.late_by is not None and transition.late_by >= timedelta(seconds=1)
    client.force_login(editor)
    assert "the scheduler missed it" in client.get("/admin/").content.decode()


@pytest.fixture
def own_redis(tmp_path):
    server = RedisServer(tmp_path).start()
    yield server
    server.stop()


def test_redis_restarted_while_stories_are_scheduled_loses_nothing(
    workers, editor, own_redis
):
    env = {**FAST_SWEEP, "REDIS_URL": own_redis.url}
    with broker(own_redis.url):
        running = [workers(beat=True, env=env)]
        stories = [schedule_in(approved_story(editor), editor, 4 + n) for n in range(3)]
        wait_for(lambda: False, timeout=1)
        own_redis.stop()  # queued messages are gone with it
        wait_for(lambda: False, timeout=1)
        own_redis.start()

        def all_live():
            # kombu's Redis transport can exit the worker when the broker
            # vanishes mid-call; a supervisor (docker's restart policy)
            # starts it again, as here.
            if running[-1].process.poll() is not None:
                running.append(workers(beat=True, env=env))
            return all(Story.objects.get(pk=s.pk).is_live for s in stories)

        assert wait_for(all_live, timeout=90), running[-1].output()[-3000:]
        wait_for(lambda: False, timeout=2)
    assert [publications(s) for s in stories] == [1, 1, 1]
