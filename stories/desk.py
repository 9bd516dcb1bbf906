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
        _queue("My drafts", mine.filter(status=S.DRAFT).order_by("-updated_at"),
               "No drafts."),
        _queue("Changes requested of me",
               mine.filter(status=S.CHANGES_REQUESTED).order_by("-updated_at"),
               "Nothing sent back."),
    ]
    if workflow.is_editor(user):
        # Oldest submission first: whoever has waited longest is seen first.
        waiting = (
            Story.objects.filter(status=S.IN_REVIEW)
            .annotate(submitted_at=Max("transitions__created_at",
                                       filter=Q(transitions__to_status=S.IN_REVIEW)))
            .order_by("submitted_at", "pk")
        )
        queues.insert(0, _queue("Awaiting review", waiting, "The review queue is empty."))
        queues.append(_queue(
            "Approved, not yet published",
            Story.objects.filter(status__in=[S.APPROVED, S.SCHEDULED]).order_by("scheduled_at", "-updated_at"),
            "Nothing approved is waiting.",
        ))
    else:
        queues.append(_queue("My stories in review", mine.filter(status=S.IN_REVIEW)
                             .order_by("-updated_at"), "Nothing in review."))
    queues.append(_queue(
        "Recently published",
        Story.objects.published().select_related("live_revision").order_by("-last_published_at", "-pk"),
        "Nothing published yet.",
    ))
    return queues
