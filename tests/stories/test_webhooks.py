import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from stories import services, tasks
from stories.models import FailedTask, WebhookDelivery
from tests.stories.factories import StoryFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver():
    """A real HTTP endpoint on 127.0.0.1 recording what it receives."""
    received = []
    state = {"fail": 0}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if state["fail"] > 0:
                state["fail"] -= 1
                self.send_response(503)
            else:
                received.append((json.loads(body), self.headers["Idempotency-Key"]))
                self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", received, state
    server.shutdown()


def test_publication_is_posted_once_to_each_webhook_after_commit(
    receiver, editor, settings, monkeypatch, django_capture_on_commit_callbacks
):
    url, received, _ = receiver
    settings.WEBHOOK_URLS = [url]
    queued = []
    monkeypatch.setattr(
        tasks.deliver_webhook_task, "delay", lambda *a: queued.append(a)
    )
    story = StoryFactory()
    with django_capture_on_commit_callbacks(execute=True):
        services.publish_story(story=story, by=editor)
    assert len(queued) == 1  # the publication, not the approval
    assert tasks.deliver_webhook_task(*queued[0]) is True
    assert tasks.deliver_webhook_task(*queued[0]) is False  # redelivered: nothing sent
    payload, key = received[0]
    assert len(received) == 1
    assert payload["event"] == "story.published" and payload["story_id"] == story.pk
    assert key == f"newsroom-transition-{payload['transition_id']}"


def test_a_failing_webhook_raises_for_a_retry_and_records_the_error(
    receiver, editor, settings
):
    url, received, state = receiver
    state["fail"] = 1
    story = StoryFactory()
    services.publish_story(story=story, by=editor)
    transition = story.transitions.get(action="publish")
    with pytest.raises(OSError):
        tasks.deliver_webhook_task.run(transition.pk, url)
    delivery = WebhookDelivery.objects.get()
    assert (
        delivery.attempts == 1
        and delivery.delivered_at is None
        and "503" in delivery.last_error
    )
    assert tasks.deliver_webhook_task.run(transition.pk, url) is True
    assert len(received) == 1


def test_a_webhook_that_keeps_failing_is_listed_for_editors(editor):
    tasks.deliver_webhook_task.on_failure(
        OSError("refused"), "t-9", [1, "http://x"], {}, None
    )
    assert FailedTask.objects.get().task_name == "stories.tasks.deliver_webhook_task"
