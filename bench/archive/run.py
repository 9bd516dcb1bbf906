"""Reader pages at archive scale: uncached story, home, topic, search and
feed pages at 1,000 and 100,000 stories, against nginx serving the same
bytes.

Starts Redis and PostgreSQL on 127.0.0.1, generates each archive in its own
database with `manage.py generate_archive`, and for each size serves it
under granian as shipped (2 workers, one blocking thread each) with the
page cache off, so every request is rendered by Django. Each page's bytes
are captured and served by nginx, the limit, in the same run. Prints each
page's requests per second and ratio to nginx at both sizes, and how much
of its 1k ratio it keeps at 100k (100k/1k).

    flock /work/bench.lock .venv/bin/python bench/archive/run.py \\
        [--seconds 8] [--connections 16] [--sizes 1000,100000] \\
        [--reuse postgres://postgres@127.0.0.1:5432/archive_{size}]

Generating 100,000 stories takes minutes. To measure again after a change,
`--reuse` names databases an earlier run (or `generate_archive`) filled,
one per size; they are migrated, not regenerated.
"""

import argparse
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from bench.services import (  # noqa: E402
    Services,
    create_database,
    finish,
    free_port,
    granian,
    nginx_static,
    production_like_django,
    spawn,
    wait_for_port,
    wrk,
)

WORKERS = 2  # one per core
PAGES = ("story", "home", "topic", "search", "feed")
# At 100k stories: the least share of nginx's rate each page should reach,
# and of its 1k ratio that it should keep.
TARGETS = {"story": 0.015, "home": 0.015, "topic": 0.015, "search": 0.008}
KEEP_TARGET = 0.67
SEARCH = "/search/?q=defence"  # a word in most generated stories


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--sizes", default="1000,100000")
    parser.add_argument(
        "--reuse",
        metavar="URL",
        help="existing archive databases, with {size} in the name",
    )
    args = parser.parse_args()
    if args.reuse and "{size}" not in args.reuse:
        parser.error("--reuse needs {size} in the database URL")
    sizes = [int(size) for size in args.sizes.split(",")]
    for tool in ("nginx", "wrk"):
        if shutil.which(tool) is None and not Path(f"/usr/sbin/{tool}").exists():
            raise SystemExit(f"{tool} is needed: apt-get install nginx wrk")

    results = {}
    with Services() as services:
        base_env = production_like_django(
            services,
            database_url=args.reuse.format(size=sizes[0]) if args.reuse else None,
        )
        if "postgres" not in base_env["DATABASE_URL"]:
            raise SystemExit("bench/archive needs PostgreSQL's binaries")
        for size in sizes:
            if args.reuse:
                url = args.reuse.format(size=size)
            else:
                url = base_env["DATABASE_URL"].rsplit("/", 1)[0] + f"/archive_{size}"
            env = {**base_env, "DATABASE_URL": url, "PAGE_CACHE_SECONDS": "0"}
            started = time.monotonic()
            if args.reuse:
                migrate(env)
            else:
                generate(url, env, size)
            generated = time.monotonic() - started
            paths = pick_pages(url)
            results[size] = measure(services, env, paths, size, args)
            print(
                f"{size:,} stories {'migrated' if args.reuse else 'generated'} "
                f"in {generated:.0f} s; measured",
                file=sys.stderr,
            )
    report(results, sizes, args)


def migrate(env):
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"], env=env, cwd=ROOT, check=True
    )


def generate(url, env, size):
    create_database(url)
    migrate(env)
    subprocess.run(
        [
            sys.executable,
            "manage.py",
            "generate_archive",
            "--stories",
            str(size),
            "--force",
        ],
        env=env,
        cwd=ROOT,
        check=True,
    )


def pick_pages(url):
    """The same kind of page at every size: the story in the middle of the
    archive, the most written-about topic."""
    import psycopg

    with psycopg.connect(url) as conn:
        story = conn.execute(
            "SELECT public_slug FROM stories_story WHERE status = 'published' "
            "ORDER BY id LIMIT 1 OFFSET (SELECT count(*) / 2 FROM stories_story)"
        ).fetchone()[0]
        topic = conn.execute(
            "SELECT e.slug FROM stories_livetopic t JOIN entities_entity e "
            "ON t.key = 'entity:' || e.id GROUP BY e.slug "
            "ORDER BY count(*) DESC, e.slug LIMIT 1"
        ).fetchone()[0]
    return {
        "story": f"/stories/{story}/",
        "home": "/",
        "topic": f"/topics/{topic}/",
        "search": SEARCH,
        "feed": "/feeds/rss/",
    }


def measure(services, env, paths, size, args):
    port = free_port()
    server = spawn(granian(port, WORKERS), env)
    try:
        wait_for_port(port)
        time.sleep(1)
        static_dir = services.dir / f"static-{size}"
        static_dir.mkdir()
        for name, path in paths.items():
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}") as response:
                (static_dir / f"{name}.html").write_bytes(response.read())
        measured, limits = {}, {}
        with nginx_static(
            services, f"archive-{size}", static_dir, "text/html"
        ) as nginx_port:
            for name, path in paths.items():
                # Both workers prepare their statements and fill their memos.
                for _ in range(2 * WORKERS):
                    urllib.request.urlopen(f"http://127.0.0.1:{port}{path}").read()
                # Each page right after its limit, so that what else the
                # machine is doing weighs on both alike.
                limits[name] = wrk(
                    f"http://127.0.0.1:{nginx_port}/{name}.html",
                    args.seconds,
                    args.connections,
                )
                measured[name] = wrk(
                    f"http://127.0.0.1:{port}{path}", args.seconds, args.connections
                )
    finally:
        finish(server)
    return {name: (measured[name], limits[name]) for name in paths}


def report(results, sizes, args):
    print(
        f"bench/archive: granian, {WORKERS} workers x 1 blocking thread, page "
        f"cache off; wrk -t2 -c{args.connections} -d{args.seconds}s on "
        "127.0.0.1; PostgreSQL + Redis"
    )
    header = f"{'page':8}"
    for size in sizes:
        label = f"{size // 1000}k" if size >= 1000 else str(size)
        header += f"{label + ' req/s':>12}{label + ' x nginx':>13}{'errors':>8}"
    if len(sizes) == 2:
        header += f"{'kept':>8}{'req/s':>7}{'target':>9}"
    print(header)
    for name in PAGES:
        line = f"{name:8}"
        ratios, rates = [], []
        for size in sizes:
            measured, limit = results[size][name]
            ratio = measured["rps"] / limit["rps"]
            ratios.append(ratio)
            rates.append(measured["rps"])
            line += f"{measured['rps']:12.0f}{ratio:13.4f}{measured['errors']:8d}"
        if len(sizes) == 2:
            kept = ratios[1] / ratios[0]
            target = TARGETS.get(name)
            met = kept >= KEEP_TARGET and (target is None or ratios[1] >= target)
            line += f"{kept:8.2f}{rates[1] / rates[0]:7.2f}"
            line += f"{(f'{target:.3f}' if target else '-'):>9}"
            line += "  met" if met else "  MISSED"
        print(line)
    for size in sizes:
        limits = ", ".join(
            f"{name} {results[size][name][1]['rps']:.0f}" for name in PAGES
        )
        print(f"nginx req/s at {size:,}: {limits}")
    print(
        f"kept: the 100k x-nginx ratio over the 1k one (target {KEEP_TARGET}), "
        "and the same for req/s alone; target: the least x nginx at 100k"
    )


if __name__ == "__main__":
    main()
