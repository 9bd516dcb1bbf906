"""How late do scheduled stories reach readers?

Starts Redis, PostgreSQL (where installed), gunicorn, a Celery worker and beat,
schedules STORIES stories at staggered times over about a minute, polls each
public URL from another process and reports the delay from scheduled time to
the first HTTP 200, with missed and doubled publications. The baseline, in the
same run, is an editor's "publish now": the delay from the service call to
the first 200, i.e. what the web tier alone costs.

    .venv/bin/python bench/publish_latency/run.py [--stories 200] [--span 60]
"""

import argparse
import http.client
import multiprocessing
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from bench.services import (  # noqa: E402
    Services,
    celery,
    finish,
    free_port,
    gunicorn,
    production_like_django,
    spawn,
    wait_for_port,
)

POLL_EVERY = 0.02
GIVE_UP_AFTER = 20.0


def poll(port, jobs, results):
    """For each (path, not_before, deadline): GET until 200; report the time."""

    def watch(job):
        path, start, deadline = job
        time.sleep(max(0.0, start - time.time()))
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        while time.time() < deadline:
            try:
                conn.request("GET", path)
                response = conn.getresponse()
                response.read()
                if response.status == 200:
                    return path, time.time()
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            time.sleep(POLL_EVERY)
        return path, None

    with ThreadPoolExecutor(max_workers=48) as pool:
        for path, seen in pool.map(watch, jobs):
            results[path] = seen


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--stories", type=int, default=200)
    parser.add_argument(
        "--span", type=float, default=60.0, help="seconds over which to schedule"
    )
    parser.add_argument("--baseline", type=int, default=20)
    args = parser.parse_args()

    with Services() as services:
        env = production_like_django(services, SCHEDULE_SWEEP_SECONDS="5")
        database_url = env["DATABASE_URL"]
        from django.contrib.auth.models import Group, User
        from django.utils import timezone

        from stories import services as story_services
        from stories.models import Section, Story, StoryTransition

        editor = User.objects.create_user("bench-editor", is_staff=True)
        editor.groups.add(Group.objects.get(name="Editors"))

        def approved_story(n):
            story = Story.objects.create(
                headline=f"Benchmark story {n}",
                summary="A story published by the benchmark.",
            )
            Section.objects.create(story=story, heading="Why", body="<p>Because.</p>")
            story_services.record_save(story=story, by=editor)
            story_services.take_action(story=story, action="approve", by=editor)
            return Story.objects.get(pk=story.pk)

        total = args.stories + args.baseline
        stories = [approved_story(n) for n in range(total)]
        port = free_port()
        log = open(services.dir / "processes.log", "w")
        processes = [
            spawn(gunicorn(port, workers=3), env, log),
            spawn(celery("worker", "--concurrency=2", "--loglevel=warning"), env, log),
            spawn(
                celery(
                    "beat",
                    "--loglevel=warning",
                    f"--schedule={services.dir / 'beat-schedule'}",
                ),
                env,
                log,
            ),
        ]
        try:
            wait_for_port(port)
            time.sleep(3)  # let the worker connect before the first ETA
            manager = multiprocessing.Manager()

            # Baseline: publish now, from the service call to the first 200.
            baseline = stories[: args.baseline]
            results = manager.dict()
            jobs, started = [], {}
            for story in baseline:
                path = f"/stories/{story.slug}/"
                jobs.append((path, time.time(), time.time() + GIVE_UP_AFTER))
            poller = multiprocessing.Process(target=poll, args=(port, jobs, results))
            poller.start()
            for story in baseline:
                started[f"/stories/{story.slug}/"] = time.time()
                story_services.publish_story(story=story, by=editor)
                time.sleep(0.1)
            poller.join()
            base_delays = [results[p] - started[p] for p in started if results.get(p)]

            # Scheduled: staggered over the span, starting 15 s from now.
            scheduled = stories[args.baseline :]
            first = timezone.now() + timedelta(seconds=15)
            step = args.span / max(1, len(scheduled) - 1)
            jobs, due = [], {}
            for i, story in enumerate(scheduled):
                at = first + timedelta(seconds=i * step)
                story_services.take_action(
                    story=story, action="schedule", by=editor, scheduled_at=at
                )
                path = f"/stories/{story.slug}/"
                due[path] = at.timestamp()
                jobs.append(
                    (path, at.timestamp() - 0.5, at.timestamp() + GIVE_UP_AFTER)
                )
            results = manager.dict()
            poller = multiprocessing.Process(target=poll, args=(port, jobs, results))
            poller.start()
            poller.join()
            delays = [max(0.0, results[p] - due[p]) for p in due if results.get(p)]
            missed = [p for p in due if not results.get(p)]
            counts = {}
            for story_id in StoryTransition.objects.filter(
                story__in=scheduled, to_status=Story.Status.PUBLISHED
            ).values_list("story_id", flat=True):
                counts[story_id] = counts.get(story_id, 0) + 1
            doubled = sum(1 for n in counts.values() if n > 1)
            late = StoryTransition.objects.filter(
                story__in=scheduled, late_by__isnull=False
            ).count()
        finally:
            for process in processes:
                finish(process)
            log.close()

    database = "PostgreSQL" if database_url.startswith("postgres") else "SQLite"
    print(
        f"publish_latency: {len(scheduled)} scheduled over {args.span:.0f} s; "
        f"worker (prefork x2), beat, Redis, {database}, gunicorn x3"
    )
    print(f"{'':24}{'p50':>9}{'p99':>9}{'max':>9}")
    if base_delays:
        print(
            f"{'baseline publish now':24}{percentile(base_delays, 0.5):9.3f}"
            f"{percentile(base_delays, 0.99):9.3f}{max(base_delays):9.3f}  s"
        )
    if delays:
        print(
            f"{'scheduled':24}{percentile(delays, 0.5):9.3f}"
            f"{percentile(delays, 0.99):9.3f}{max(delays):9.3f}  s"
        )
    if delays and base_delays:
        print(
            "ratio scheduled/baseline p50 "
            f"{statistics.median(delays) / statistics.median(base_delays):.2f}, "
            f"p99 {percentile(delays, 0.99) / percentile(base_delays, 0.99):.2f}"
        )
    print(f"missed {len(missed)}, doubled {doubled}, caught late by the sweep {late}")
    target_met = (
        delays and percentile(delays, 0.99) <= 1.0 and not missed and not doubled
    )
    print(
        "target (p99 <= 1 s, 0 missed, 0 doubled):", "met" if target_met else "NOT met"
    )
    return 0 if target_met else 1


if __name__ == "__main__":
    sys.exit(main())
