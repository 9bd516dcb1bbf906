import logging

from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mass_mail
from django.db.models import Q
from django.utils import timezone

from .models import StoryTransition

logger = logging.getLogger(__name__)

# action -> who hears about it
EDITOR_ACTIONS = {"submit", "resubmit_after_edit"}
AUTHOR_ACTIONS = {"request_changes", "approve", "publish", "republish", "unpublish"}


def _editors():
    User = get_user_model()
    return User.objects.filter(
        Q(groups__permissions__codename="publish_story") | Q(is_superuser=True),
        is_active=True,
    ).exclude(email="").distinct()


@shared_task(
    autoretry_for=(OSError,), retry_backoff=True, retry_backoff_max=600,
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
    transition = StoryTransition.objects.select_related("story", "by").get(pk=transition_id)
    story = transition.story
    if transition.action in EDITOR_ACTIONS:
        recipients = _editors()
    elif transition.action in AUTHOR_ACTIONS:
        recipients = story.authors.filter(is_active=True).exclude(email="")
    else:
        return 0
    addresses = sorted(
        {u.email for u in recipients if transition.by is None or u.pk != transition.by_id}
    )
    if not addresses:
        return 0
    who = (transition.by.get_full_name() or transition.by.get_username()) if transition.by else "The system"
    subject = (
        f"[{settings.SITE_NAME}] {story.headline or 'Untitled story'}: "
        f"{transition.get_to_status_display().lower()}"
    )
    body = (
        f"{who} moved \u201c{story.headline or 'Untitled story'}\u201d from "
        f"{transition.get_from_status_display().lower()} to "
        f"{transition.get_to_status_display().lower()}.\n"
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


@shared_task
def publish_due_stories_task() -> int:
    """Publish scheduled stories whose time has come (a beat sweep)."""
    from .services import publish_due_stories

    published = publish_due_stories()
    if published:
        logger.info("Published scheduled stories %s", published)
    return len(published)
