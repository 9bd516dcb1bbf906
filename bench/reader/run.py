"""Reader throughput: the story page, home page and search under the app
servers, against nginx serving the same bytes (the limit) and a bare WSGI
function returning them under the same server (the floor that server pays).

Starts Redis, PostgreSQL (where installed), loads 300 published stories, and
for gunicorn (sync workers) and granian (WSGI) measures requests per second
and p50/p99 latency with wrk on 127.0.0.1: cold (page cache off, every request
rendered by Django; also without the per-process article memo) and from
the page cache. Prints ratios to nginx and, on the last row of each mode,
peak memory: the sum of the high-water marks (VmHWM) of the server's master
and its workers after that mode's runs.

    .venv/bin/python bench/reader/run.py [--seconds 8] [--connections 16]
"""

import argparse
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from bench.services import (  # noqa: E402
    Services,
    finish,
    free_port,
    granian,
    gunicorn,
    nginx_static,
    production_like_django,
    spawn,
    wait_for_port,
    wrk,
)

WORKERS = 2  # one per core


def peak_rss_mb(pid):
    """Peak resident memory of a process and its children (VmHWM), in MB."""
    total = 0
    pids = [pid] + [
        int(p)
        for p in subprocess.run(
            ["pgrep", "-P", str(pid)], capture_output=True, text=True
        ).stdout.split()
    ]
    for p in pids:
        try:
            status = Path(f"/proc/{p}/status").read_text()
        except OSError:
            continue
        match = re.search(r"VmHWM:\s+(\d+) kB", status)
        if match:
            total += int(match.group(1))
    return total / 1024


def start_server(kind, app, port, env):
    command = (gunicorn if kind == "gunicorn" else granian)(port, WORKERS, app)
    process = spawn(command, env)
    wait_for_port(port)
    time.sleep(1)
    return process


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    for tool in ("nginx", "wrk"):
        if shutil.which(tool) is None and not Path(f"/usr/sbin/{tool}").exists():
            raise SystemExit(f"{tool} is needed: apt-get install nginx wrk")

    with Services() as services:
        base_env = production_like_django(services)
        database_url = base_env["DATABASE_URL"]
        story_path = load_content()

        pages = {"story": story_path, "home": "/", "search": "/search/?q=defence"}
        results = []

        # nginx: each page's bytes as a static file.
        static_dir = services.dir / "static"
        static_dir.mkdir()
        port = free_port()
        server = start_server(
            "gunicorn",
            "newsroom.wsgi:application",
            port,
            {**base_env, "PAGE_CACHE_SECONDS": "0"},
        )
        import urllib.request

        captured = {}
        for name, path in pages.items():
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}") as response:
                body = response.read()
                # Hop-by-hop and per-response headers belong to the server,
                # not the page ("Connection: close" would disable keep-alive).
                captured[name] = (
                    body,
                    [
                        (k, v)
                        for k, v in response.getheaders()
                        if k.lower()
                        not in (
                            "connection",
                            "keep-alive",
                            "date",
                            "server",
                            "transfer-encoding",
                            "content-length",
                        )
                    ],
                )
            (static_dir / f"{name}.html").write_bytes(body)
        finish(server)
        nginx_results = {}
        with nginx_static(services, "reader", static_dir, "text/html") as nginx_port:
            for name in pages:
                nginx_results[name] = wrk(
                    f"http://127.0.0.1:{nginx_port}/{name}.html",
                    args.seconds,
                    args.connections,
                )

        for kind in ("gunicorn", "granian"):
            # Floor: bare WSGI returning the story page's bytes.
            body_file = services.dir / "bare-body"
            headers_file = services.dir / "bare-headers.json"
            body_file.write_bytes(captured["story"][0])
            headers_file.write_text(json.dumps(captured["story"][1]))
            port = free_port()
            server = start_server(
                kind,
                "bench.reader.bare_wsgi:application",
                port,
                {
                    **base_env,
                    "BARE_BODY": str(body_file),
                    "BARE_HEADERS": str(headers_file),
                },
            )
            bare = wrk(f"http://127.0.0.1:{port}/", args.seconds, args.connections)
            finish(server)
            results.append(
                (kind, "bare WSGI", "story", bare, nginx_results["story"], None)
            )
            # cold: every request rendered by Django (page cache off), with
            # each published article rendered once per process; no memo:
            # the article rendered on every request too.
            modes = (
                ("cold", "0", "500", pages),
                ("no memo", "0", "0", {"story": pages["story"]}),
                ("cached", "600", "500", pages),
            )
            for mode, cache_seconds, memo_entries, mode_pages in modes:
                port = free_port()
                server = start_server(
                    kind,
                    "newsroom.wsgi:application",
                    port,
                    {
                        **base_env,
                        "PAGE_CACHE_SECONDS": cache_seconds,
                        "ARTICLE_MEMO_ENTRIES": memo_entries,
                    },
                )
                for name, path in mode_pages.items():
                    if mode == "cached":  # warm it
                        urllib.request.urlopen(f"http://127.0.0.1:{port}{path}").read()
                    measured = wrk(
                        f"http://127.0.0.1:{port}{path}", args.seconds, args.connections
                    )
                    results.append(
                        (kind, mode, name, measured, nginx_results[name], None)
                    )
                memory = peak_rss_mb(server.pid)
                results[-1] = results[-1][:5] + (memory,)
                finish(server)

    print(
        f"bench/reader: {WORKERS} workers per server, wrk -t2 -c{args.connections} "
        f"-d{args.seconds}s on 127.0.0.1, "
        f"{'PostgreSQL' if 'postgres' in database_url else 'SQLite'} + Redis"
    )
    print(
        f"{'server':10}{'mode':11}{'page':8}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'x nginx':>9}{'errors':>8}{'peak MB':>9}"
    )
    for name, measured in nginx_results.items():
        print(
            f"{'nginx':10}{'static':11}{name:8}{measured['rps']:10.0f}{measured['p50']:9.2f}"
            f"{measured['p99']:9.2f}{1:9.3f}{measured['errors']:8d}"
        )
    for kind, mode, name, measured, limit, memory in results:
        memory_text = f"{memory:9.0f}" if memory else ""
        print(
            f"{kind:10}{mode:11}{name:8}{measured['rps']:10.0f}{measured['p50']:9.2f}"
            f"{measured['p99']:9.2f}{measured['rps'] / limit['rps']:9.3f}"
            f"{measured['errors']:8d}{memory_text}"
        )


def load_content():
    """300 published stories; returns the richest one's path."""
    from django.contrib.auth.models import Group, User

    from entities.models import Entity
    from stories import services
    from stories.models import Outlet, Section, SourceSummary, Story, StoryEntity

    editor = User.objects.create_user(
        "bench-editor", first_name="Bench", last_name="Editor", is_staff=True
    )
    editor.groups.add(Group.objects.get(name="Editors"))
    entities = [
        Entity.objects.create(
            name=f"Topic {n}", kind="topic", short_description="A recurring subject."
        )
        for n in range(20)
    ]
    outlets = list(Outlet.objects.all()[:8])
    rich = None
    for n in range(300):
        story = Story.objects.create(
            headline=f"Defence explainer number {n}",
            summary="Governments are spending more on defence; "
            "this explains why and what follows.",
            papers_overview="<p>Coverage differed in emphasis.</p>" * 3,
            background="<p>Tensions have grown for a decade.</p>" * 3,
        )
        Section.objects.bulk_create(
            Section(
                story=story,
                position=i,
                heading=f"Angle {i}",
                body="<p>"
                + "Analysis of the spending plans and their effects. " * 12
                + "</p>",
            )
            for i in range(6)
        )
        SourceSummary.objects.bulk_create(
            SourceSummary(
                story=story,
                position=i,
                outlet=o,
                summary="Covered the budget in depth.",
            )
            for i, o in enumerate(outlets[:4])
        )
        StoryEntity.objects.bulk_create(
            StoryEntity(story=story, entity=e, position=i)
            for i, e in enumerate(entities[n % 5 : n % 5 + 6])
        )
        story.tags.add("defence", f"theme-{n % 10}")
        story.authors.add(editor)
        services.publish_story(story=story, by=editor)
        rich = story
    rich.refresh_from_db()
    from django.db import connection

    if connection.vendor == "postgresql":
        # What autovacuum would have done by the time readers arrive: plans
        # made on an empty table's statistics are not the ones production runs.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return rich.get_absolute_url()


if __name__ == "__main__":
    main()
