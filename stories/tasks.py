import logging

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.core.mail import send_mail

from .models import StoryRevision

logger = logging.getLogger(__name__)


@shared_task(
    autoretry_for=(OSError,), retry_backoff=True, retry_kwargs={"max_retries": 5}
)
def notify_authors_of_publication_task(revision_id: int) -> int:
    """Email a published story's authors that it is live; returns emails sent."""
    revision = (
        StoryRevision.objects.select_related("story")
        .filter(pk=revision_id)
        .first()
    )
    if revision is None:
        return 0
    # A redelivered task must not email twice; the marker outlives any retry.
    if not cache.add(f"notified-publication:{revision_id}", True, timeout=7 * 86400):
        logger.info("Revision %s: authors already notified", revision_id)
        return 0
    story = revision.story
    recipients = [u.email for u in story.authors.all() if u.email]
    if not recipients:
        return 0
    try:
        send_mail(
            subject=f"Published: {revision.content['headline']}",
            message=(
                f"Your story \u201c{revision.content['headline']}\u201d is live at "
                f"{settings.SITE_URL}{story.get_absolute_url()}\n"
            ),
            from_email=None,
            recipient_list=recipients,
        )
    except OSError:
        cache.delete(f"notified-publication:{revision_id}")
        raise
    return len(recipients)
