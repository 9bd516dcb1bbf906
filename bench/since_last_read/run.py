"""What the "since you last read" box costs: its private request, which no
cache can answer, against the story page it sits on, measured in the same
run under granian as shipped (2 workers, one thread each).

Starts Redis and PostgreSQL (where installed), loads the reader benchmark's
300 stories, republishes the richest one five times with update lines and
changed sections, then loads with wrk on 127.0.0.1: the story page from the
page cache and rendered (page cache off), and the box for a first-time
reader (no cookie) and an up-to-date reader (no query: the cookie and the
address decide) and a returning reader five versions behind (three queries
and a diff). Prints
req/s, p50/p99 and ratios to both story page baselines.

    flock /work/bench.lock .venv/bin/python bench/since_last_read/run.py [--seconds 8]
"""

import argparse
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from bench.services import (  # noqa: E402
    Services,
    finish,
    free_port,
    granian,
    production_like_django,
    spawn,
    wait_for_port,
    wrk,
)

WORKERS = 2


def develop(story_path):
    """Five republications with update lines; returns (story, the revision
    a returning reader saw before them)."""
    from django.contrib.auth.models import User

    from stories import services
    from stories.models import Section, Story

    editor = User.objects.get(username="bench-editor")
    story = Story.objects.get(public_slug=story_path.strip("/").split("/")[-1])
    seen = story.live_revision_id
    for n in range(5):
        Section.objects.filter(story=story, position=n).update(
            body=f"<p>Rewritten after development {n}.</p>"
        )
        services.publish_story(
            story=Story.objects.get(pk=story.pk),
            by=editor,
            update_text=f"Development {n}: what changed and why.",
        )
    story.refresh_from_db()
    return story, seen


def start(env):
    port = free_port()
    server = spawn(granian(port, WORKERS), env)
    wait_for_port(port)
    time.sleep(1)
    return server, port


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()

    from bench.reader.run import load_content

    with Services() as services:
        base_env = production_like_django(services)
        story, seen = develop(load_content())
        from stories.since_last_read import COOKIE_NAME

        page = story.get_absolute_url()
        box = f"{page}since-you-last-read/{story.pk}/{story.live_revision_id}/"
        cookies = {
            "box, first visit": None,
            "box, up to date": f"{story.pk}:{story.live_revision_id}",
            "box, 5 versions behind": f"{story.pk}:{seen}",
        }
        results = []
        for mode, cache_seconds in (("cached", "600"), ("rendered", "0")):
            server, port = start({**base_env, "PAGE_CACHE_SECONDS": cache_seconds})
            url = f"http://127.0.0.1:{port}"
            urllib.request.urlopen(url + page).read()  # warm the cache and memo
            results.append(
                (f"story page, {mode}", wrk(url + page, args.seconds, args.connections))
            )
            if mode == "cached":
                for name, cookie in cookies.items():
                    headers = {"Cookie": f"{COOKIE_NAME}={cookie}"} if cookie else {}
                    request = urllib.request.Request(url + box, headers=headers)
                    body = urllib.request.urlopen(request).read().decode()
                    assert ("Development 4" in body) == name.endswith("behind")
                    measured = wrk(
                        url + box, args.seconds, args.connections, headers=headers
                    )
                    results.append((name, measured))
            finish(server)

    cached, rendered = results[0][1], results[-1][1]
    print(
        f"bench/since_last_read: granian, {WORKERS} workers, wrk -t2 "
        f"-c{args.connections} -d{args.seconds}s on 127.0.0.1, "
        f"{'PostgreSQL' if 'postgres' in base_env['DATABASE_URL'] else 'SQLite'}"
        " + Redis"
    )
    print(
        f"{'request':26}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'x cached':>10}{'x rendered':>12}{'errors':>8}"
    )
    for name, measured in results:
        print(
            f"{name:26}{measured['rps']:9.0f}{measured['p50']:9.2f}"
            f"{measured['p99']:9.2f}{measured['rps'] / cached['rps']:10.3f}"
            f"{measured['rps'] / rendered['rps']:12.3f}{measured['errors']:8d}"
        )


if __name__ == "__main__":
    main()
