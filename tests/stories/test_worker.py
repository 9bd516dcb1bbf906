"""A real Celery worker process, on the broker the settings choose: Redis
where REDIS_URL is set (CI), the embedded filesystem broker otherwise."""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from newsroom import celery_app
from stories import services
from tests.stories.factories import StoryFactory

ROOT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    return f"postgres://{credentials}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def worker_queue():
    """A queue of this test's own, so no other worker on the machine takes
    its messages."""
    queue = f"test-{uuid.uuid4().hex[:12]}"
    previous = celery_app.conf.task_default_queue
    celery_app.conf.task_default_queue = queue
    yield queue
    celery_app.conf.task_default_queue = previous


@pytest.fixture
def worker(worker_queue, tmp_path):
    mail = tmp_path / "mail"
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail),
    }
    log = open(tmp_path / "worker.log", "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "newsroom", "worker", "--pool=solo",
         f"--queues={worker_queue}", "--without-mingle", "--without-gossip",
         "--loglevel=info"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    yield mail
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_real_worker_emails_the_author_when_an_editor_publishes(
    worker, editor, reporter, tmp_path
):
    story = StoryFactory(headline="Worker-delivered story")
    story.authors.add(reporter)

    services.publish_story(story=story, by=editor)

    def messages():
        if not worker.exists():
            return ""
        return "".join(path.read_text() for path in worker.iterdir())

    # One email for the approval, one for the publication.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and messages().count("Subject:") < 2:
        time.sleep(0.2)
    log = (tmp_path / "worker.log").read_text()
    sent = messages()
    assert sent.count("Subject:") == 2, f"emails: {sent!r}; worker log:\n{log}"
    assert "Worker-delivered story: published" in sent
    assert "To: reporter@example.com" in sent
    expected_transport = "redis" if settings.REDIS_URL else "filesystem"
    assert celery_app.conf.broker_url.startswith(expected_transport)
