"""Is the scheduler healthy? Workers, beat and the oldest overdue story."""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from .models import Heartbeat, Story


@dataclass
class SchedulerStatus:
    workers: list[str]
    last_sweep_at: object
    beat_alive: bool
    overdue_count: int
    oldest_overdue_by: timedelta | None

    @property
    def healthy(self) -> bool:
        late = self.oldest_overdue_by is not None and (
            self.oldest_overdue_by > settings.SCHEDULE_LATE_AFTER
        )
        return bool(self.workers) and self.beat_alive and not late


def scheduler_status(ping_timeout: float = 2.0) -> SchedulerStatus:
    from newsroom.celery import app
    from stories.tasks import SWEEP_HEARTBEAT

    try:
        replies = app.control.ping(timeout=ping_timeout) or []
    except Exception:
        replies = []
    workers = sorted(name for reply in replies for name in reply)
    beat = Heartbeat.objects.filter(name=SWEEP_HEARTBEAT).first()
    interval = settings.CELERY_BEAT_SCHEDULE["sweep-schedules"]["schedule"]
    now = timezone.now()
    beat_alive = beat is not None and now - beat.beat_at < timedelta(
        seconds=3 * interval + 5
    )
    overdue = Story.objects.filter(status=Story.Status.SCHEDULED, scheduled_at__lte=now)
    oldest = (
        overdue.order_by("scheduled_at").values_list("scheduled_at", flat=True).first()
    )
    return SchedulerStatus(
        workers=workers,
        last_sweep_at=beat.beat_at if beat else None,
        beat_alive=beat_alive,
        overdue_count=overdue.count(),
        oldest_overdue_by=(now - oldest) if oldest else None,
    )
