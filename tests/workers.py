"""Real Celery worker processes for tests, on a queue of the test's own."""

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

from django.db import connection

from newsroom import celery_app

ROOT = Path(__file__).resolve().parents[1]


def database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = db["HOST"] or "localhost"
    return f"postgres://{credentials}@{host}:{db['PORT'] or 5432}/{db['NAME']}"


@contextlib.contextmanager
def own_queue():
    """Send this test's tasks to a queue no other worker on the machine reads."""
    queue = f"test-{uuid.uuid4().hex[:12]}"
    previous = celery_app.conf.task_default_queue
    celery_app.conf.task_default_queue = queue
    try:
        yield queue
    finally:
        celery_app.conf.task_default_queue = previous


@contextlib.contextmanager
def broker(url: str):
    """Point this process's Celery producer at another broker."""
    previous = celery_app.conf.broker_url
    _reset_producer(url)
    try:
        yield
    finally:
        _reset_producer(previous)


def _reset_producer(url):
    celery_app.conf.broker_url = url
    celery_app.conf.broker_write_url = None
    celery_app.conf.broker_read_url = None
    if celery_app._pool is not None:
        celery_app._pool.force_close_all()
        celery_app._pool = None
    celery_app.amqp._producer_pool = None


class Worker:
    def __init__(self, queue, log_path, *, beat=False, env=None, name=None):
        self.log_path = log_path
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "newsroom",
            "worker",
            "--pool=solo",
            f"--queues={queue}",
            "--without-mingle",
            "--without-gossip",
            "--loglevel=info",
            f"--hostname={name or uuid.uuid4().hex[:8]}@%h",
        ]
        if beat:
            command += ["--beat", f"--schedule={log_path}.beat"]
        self.log = open(log_path, "a")
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env={
                **os.environ,
                "DATABASE_URL": database_url(),
                "CELERY_QUEUE": queue,
                **(env or {}),
            },
        )

    def kill(self):
        """As a crash would: no chance to finish or acknowledge anything."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.log.close()

    def output(self) -> str:
        self.log.flush()
        return Path(self.log_path).read_text()


def wait_for(predicate, timeout=60.0, interval=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
