"""Content API throughput: the story list, a filtered list and a story's
detail under granian (as shipped), against nginx serving the same bytes
(the limit) and the story's HTML page measured in the same run.

Starts Redis and PostgreSQL (where installed), loads the reader
benchmark's 300 published stories, and measures requests per second and
p50/p99 latency with wrk on 127.0.0.1 with the page cache off, so every
request runs Django and the API view. The rate limit is off (one client
sends all the load), except in the last row, which counts every request
in Redis under a limit too high to trip: the throttle's own cost.

    flock /work/bench.lock .venv/bin/python bench/api/run.py [--seconds 8]
"""

import argparse
import shutil
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from bench.reader.run import load_content  # noqa: E402
from bench.services import (  # noqa: E402
    Services,
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


def start(env):
    port = free_port()
    process = spawn(granian(port, WORKERS), env)
    wait_for_port(port)
    time.sleep(1)
    return process, port


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
        story_path = load_content()
        # The story detail last, so the throttled run that follows it is
        # measured under the same load from elsewhere on the machine.
        pages = {
            "page": story_path,
            "list": "/api/v1/stories/",
            "filtered": "/api/v1/stories/?tag=theme-3&page_size=20",
            "detail": f"/api/v1{story_path}",
        }
        env = {**base_env, "PAGE_CACHE_SECONDS": "0", "API_RATE_LIMIT": "0"}
        server, port = start(env)
        bodies = {}
        for name, path in pages.items():
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}") as response:
                bodies[name] = response.read()
        root = services.dir / "api-static"
        root.mkdir()
        for name, body in bodies.items():
            (root / name).write_bytes(body)
        with nginx_static(services, "api", root, "application/json") as nginx_port:
            limits = {
                name: wrk(
                    f"http://127.0.0.1:{nginx_port}/{name}",
                    args.seconds,
                    args.connections,
                )
                for name in pages
            }
        results = [
            (
                name,
                "",
                wrk(f"http://127.0.0.1:{port}{path}", args.seconds, args.connections),
            )
            for name, path in pages.items()
        ]
        finish(server)
        throttled_env = {**env, "API_RATE_LIMIT": str(10**9)}
        server, port = start(throttled_env)
        results.append(
            (
                "detail",
                "throttle on",
                wrk(
                    f"http://127.0.0.1:{port}{pages['detail']}",
                    args.seconds,
                    args.connections,
                ),
            )
        )
        finish(server)

    page_rps = next(m["rps"] for name, note, m in results if name == "page")
    print(
        f"bench/api: granian, {WORKERS} workers, page cache off, wrk -t2 "
        f"-c{args.connections} -d{args.seconds}s on 127.0.0.1, "
        f"{'PostgreSQL' if 'postgres' in base_env['DATABASE_URL'] else 'SQLite'}"
    )
    print(
        f"{'request':10}{'':13}{'bytes':>8}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'x nginx':>9}{'x page':>8}{'errors':>8}"
    )
    for name, measured in limits.items():
        print(
            f"{name:10}{'nginx static':13}{len(bodies[name]):8d}"
            f"{measured['rps']:9.0f}{measured['p50']:9.2f}{measured['p99']:9.2f}"
            f"{1:9.3f}{'':8}{measured['errors']:8d}"
        )
    for name, note, measured in results:
        print(
            f"{name:10}{note or 'granian':13}{len(bodies[name]):8d}"
            f"{measured['rps']:9.0f}{measured['p50']:9.2f}{measured['p99']:9.2f}"
            f"{measured['rps'] / limits[name]['rps']:9.3f}"
            f"{measured['rps'] / page_rps:8.2f}{measured['errors']:8d}"
        )
    print(f"(detail and page are {story_path}; page is its HTML story page)")


if __name__ == "__main__":
    main()
