"""Real outages under load: Newsroom served by granian, as in production,
on a PostgreSQL cluster and a Redis of the test's own, which the tests stop
and start while readers keep requesting pages.

- PostgreSQL down: every request is answered at once with the 503 page,
  never a 500 or a dropped connection, and pages come back when it returns
  without restarting the web process.
- Redis down: readers still get pages (cache misses, not errors) and an
  editor can still sign in and open a story in the admin.
"""

import http.cookiejar
import os
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from pathlib import Path

import pytest

from bench.services import (
    Services,
    create_database,
    finish,
    free_port,
    granian,
    spawn,
    wait_for_port,
)
from tests.redis_server import RedisServer

ROOT = Path(__file__).resolve().parents[2]
REQUEST_TIMEOUT = 10  # a hung request fails the test instead of hanging it


class Site:
    """A migrated Newsroom with demo content, served by granian."""

    def __init__(self, tmp_path, *, page_cache_seconds):
        self.services = Services()
        self.redis = self.server = None
        try:
            self._start(tmp_path, page_cache_seconds)
        except BaseException:  # a failed start (or a skip) leaves nothing running
            self.close()
            raise

    def _start(self, tmp_path, page_cache_seconds):
        database_url = self.services.postgres()
        if database_url is None:
            pytest.skip("needs PostgreSQL: `apt-get install postgresql` (.ci/run does)")
        create_database(database_url)
        self.redis = RedisServer(tmp_path).start()
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "newsroom.settings",
            "DEBUG": "false",
            "SECRET_KEY": "outage-test-" + "x" * 40,
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "false",
            "SECURE_COOKIES": "false",
            "DATABASE_URL": database_url,
            "REDIS_URL": self.redis.url,
            "PAGE_CACHE_SECONDS": str(page_cache_seconds),
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "MEDIA_ROOT": str(tmp_path / "media"),
            "STATIC_ROOT": str(tmp_path / "static"),
            "LOG_LEVEL": "CRITICAL",
        }
        self.manage("migrate", "--no-input")
        self.manage("collectstatic", "--no-input")  # as a deploy does
        self.manage("setup_demo", DEBUG="true")
        self.port = free_port()
        self.server = spawn(granian(self.port, workers=1), self.env)
        wait_for_port(self.port)
        self.url = f"http://127.0.0.1:{self.port}"
        self.story_path = re.search(
            r'href="(/stories/[^"]+/)"', self.get("/")[2]
        ).group(1)

    def manage(self, *args, **env):
        subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env={**self.env, **env},
            check=True,
            capture_output=True,
        )

    def get(self, path, opener=None):
        """(status, headers, body) for path; errors are answers too."""
        try:
            with (opener or urllib.request.build_opener()).open(
                self.url + path, timeout=REQUEST_TIMEOUT
            ) as response:
                return response.status, response.headers, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read().decode()

    def close(self):
        # Each step runs even if one before it fails, so no server, Redis or
        # PostgreSQL cluster outlives the test.
        try:
            if self.server is not None:
                finish(self.server)
        finally:
            try:
                if self.redis is not None:
                    self.redis.stop()
            finally:
                self.services.__exit__(None, None, None)


class Readers:
    """Threads requesting pages until stopped; records every outcome
    ("200", "503", or the exception's name for a failed connection)."""

    def __init__(self, site, paths, threads=4):
        self.site, self.paths = site, paths
        self.outcomes = Counter()
        self.latest = {}
        self.unexpected = []  # (path, outcome) other than a page or a 503
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._run, args=(n,), daemon=True)
            for n in range(threads)
        ]

    def __enter__(self):
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=REQUEST_TIMEOUT + 5)

    def _run(self, n):
        deadline = time.monotonic() + 120  # bounded, whatever happens
        while not self._stop.is_set() and time.monotonic() < deadline:
            path = self.paths[n % len(self.paths)]
            try:
                status, headers, _ = self.site.get(path)
                outcome = str(status)
            except Exception as error:  # a refused, reset or timed-out request
                outcome, headers = type(error).__name__, None
            with self._lock:
                self.outcomes[outcome] += 1
                self.latest[outcome] = headers
                if outcome not in ("200", "503"):
                    self.unexpected.append((path, outcome))
            time.sleep(0.01)

    def wait_for(self, outcome, timeout=30):
        start = self.outcomes[outcome]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.outcomes[outcome] > start + 5:
                return True
            time.sleep(0.1)
        return False


@pytest.fixture
def uncached_site(tmp_path):
    site = Site(tmp_path, page_cache_seconds=0)
    yield site
    site.close()


@pytest.fixture
def cached_site(tmp_path):
    site = Site(tmp_path, page_cache_seconds=600)
    yield site
    site.close()


def test_postgres_restarted_under_load_gives_503s_then_pages_without_a_web_restart(
    uncached_site,
):
    site = uncached_site
    paths = [site.story_path, "/", "/search/?q=the"]
    with Readers(site, paths) as readers:
        assert readers.wait_for("200")
        site.services.stop_postgres()
        assert readers.wait_for("503"), readers.outcomes
        outage = readers.latest["503"]
        site.services.start_postgres()
        assert readers.wait_for("200"), readers.outcomes
    assert outage["Retry-After"] == "30"
    assert "no-cache" in outage["Cache-Control"]
    # Nothing but pages and the 503 page: no 500s, resets or timeouts.
    assert set(readers.outcomes) == {"200", "503"}, readers.unexpected[:10]
    assert site.server.poll() is None  # the same web process throughout
    status, _, body = site.get("/healthz")
    assert status == 200 and '"database": "ok"' in body


def test_with_redis_down_readers_get_pages_and_editors_the_admin(cached_site):
    site = cached_site
    paths = [site.story_path, "/"]
    with Readers(site, paths) as readers:
        assert readers.wait_for("200")
        site.redis.stop()
        assert readers.wait_for("200")
        editor = signed_in(site, "editor")
        status, _, body = site.get("/admin/stories/story/", opener=editor)
        assert status == 200 and "Select story to change" in body
        story_link = re.search(r'href="(/admin/stories/story/\d+/change/)', body)
        status, _, _ = site.get(story_link.group(1), opener=editor)
        assert status == 200
        site.redis.start()
        assert readers.wait_for("200")
    assert set(readers.outcomes) == {"200"}, readers.unexpected[:10]


def signed_in(site, username):
    """A urllib opener holding an admin session for a demo account."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    _, _, page = site.get("/admin/login/", opener=opener)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode(
        {
            "csrfmiddlewaretoken": token,
            "username": username,
            "password": f"{username}-demo-password",
            "next": "/admin/",
        }
    ).encode()
    request = urllib.request.Request(
        site.url + "/admin/login/", data=form, headers={"Referer": site.url}
    )
    with opener.open(request, timeout=REQUEST_TIMEOUT) as response:
        assert "/admin/login/" not in response.url, "sign-in failed"
    return opener
