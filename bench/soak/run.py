"""Soak: hold the story page under sustained load for a minute while stories
are published, edited and republished, and report errors, latency and
whether every publication happened exactly once.

Starts Redis, PostgreSQL (where installed), granian (as shipped), a Celery
worker and beat. The baseline, in the same run, is the same load with no
editorial activity.

The load is paced (--rate requests per second over --connections
connections) rather than as fast as the server answers, so both phases ask
the same of it and latency is measured at a pace a busy site sees; the
target is that the busy phase holds at least 95% of the quiet phase's rate
with 0 errors. --rate 0 runs wrk closed-loop instead.

    .venv/bin/python bench/soak/run.py [--seconds 60] [--connections 16] [--rate 2000]
"""

import argparse
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from bench.services import (  # noqa: E402
    Services,
    celery,
    finish,
    free_port,
    granian,
    production_like_django,
    spawn,
    wait_for_port,
    wrk,
)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rate", type=int, default=2000)
    args = parser.parse_args()

    with Services() as services:
        env = production_like_django(services, SCHEDULE_SWEEP_SECONDS="2")
        from django.contrib.auth.models import Group, User
        from django.db import transaction
        from django.utils import timezone

        from stories import services as story_services
        from stories.models import Section, Story, StoryTransition

        editor = User.objects.create_user("soak-editor", is_staff=True)
        editor.groups.add(Group.objects.get(name="Editors"))

        def new_story(n):
            story = Story.objects.create(
                headline=f"Soak story {n}", summary="A story for the soak test."
            )
            Section.objects.create(story=story, heading="Why", body="<p>Because.</p>")
            story_services.record_save(story=story, by=editor)
            story_services.take_action(story=story, action="approve", by=editor)
            return Story.objects.get(pk=story.pk)

        target = new_story(0)
        story_services.take_action(story=target, action="publish", by=editor)
        target.refresh_from_db()
        port = free_port()
        log = open(services.dir / "processes.log", "w")
        processes = [
            spawn(granian(port), env, log),
            spawn(
                celery(
                    "worker",
                    "--beat",
                    "--concurrency=1",
                    "--loglevel=warning",
                    f"--schedule={services.dir / 'beat'}",
                ),
                env,
                log,
            ),
        ]
        try:
            wait_for_port(port)
            time.sleep(3)
            url = f"http://127.0.0.1:{port}{target.get_absolute_url()}"
            wrk(url, 3, args.connections, args.rate)  # warm-up, not reported
            quiet = wrk(url, max(10, args.seconds // 4), args.connections, args.rate)

            stop = threading.Event()
            activity = {"published": 0, "republished": 0, "scheduled": 0}
            scheduled = []

            failures = []

            def newsroom_at_work():
                try:
                    work()
                except Exception as error:  # reported, and fails the run
                    failures.append(repr(error))

            def work():
                n = 1
                while not stop.is_set():
                    story = new_story(n)
                    story_services.take_action(story=story, action="publish", by=editor)
                    activity["published"] += 1
                    later = new_story(n + 1)
                    story_services.take_action(
                        story=later,
                        action="schedule",
                        by=editor,
                        scheduled_at=timezone.now() + timedelta(seconds=2),
                    )
                    scheduled.append(later.pk)
                    activity["scheduled"] += 1
                    # Edit the page under load and republish it.
                    with transaction.atomic():
                        locked = story_services.lock_story(story_id=target.pk)
                        Story.objects.filter(pk=target.pk).update(
                            summary=f"Revised {n}."
                        )
                        locked.refresh_from_db()
                        story_services.record_save(story=locked, by=editor)
                    story_services.take_action(
                        story=target, action="republish", by=editor
                    )
                    activity["republished"] += 1
                    n += 2
                    time.sleep(1)

            worker = threading.Thread(target=newsroom_at_work)
            worker.start()
            busy = wrk(url, args.seconds, args.connections, args.rate)
            stop.set()
            worker.join()
            time.sleep(6)  # let the last scheduled stories go out
            from django.db.models import Count

            counts = (
                StoryTransition.objects.filter(to_status=Story.Status.PUBLISHED)
                .exclude(story=target)
                .values("story")
                .annotate(n=Count("id"))
            )
            doubled = sum(1 for row in counts if row["n"] > 1)
            published_scheduled = Story.objects.filter(
                pk__in=scheduled, status=Story.Status.PUBLISHED
            ).count()
        finally:
            for process in processes:
                finish(process)
            log.close()

    pace = f"held at {args.rate} req/s" if args.rate else "closed loop"
    print(
        f"bench/soak: story page, wrk -c{args.connections} {pace}, granian x2, "
        "worker + beat, Redis, PostgreSQL"
    )
    print(f"{'':28}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'requests':>10}{'errors':>8}")
    for name, result in (("quiet (baseline)", quiet), ("while publishing", busy)):
        print(
            f"{name:28}{result['rps']:9.0f}{result['p50']:9.2f}{result['p99']:9.2f}"
            f"{result['requests']:10d}{result['errors']:8d}"
        )
    print(
        f"ratio busy/quiet req/s {busy['rps'] / max(quiet['rps'], 1):.2f}, "
        f"p99 {busy['p99'] / max(quiet['p99'], 0.001):.2f}"
    )
    print(
        f"activity: {activity}; scheduled published "
        f"{published_scheduled}/{len(scheduled)}, doubled {doubled}"
    )
    if failures:
        print(f"editorial activity failed: {failures}")
    # Both phases are paced alike, so a server that keeps up answers as many
    # requests per second while the newsroom works as while it is quiet.
    held = not args.rate or busy["rps"] >= 0.95 * max(quiet["rps"], 1)
    if args.rate:
        print(
            f"paced at {args.rate} req/s (wrk's timer delivers a little less): "
            f"quiet {quiet['rps']:.0f}, busy {busy['rps']:.0f}, "
            f"held {busy['rps'] / max(quiet['rps'], 1):.0%} of the quiet rate"
        )
    ok = (
        held
        and busy["errors"] == 0
        and doubled == 0
        and not failures
        and published_scheduled == len(scheduled)
    )
    print(
        "target (rate held, 0 errors, every publication once):",
        "met" if ok else "NOT met",
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
