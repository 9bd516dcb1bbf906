"""The Celery application: reads CELERY_* settings, finds each app's tasks.py."""

import logging
import os
from pathlib import Path

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsroom.settings")

logger = logging.getLogger(__name__)

app = Celery("newsroom")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _create_filesystem_broker_folders(sender, source, **kwargs):
    # The embedded broker keeps messages in folders it expects to exist.
    if str(source.get("broker_url", "")).startswith("filesystem"):
        options = source.get("broker_transport_options") or {}
        for key in ("data_folder_in", "data_folder_out", "control_folder"):
            if options.get(key):
                Path(options[key]).mkdir(parents=True, exist_ok=True)


class RecordedTask(app.Task):
    """A task whose final failure (retries exhausted) is kept for editors to
    see in the admin, instead of vanishing into a log."""

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        from stories.models import FailedTask

        try:
            FailedTask.objects.update_or_create(
                task_id=task_id,
                defaults={
                    "task_name": self.name,
                    "args": list(args),
                    "error": f"{exc.__class__.__name__}: {exc}",
                },
            )
        except Exception:
            logger.exception("Could not record the failure of %s", task_id)
        super().on_failure(exc, task_id, args, kwargs, einfo)


def enqueue_on_commit(task, *args) -> None:
    """Send task once the current transaction commits.

    The change it follows has already been saved by then, so a broker outage
    is logged for the sweep or an operator instead of failing the request.
    """
    from django.db import transaction

    def send():
        try:
            task.delay(*args)
        except Exception:
            logger.exception("Could not enqueue %s%r", task.name, args)

    transaction.on_commit(send)
