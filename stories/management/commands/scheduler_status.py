from django.core.management.base import BaseCommand, CommandError

from stories.scheduler import scheduler_status


class Command(BaseCommand):
    help = (
        "Report whether Celery workers and beat are alive and how late the oldest "
        "overdue scheduled story is. Exits non-zero when the scheduler is unhealthy."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--timeout",
            type=float,
            default=2.0,
            help="Seconds to wait for workers to answer a ping.",
        )

    def handle(self, *args, timeout, **options):
        status = scheduler_status(ping_timeout=timeout)
        self.stdout.write(f"workers: {', '.join(status.workers) or 'none answering'}")
        last = status.last_sweep_at.isoformat() if status.last_sweep_at else "never"
        self.stdout.write(
            f"beat: {'alive' if status.beat_alive else 'NOT RUNNING'} "
            f"(last sweep {last})"
        )
        if status.oldest_overdue_by is None:
            self.stdout.write("overdue: none")
        else:
            self.stdout.write(
                f"overdue: {status.overdue_count} "
                f"(oldest {status.oldest_overdue_by.total_seconds():.1f} s late)"
            )
        if not status.healthy:
            raise CommandError("The scheduler is not healthy.")
        self.stdout.write("scheduler healthy")
