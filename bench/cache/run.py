"""Page-cache invalidation and publish-time baking, measured in one run.

Starts Redis and PostgreSQL (where installed), publishes STORIES stories
over TOPICS topics and TAGS tags, then:

1. Hit rate. Replays a reader trace through the real WSGI application
   (PageCacheApp, Django, Redis) in this process: story pages (Zipf over
   the stories by recency, so the newest are the most read), home, topic,
   tag and feed pages, while the newsroom publishes a story or corrects a
   recent one every 10 s. The clock is simulated: the trace's SECONDS of
   reading (READS_PER_SECOND per simulated second) run as fast as they
   render, and each publication happens between the reads it falls
   between. Each read is counted as a hit under the targeted invalidation
   (the real answer's X-Cache) and under the old rule, replayed faithfully
   alongside on the same trace: one generation bumped by every publication,
   a page a hit only if it was stored since the last bump.
2. Baked pages served by nginx with deploy/nginx.conf from BAKED_PAGES_ROOT,
   against nginx serving a static file of the same bytes (wrk, 127.0.0.1).
3. Publish to baked: the time from a publication's commit to its story page
   being served from its baked file by that nginx, with a real Celery
   worker baking, over PUBLICATIONS publications one second apart.

    flock /work/bench.lock .venv/bin/python bench/cache/run.py [--reads-per-second 50]
"""

import argparse
import bisect
import http.client
import random
import shutil
import statistics
import subprocess
import sys
import threading
import time
from itertools import accumulate
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from bench.services import (  # noqa: E402
    Services,
    celery,
    finish,
    free_port,
    production_like_django,
    spawn,
    wait_for_port,
    wrk,
)

PUBLISH_EVERY = 10.0  # simulated seconds between publications
HOST = "127.0.0.1"


class Zipf:
    """Ranks 1..n drawn with probability proportional to 1/rank**s."""

    def __init__(self, n, s, rng):
        self.cumulative = list(accumulate(1 / rank**s for rank in range(1, n + 1)))
        self.rng = rng

    def draw(self):
        x = self.rng.random() * self.cumulative[-1]
        return bisect.bisect_left(self.cumulative, x)  # 0-based rank


def load_content(stories, topics, tags, drafts, rng):
    """stories published stories and drafts unpublished ones, each with one
    or two topics and a tag; returns (editor, entities, tags, drafts)."""
    from django.contrib.auth.models import Group, User

    from entities.models import Entity
    from stories import services
    from stories.models import Section, Story, StoryEntity

    editor = User.objects.create_user(
        "bench-editor", first_name="Bench", last_name="Editor", is_staff=True
    )
    editor.groups.add(Group.objects.get(name="Editors"))
    entities = [
        Entity.objects.create(name=f"Topic {n}", kind="topic") for n in range(topics)
    ]
    tag_names = [f"theme-{n}" for n in range(tags)]

    def story(n):
        story = Story.objects.create(
            headline=f"Explainer number {n}",
            summary="Something happened; this explains why and what follows.",
            papers_overview="<p>Coverage differed.</p>",
            background="<p>It began a decade ago.</p>",
        )
        Section.objects.create(
            story=story, heading="Why", body="<p>" + "Analysis. " * 80 + "</p>"
        )
        chosen = rng.sample(entities, rng.choice([1, 2]))
        for position, entity in enumerate(chosen):
            StoryEntity.objects.create(story=story, entity=entity, position=position)
        story.tags.add(rng.choice(tag_names))
        story.authors.add(editor)
        return story

    for n in range(stories):
        services.publish_story(story=story(n), by=editor)
    unpublished = [story(stories + n) for n in range(drafts)]
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return editor, entities, tag_names, unpublished


def request(app, path):
    """GET path through the WSGI application; returns (status, headers)."""
    from django.test import RequestFactory

    environ = RequestFactory().get(path, HTTP_HOST=HOST).environ
    captured = {}

    def start_response(status, headers, exc_info=None):
        captured["status"], captured["headers"] = status, dict(headers)

    for _ in app(environ, start_response):
        pass
    return captured["status"], captured["headers"]


def hit_rate(args, editor, entities, tag_names, drafts, seed, bake):
    """Replay the trace; returns a dict of counts. With bake, the pages a
    publication changed are baked as it commits, as if the worker took no
    time; without, no page is baked."""
    from unittest import mock

    from stories import tasks

    def run_task(*task_args):
        if bake:
            tasks.bake_story_pages_task(*task_args)

    rng = random.Random(seed)
    with mock.patch.object(tasks.bake_story_pages_task, "delay", run_task):
        return _replay(args, editor, entities, tag_names, list(drafts), rng)


class Snapshot:
    """The database as loaded, to replay the same trace from the same
    state: a PostgreSQL template database (or a copy of the SQLite file)."""

    def __init__(self, database_url):
        self.url = database_url
        self.name = database_url.rsplit("/", 1)[1]
        self._run(f'CREATE DATABASE "{self.name}_snapshot" TEMPLATE "{self.name}"')

    def restore(self):
        from django.core.cache import cache

        from newsroom import pagecache
        from stories import rendering

        self._run(
            f'DROP DATABASE "{self.name}" WITH (FORCE)',
            f'CREATE DATABASE "{self.name}" TEMPLATE "{self.name}_snapshot"',
        )
        pagecache._client().flushdb()
        pagecache.local_pages.clear()
        rendering._forget_all(setting="ARTICLE_MEMO_ENTRIES")
        cache.clear()

    def _run(self, *statements):
        import psycopg
        from django.db import connections

        connections.close_all()
        admin = self.url.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            for statement in statements:
                conn.execute(statement)


def _replay(args, editor, entities, tag_names, drafts, rng):
    from newsroom.wsgi import application
    from stories import services
    from stories.models import Story

    live = list(
        Story.objects.published()
        .order_by("-first_published_at", "-pk")
        .values_list("pk", "slug")
    )
    story_rank = Zipf(len(live) + len(drafts), args.zipf, rng)
    topic_rank = Zipf(len(entities), args.zipf, rng)
    tag_rank = Zipf(len(tag_names), args.zipf, rng)
    topic_slugs = [e.slug for e in entities]
    mix = [
        (0.72, "story"),
        (0.10, "home"),
        (0.08, "topic"),
        (0.05, "tag"),
        (0.03, "feed"),
        (0.02, "topic feed"),
    ]
    weights = list(accumulate(share for share, _ in mix))

    def pick():
        kind = mix[bisect.bisect_left(weights, rng.random() * weights[-1])][1]
        if kind == "story":
            rank = min(story_rank.draw(), len(live) - 1)
            return kind, f"/stories/{live[rank][1]}/"
        if kind == "home":
            return kind, "/"
        if kind == "topic":
            return kind, f"/topics/{topic_slugs[topic_rank.draw()]}/"
        if kind == "tag":
            return kind, f"/tags/{tag_names[tag_rank.draw()]}/"
        if kind == "feed":
            return kind, "/feeds/rss/"
        return kind, f"/feeds/topics/{topic_slugs[topic_rank.draw()]}/rss/"

    total_reads = int(args.seconds * args.reads_per_second)
    old_stored: dict[str, int] = {}  # path -> generation it was stored under
    generation = 0
    counts = {"reads": 0, "new hits": 0, "old hits": 0, "events": 0}
    by_kind: dict[str, list[int]] = {}
    next_event = PUBLISH_EVERY
    started = time.monotonic()
    for n in range(total_reads):
        now = n / args.reads_per_second
        while now >= next_event:
            next_event += PUBLISH_EVERY
            counts["events"] += 1
            if counts["events"] % 3 and drafts:
                draft = drafts.pop(0)
                services.publish_story(story=draft, by=editor)
                draft.refresh_from_db()
                live.insert(0, (draft.pk, draft.public_slug))
            else:  # a correction to one of the ten newest stories
                pk, _ = live[rng.randrange(min(10, len(live)))]
                services.publish_story(
                    story=Story.objects.get(pk=pk),
                    by=editor,
                    correction_kind="correction",
                    correction_text="A figure was wrong.",
                )
            generation += 1  # the old rule: every page stale
        kind, path = pick()
        status, headers = request(application, path)
        new_hit = headers.get("X-Cache") == "HIT"
        old_hit = old_stored.get(path) == generation
        if status.startswith(("200", "404", "410", "301")):
            old_stored[path] = generation
        counts["reads"] += 1
        counts["new hits"] += new_hit
        counts["old hits"] += old_hit
        row = by_kind.setdefault(kind, [0, 0, 0])
        row[0] += 1
        row[1] += new_hit
        row[2] += old_hit
    counts["wall seconds"] = time.monotonic() - started
    counts["by kind"] = by_kind
    return counts


def nginx_conf(services, name, server_block):
    directory = services.dir / f"nginx-{name}"
    directory.mkdir()
    conf = directory / "nginx.conf"
    conf.write_text(
        f"""
worker_processes 2;
pid {directory}/nginx.pid;
error_log {directory}/error.log;
events {{ worker_connections 1024; }}
http {{
  include /etc/nginx/mime.types;
  access_log off;
  sendfile on;
  client_body_temp_path {directory}/body;
  proxy_temp_path {directory}/proxy;
  fastcgi_temp_path {directory}/fastcgi;
  uwsgi_temp_path {directory}/uwsgi;
  scgi_temp_path {directory}/scgi;
  {server_block}
}}
"""
    )
    return conf


def deploy_site(baked_root, listen, app_port):
    """deploy/nginx.conf pointed at a local app and baked tree."""
    return (
        (ROOT / "deploy" / "nginx.conf")
        .read_text()
        .replace("/etc/nginx/newsroom/", f"{ROOT}/deploy/")
        .replace("server web:8000;", f"server 127.0.0.1:{app_port};")
        .replace("listen 80;", f"listen {listen};")
        .replace("root /srv/baked;", f"root {baked_root};")
    )


def start_nginx(conf, port):
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    subprocess.run([binary, "-c", str(conf)], check=True)
    wait_for_port(port)
    return binary


def stop_nginx(binary, conf):
    subprocess.run([binary, "-c", str(conf), "-s", "quit"], check=False)


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


# nginx sends baked files only to https requests, as the TLS proxy in front
# of it says.
FROM_TLS_PROXY = {"X-Forwarded-Proto": "https"}


def publish_to_baked(args, services, env, editor, drafts, nginx_port):
    """Publish drafts one a second; for each, the seconds from commit to its
    story page served from its baked file."""
    from newsroom.celery import app
    from stories import services as story_services

    # Emails and suggestions queued by the setup and the trace are not
    # what is measured here.
    app.control.purge()
    log = open(services.dir / "worker.log", "w")
    worker = spawn(celery("worker", "--concurrency=2", "--loglevel=warning"), env, log)
    delays, missed = [], 0
    lock = threading.Lock()

    def watch(path, committed):
        nonlocal missed
        conn = http.client.HTTPConnection(HOST, nginx_port, timeout=5)
        while time.time() - committed < 20:
            conn.request("GET", path, headers=FROM_TLS_PROXY)
            response = conn.getresponse()
            response.read()
            if response.getheader("X-Cache") == "BAKED":
                with lock:
                    delays.append(time.time() - committed)
                return
            time.sleep(0.005)
        with lock:
            missed += 1

    try:
        time.sleep(4)  # let the worker connect and run its start-up sweep
        watchers = []
        for draft in drafts[: args.publications]:
            story_services.publish_story(story=draft, by=editor)
            committed = time.time()
            draft.refresh_from_db()
            watcher = threading.Thread(
                target=watch, args=(draft.get_absolute_url(), committed)
            )
            watcher.start()
            watchers.append(watcher)
            time.sleep(1.0)
        for watcher in watchers:
            watcher.join()
    finally:
        finish(worker)
        log.close()
    return delays, missed


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--stories", type=int, default=300)
    parser.add_argument("--topics", type=int, default=30)
    parser.add_argument("--tags", type=int, default=15)
    parser.add_argument("--seconds", type=float, default=600.0, help="simulated")
    parser.add_argument("--reads-per-second", type=float, default=50.0)
    parser.add_argument("--zipf", type=float, default=1.1)
    parser.add_argument("--publications", type=int, default=60)
    parser.add_argument("--wrk-seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    for tool in ("nginx", "wrk"):
        if shutil.which(tool) is None and not Path(f"/usr/sbin/{tool}").exists():
            raise SystemExit(f"{tool} is needed: apt-get install nginx wrk")
    rng = random.Random(12)  # the content; the trace has its own seed

    with Services() as services:
        baked_root = services.dir / "baked"
        env = production_like_django(
            services,
            BAKED_PAGES_ROOT=str(baked_root),
            PAGE_CACHE_SECONDS="3600",
            # The trace's clock is simulated: see every invalidation at once.
            PAGE_CACHE_RECHECK_MS="0",
            SITE_URL=f"http://{HOST}",
            EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        )
        services.dir.chmod(0o755)  # nginx's workers read the baked tree
        database = (
            "PostgreSQL" if env["DATABASE_URL"].startswith("postgres") else ("SQLite")
        )
        events = int(args.seconds // PUBLISH_EVERY)
        editor, entities, tag_names, drafts = load_content(
            args.stories, args.topics, args.tags, events + args.publications + 1, rng
        )

        # 1. Hit rate on the trace: replayed twice from the same state.
        trace_drafts = drafts[: events + 1]
        later_drafts = drafts[events + 1 :]
        if database != "PostgreSQL":
            raise SystemExit("bench/cache needs PostgreSQL (for its snapshot)")
        snapshot = Snapshot(env["DATABASE_URL"])
        counts = hit_rate(args, editor, entities, tag_names, trace_drafts, 7, False)
        snapshot.restore()
        baked_counts = hit_rate(
            args, editor, entities, tag_names, trace_drafts, 7, True
        )

        # 2. Baked pages from nginx against a static file of the same bytes.
        from newsroom import baked_pages
        from stories.models import Story

        newest = Story.objects.published().order_by("-first_published_at").first()
        path = newest.get_absolute_url()
        baked_pages.bake([path])
        baked_file = baked_pages.file_for(path)
        page_bytes = baked_file.stat().st_size
        static_dir = services.dir / "static-copy"
        static_dir.mkdir()
        shutil.copyfile(baked_file, static_dir / "story.html")
        static_port, deploy_port, headers_port = free_port(), free_port(), free_port()
        static_conf = nginx_conf(
            services,
            "static",
            f"server {{ listen {HOST}:{static_port}; root {static_dir}; }}",
        )
        # The static file again with the headers a baked page carries (those
        # Django sends): what they cost, apart from the rest of the config.
        headers_conf = nginx_conf(
            services,
            "headers",
            f"""map $scheme $newsroom_hsts {{ default ""; }}
  server {{ listen {HOST}:{headers_port}; root {static_dir};
    location / {{ include {ROOT}/deploy/newsroom-baked-headers.inc; }} }}""",
        )
        deploy_conf = nginx_conf(
            services,
            "deploy",
            deploy_site(baked_root, f"{HOST}:{deploy_port}", free_port()),
        )
        binary = start_nginx(static_conf, static_port)
        start_nginx(headers_conf, headers_port)
        start_nginx(deploy_conf, deploy_port)
        try:
            # Alternated, so that a noisy neighbour on the machine weighs on
            # both; the medians are compared.
            rounds = {"static file": [], "+ headers": [], "baked page": []}
            for _ in range(args.rounds):
                rounds["static file"].append(
                    wrk(
                        f"http://{HOST}:{static_port}/story.html",
                        args.wrk_seconds,
                        args.connections,
                    )
                )
                rounds["+ headers"].append(
                    wrk(
                        f"http://{HOST}:{headers_port}/story.html",
                        args.wrk_seconds,
                        args.connections,
                    )
                )
                rounds["baked page"].append(
                    wrk(
                        f"http://{HOST}:{deploy_port}{path}",
                        args.wrk_seconds,
                        args.connections,
                        headers=FROM_TLS_PROXY,
                    )
                )
            stop_nginx(binary, static_conf)
            stop_nginx(binary, headers_conf)
            # 3. Publish to baked, through the same nginx.
            delays, missed = publish_to_baked(
                args, services, env, editor, later_drafts, deploy_port
            )
        finally:
            stop_nginx(binary, deploy_conf)

    reads = counts["reads"]
    print(
        f"bench/cache: {args.stories} stories, {args.topics} topics, {args.tags} tags; "
        f"Redis + {database}"
    )
    print(
        f"1. hit rate: {reads} reads over {args.seconds:.0f} simulated s "
        f"({args.reads_per_second:g}/s, Zipf s={args.zipf} by recency), "
        f"{counts['events']} publications/corrections (one per "
        f"{PUBLISH_EVERY:.0f} s), the same trace from the same state each time"
    )
    print(f"   {'page':12}{'reads':>8}{'old rule':>10}{'targeted':>10}{'+ baking':>10}")
    for kind, (n, new, old) in counts["by kind"].items():
        baked_hits = baked_counts["by kind"][kind][1]
        print(f"   {kind:12}{n:8d}{old / n:10.1%}{new / n:10.1%}{baked_hits / n:10.1%}")
    new_rate, old_rate = counts["new hits"] / reads, counts["old hits"] / reads
    baked_rate = baked_counts["new hits"] / reads
    print(f"   {'all':12}{reads:8d}{old_rate:10.1%}{new_rate:10.1%}{baked_rate:10.1%}")
    print(
        f"   misses: old rule {1 - old_rate:.1%}, targeted {1 - new_rate:.1%} "
        f"({(1 - old_rate) / max(1e-9, 1 - new_rate):.1f} x fewer), with baking "
        f"{1 - baked_rate:.1%}; target >= 95 % hits: "
        f"{'met' if max(new_rate, baked_rate) >= 0.95 else 'NOT met'} "
        f"(replays took {counts['wall seconds']:.0f} s and "
        f"{baked_counts['wall seconds']:.0f} s)"
    )
    print(
        f"2. nginx, wrk -t2 -c{args.connections} -d{args.wrk_seconds}s x "
        f"{args.rounds} rounds each, alternated; the newest story page, "
        f"{page_bytes} bytes:"
    )
    medians = {}
    for name, runs in rounds.items():
        medians[name] = statistics.median(run["rps"] for run in runs)
        each = ", ".join(f"{run['rps']:.0f}" for run in runs)
        print(
            f"   {name:12}{medians[name]:10.0f} req/s median "
            f"(rounds {each}), "
            f"p50 {statistics.median(run['p50'] for run in runs):.2f} ms, "
            f"p99 {statistics.median(run['p99'] for run in runs):.2f} ms, "
            f"errors {sum(run['errors'] for run in runs)}"
        )
    ratio = medians["baked page"] / medians["static file"]
    print(
        f"   the headers alone: {medians['+ headers'] / medians['static file']:.2f}"
        f" x; the baked page against the file with them: "
        f"{medians['baked page'] / medians['+ headers']:.2f} x"
    )
    print(
        f"   baked / static {ratio:.2f} x (medians); target >= 0.9: "
        f"{'met' if ratio >= 0.9 else 'NOT met'}"
    )
    if delays:
        p99 = percentile(delays, 0.99)
        print(
            f"3. publish commit to baked story page served by nginx "
            f"({len(delays)} publications, Celery worker x2): "
            f"p50 {percentile(delays, 0.5):.3f} s, p99 {p99:.3f} s, "
            f"max {max(delays):.3f} s, missed {missed}; target p99 <= 2 s: "
            f"{'met' if p99 <= 2 and not missed else 'NOT met'}"
        )
    else:
        print(f"3. no baked page was served ({missed} missed)")


if __name__ == "__main__":
    main()
