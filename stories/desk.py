"""The editors' desk: what each person should look at next."""

from dataclasses import dataclass

from django.db.models import Max, Q

from . import workflow
from .models import Story

DESK_ROWS = 10


@dataclass
class Queue:
    title: str
    count: int
    stories: list
    empty: str


def _queue(title, queryset, empty) -> Queue:
    return Queue(title, queryset.count(), list(queryset[:DESK_ROWS]), empty)


def desk_for(user) -> list[Queue]:
    """The queues for user's role, each with a count and its first rows."""
    S = Story.Status
    mine = Story.objects.filter(authors=user)
    queues = [
        _queue(
            "My drafts",
            mine.filter(status=S.DRAFT).order_by("-updated_at"),
            "No drafts.",
        ),
        _queue(
            "Changes requested of me",
            mine.filter(status=S.CHANGES_REQUESTED).order_by("-updated_at"),
            "Nothing sent back.",
        ),
    ]
    if workflow.is_editor(user):
        # Oldest submission first: whoever has waited longest is seen first.
        waiting = (
            Story.objects.filter(status=S.IN_REVIEW)
            .annotate(
                submitted_at=Max(
                    "transitions__created_at",
                    filter=Q(transitions__to_status=S.IN_REVIEW),
                )
            )
            .order_by("submitted_at", "pk")
        )
        queues.insert(
            0, _queue("Awaiting review", waiting, "The review queue is empty.")
        )
        queues.append(
            _queue(
                "Approved, not yet published",
                Story.objects.filter(status__in=[S.APPROVED, S.SCHEDULED]).order_by(
                    "scheduled_at", "-updated_at"
                ),
                "Nothing approved is waiting.",
            )
        )
    else:
        queues.append(
            _queue(
                "My stories in review",
                mine.filter(status=S.IN_REVIEW).order_by("-updated_at"),
                "Nothing in review.",
            )
        )
    queues.append(
        _queue(
            "Recently published",
            Story.objects.published()
            .select_related("live_revision")
            .order_by("-last_published_at", "-pk"),
            "Nothing published yet.",
        )
    )
    return queues


@dataclass
class ScheduledItem:
    at: object
    kind: str
    story: Story


def schedule_by_day(limit: int = 500) -> list[tuple]:
    """Upcoming publications and expiries as [(day, [(hour, [items])])], in
    the newsroom's time zone."""
    from itertools import groupby

    from django.utils import timezone

    now = timezone.now()
    items = [
        ScheduledItem(story.scheduled_at, "Publication", story)
        for story in Story.objects.filter(
            status=Story.Status.SCHEDULED, scheduled_at__isnull=False
        ).order_by("scheduled_at")[:limit]
    ] + [
        ScheduledItem(story.expires_at, "Expiry", story)
        for story in Story.objects.filter(
            status__in=[Story.Status.PUBLISHED, Story.Status.SCHEDULED],
            expires_at__gte=now,
        ).order_by("expires_at")[:limit]
    ]
    items.sort(key=lambda item: item.at)
    local = lambda item: timezone.localtime(item.at)  # noqa: E731
    days = []
    for day, day_items in groupby(items, key=lambda item: local(item).date()):
        hours = [
            (hour, list(group))
            for hour, group in groupby(day_items, key=lambda item: local(item).hour)
        ]
        days.append((day, hours))
    return days


def alerts_for(user) -> list[str]:
    """Warnings every admin page shows editors: missed schedules in the last
    day and background tasks that kept failing."""
    from datetime import timedelta

    from django.utils import timezone

    from .models import FailedTask, StoryTransition

    if not workflow.is_editor(user):
        return []
    alerts = []
    since = timezone.now() - timedelta(days=1)
    late = (
        StoryTransition.objects.filter(late_by__isnull=False, created_at__gte=since)
        .select_related("story")
        .order_by("-id")[:5]
    )
    for transition in late:
        alerts.append(
            f"\u201c{transition.story}\u201d was "
            f"{transition.get_to_status_display().lower()} "
            f"{transition.late_by.total_seconds():.0f} s late: the scheduler missed it."
        )
    failed = FailedTask.objects.filter(resolved_at__isnull=True).count()
    if failed:
        alerts.append(
            f"{failed} background task{'s' if failed != 1 else ''} kept failing; "
            "see Failed tasks."
        )
    return alerts
