import logging

from celery import shared_task
from celery.signals import worker_ready
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mass_mail
from django.db import DatabaseError
from django.db.models import Q
from django.utils import timezone
from redis import RedisError

from newsroom.celery import RecordedTask

from .models import Heartbeat, StoryTransition

logger = logging.getLogger(__name__)

# action -> who hears about it
EDITOR_ACTIONS = {"submit", "resubmit_after_edit"}
AUTHOR_ACTIONS = {
    "request_changes",
    "approve",
    "publish",
    "republish",
    "unpublish",
    "expire",
}
SWEEP_HEARTBEAT = "schedule-sweep"


def _editors():
    User = get_user_model()
    return (
        User.objects.filter(
            Q(groups__permissions__codename="publish_story") | Q(is_superuser=True),
            is_active=True,
        )
        .exclude(email="")
        .distinct()
    )


@shared_task(
    base=RecordedTask,
    autoretry_for=(OSError,),
    retry_backoff=True,
    retry_backoff_max=600,
    retry_kwargs={"max_retries": 8},
)
def notify_transition_task(transition_id: int) -> int:
    """Email the people a workflow move concerns; returns emails sent.

    Claims the transition first with a conditional update, so a redelivered
    or duplicated task sends nothing; a failed send releases the claim and
    retries with backoff.
    """
    claimed = StoryTransition.objects.filter(
        pk=transition_id, notified_at__isnull=True
    ).update(notified_at=timezone.now())
    if not claimed:
        return 0
    transition = StoryTransition.objects.select_related("story", "by").get(
        pk=transition_id
    )
    story = transition.story
    recipients = set()
    if transition.action in EDITOR_ACTIONS or transition.late_by is not None:
        recipients |= set(_editors())
    if transition.action in AUTHOR_ACTIONS:
        recipients |= set(story.authors.filter(is_active=True).exclude(email=""))
    addresses = sorted(
        {
            u.email
            for u in recipients
            if transition.by is None or u.pk != transition.by_id
        }
    )
    if not addresses:
        return 0
    who = (
        (transition.by.get_full_name() or transition.by.get_username())
        if transition.by
        else "The system"
    )
    headline = story.headline or "Untitled story"
    status = transition.get_to_status_display().lower()
    subject = f"[{settings.SITE_NAME}] {headline}: {status}"
    body = (
        f"{who} moved \u201c{headline}\u201d from "
        f"{transition.get_from_status_display().lower()} to "
        f"{transition.get_to_status_display().lower()}.\n"
    )
    if transition.late_by is not None:
        subject = f"[{settings.SITE_NAME}] LATE: {headline}"
        body += (
            f"\nThis happened {transition.late_by.total_seconds():.0f} seconds after "
            "its scheduled time: the scheduler missed it and the sweep caught up. "
            "Check that the Celery worker and beat are running.\n"
        )
    if transition.comment:
        body += f"\nComment:\n{transition.comment}\n"
    body += f"\n{settings.SITE_URL}/admin/stories/story/{story.pk}/change/\n"
    try:
        send_mass_mail([(subject, body, None, [address]) for address in addresses])
    except OSError:
        StoryTransition.objects.filter(pk=transition_id).update(notified_at=None)
        raise
    return len(addresses)


@shared_task(
    base=RecordedTask,
    autoretry_for=(OSError,),
    retry_backoff=True,
    retry_kwargs={"max_retries": 10},
    acks_late=True,
)
def publish_scheduled_story_task(story_id: int, schedule_id: str) -> bool:
    """Publish a story at its scheduled time; a stale or repeated delivery
    does nothing."""
    from .services import publish_scheduled_story

    return publish_scheduled_story(story_id=story_id, schedule_id=schedule_id)


@shared_task(
    base=RecordedTask,
    autoretry_for=(OSError, RedisError, DatabaseError),
    retry_backoff=True,
    retry_backoff_max=60,
    retry_kwargs={"max_retries": 5},
)
def bake_story_pages_task(story_id: int, paths_before=()) -> dict:
    """Bake the pages a publication, correction or withdrawal changed, so
    their first reader gets them from the cache. Rendering again is
    harmless, so a repeated delivery is too."""
    from .baking import bake_story_pages

    return bake_story_pages(story_id=story_id, paths_before=paths_before)


@shared_task(base=RecordedTask)
def sweep_schedules_task() -> dict:
    """Beat's safety net: publish the overdue, expire the expired."""
    from .services import sweep_schedules

    Heartbeat.objects.update_or_create(
        name=SWEEP_HEARTBEAT, defaults={"beat_at": timezone.now()}
    )
    result = sweep_schedules()
    if result["published"] or result["expired"]:
        logger.info(
            "Sweep published %s, expired %s", result["published"], result["expired"]
        )
    return result


@worker_ready.connect
def _sweep_on_start(sender, **kwargs):
    # A worker that was down may have missed its timed tasks: catch up at
    # once instead of waiting for beat.
    try:
        sweep_schedules_task.delay()
    except Exception:
        logger.exception("Could not queue the start-up sweep")


@shared_task(
    base=RecordedTask,
    autoretry_for=(OSError,),
    retry_backoff=True,
    retry_backoff_max=900,
    retry_kwargs={"max_retries": 10},
)
def deliver_webhook_task(transition_id: int, url: str) -> bool:
    """POST a publication event to a configured webhook, once.

    The delivery row is claimed under a lock; a delivered row makes any
    repeat a no-op. Network errors and non-2xx answers retry with backoff,
    and a delivery that keeps failing is listed under Failed tasks.
    """
    import json
    import urllib.request

    from django.db import transaction

    from .models import WebhookDelivery

    with transaction.atomic():
        delivery, _ = WebhookDelivery.objects.select_for_update().get_or_create(
            transition_id=transition_id, url=url
        )
        if delivery.delivered_at is not None:
            return False
        transition = StoryTransition.objects.select_related("story").get(
            pk=transition_id
        )
        story = transition.story
        payload = {
            "event": f"story.{transition.to_status}",
            "action": transition.action,
            "story_id": story.pk,
            "url": f"{settings.SITE_URL}{story.get_absolute_url()}",
            "at": transition.created_at.isoformat(),
            "transition_id": transition.pk,
        }
        request = urllib.request.Request(
            url,
            data=json.dumps(payload).encode(),
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Idempotency-Key": f"newsroom-transition-{transition.pk}",
            },
        )
        delivery.attempts += 1
        failure = None
        try:
            with urllib.request.urlopen(
                request, timeout=settings.WEBHOOK_TIMEOUT_SECONDS
            ):
                pass
        except OSError as error:
            failure = error
            delivery.last_error = str(error)[:1000]
        else:
            delivery.delivered_at = timezone.now()
        delivery.save(update_fields=["attempts", "delivered_at", "last_error"])
    # Raised after the commit, so the attempt and its error are kept.
    if failure is not None:
        raise failure
    return True


@shared_task(
    base=RecordedTask,
    autoretry_for=(OSError,),
    retry_backoff=True,
    retry_kwargs={"max_retries": 5},
)
def suggest_entities_task(story_id: int) -> int:
    """Read a saved story's text for topics to suggest; returns how many are
    pending. Safe to run twice: it rewrites the same suggestions."""
    from .suggestions import refresh_entity_suggestions

    return len(refresh_entity_suggestions(story_id=story_id))


# Its own limits, not the default two minutes: a run may spend
# source_links.RUN_SECONDS starting checks, then waits for those under way.
# Both stay below the Redis visibility timeout (an hour).
@shared_task(base=RecordedTask, soft_time_limit=900, time_limit=960)
def check_source_links_task() -> dict:
    """Check a batch of source article links, least recently checked first."""
    from .source_links import check_source_links

    result = check_source_links()
    logger.info(
        "Checked %s source links, %s broken", result["checked"], result["broken"]
    )
    return result
