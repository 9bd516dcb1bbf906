"""The deployment files agree with the code (no Docker engine runs here)."""

import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.urls import resolve

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]


def test_compose_runs_every_part_of_the_stack():
    assert {"postgres", "redis", "web", "worker", "beat"} <= set(SERVICES)
    for name in ("postgres", "redis", "web", "worker", "beat"):
        assert "healthcheck" in SERVICES[name], name
    for name in ("web", "worker", "beat"):
        assert SERVICES[name]["restart"] == "unless-stopped", name
    assert {"postgres-data", "redis-data", "media"} <= set(COMPOSE["volumes"])


def test_compose_commands_point_at_real_code():
    web = SERVICES["web"]["command"]
    assert web[0] == "granian" and web[web.index("--interface") + 1] == "wsgi"
    module, attribute = web[-1].split(":")
    assert hasattr(importlib.import_module(module), attribute)
    # The WSGI entry point is the one with the page cache in front.
    from newsroom.pagecache import PageCacheApp

    assert isinstance(importlib.import_module(module).application, PageCacheApp)
    for name in ("worker", "beat"):
        command = SERVICES[name]["command"]
        assert command[:3] == ["celery", "-A", "newsroom"]
        assert command[3] == name
    assert importlib.import_module("newsroom").celery_app.main == "newsroom"
    assert SERVICES["migrate"]["command"][-2:] == ["migrate", "--noinput"]
    from django.core.management import get_commands

    assert SERVICES["beat"]["healthcheck"]["test"][-1] in get_commands()


def test_compose_environment_is_read_by_settings():
    settings_source = (ROOT / "newsroom" / "settings.py").read_text()
    for variable in SERVICES["web"]["environment"]:
        assert f'"{variable}"' in settings_source, variable
    env = SERVICES["web"]["environment"]
    assert env["DATABASE_URL"].startswith("postgres://")
    assert env["REDIS_URL"].startswith("redis://redis:")


def test_compose_healthcheck_path_exists():
    probe = " ".join(SERVICES["web"]["healthcheck"]["test"])
    path = re.search(r"127\.0\.0\.1:8000(/\w+)", probe).group(1)
    from newsroom.health import HEALTH_PATH

    assert path == HEALTH_PATH


def test_healthz_answers_plain_http_probes_from_any_host(client, db):
    response = client.get("/healthz", HTTP_HOST="10.0.0.7:8000")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "cache": "ok"}


def test_dockerfile_installs_the_locked_dependencies():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "requirements/base.lock" in dockerfile
    assert (ROOT / "requirements" / "base.lock").exists()


def _check_deploy(**env):
    environment = {
        k: v
        for k, v in os.environ.items()
        if k not in {"SECURE_SSL_REDIRECT", "SECURE_COOKIES", "DEBUG"}
    }
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
    )


def test_check_deploy_is_clean_with_debug_off():
    result = _check_deploy(
        SECRET_KEY="x" * 20 + "a-long-random-production-secret-value-1234567890",
        ALLOWED_HOSTS="news.example.com",
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_settings_refuse_to_start_without_a_secret_key_when_debug_is_off():
    result = _check_deploy(SECRET_KEY="")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_settings_refuse_a_malformed_boolean():
    result = _check_deploy(DEBUG="yes")
    assert result.returncode != 0
    assert "DEBUG must be 'true' or 'false'" in result.stderr


def test_urls_are_namespaced():
    assert resolve("/stories/a-slug/").view_name == "stories:detail"
    assert resolve("/topics/japan/").view_name == "entities:detail"


def test_postgres_connections_give_up_quickly_when_the_host_is_silent():
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from django.conf import settings; import django; django.setup(); "
            "print(settings.DATABASES['default']['OPTIONS'])",
        ],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "newsroom.settings",
            "DEBUG": "true",
            "DATABASE_URL": "postgres://newsroom@db.example.com/newsroom",
        },
        capture_output=True,
        text=True,
    )
    assert "'connect_timeout': 5" in result.stdout, result.stderr


def test_nginx_serves_the_baked_pages_web_and_worker_write():
    nginx = SERVICES["nginx"]
    root = re.search(r"^\s*root (\S+);", _nginx_conf(), re.M).group(1)
    baked = SERVICES["web"]["environment"]["BAKED_PAGES_ROOT"]
    assert f"baked:{root}:ro" in nginx["volumes"]
    for name in ("web", "worker"):
        assert f"baked:{baked}" in SERVICES[name]["volumes"], name
    assert "baked" in COMPOSE["volumes"]
    for volume in nginx["volumes"]:
        source = volume.split(":")[0]
        if source.startswith("./"):
            assert (ROOT / source).exists(), source
    assert "healthcheck" in nginx and "ports" not in SERVICES["web"]


def test_baked_pages_carry_the_headers_django_would_send(client, db):
    headers = (ROOT / "deploy" / "newsroom-baked-headers.inc").read_text()
    response = client.get("/robots.txt")
    for name in (
        "Cache-Control",
        "Content-Security-Policy",
        "Permissions-Policy",
        "Cross-Origin-Opener-Policy",
        "X-Content-Type-Options",
        "X-Frame-Options",
        "Referrer-Policy",
    ):
        assert f'add_header {name} "{response[name]}" always;' in headers, name


@pytest.fixture
def nginx_in_front(tmp_path):
    """deploy/nginx.conf on a free port, in front of a stand-in app that
    answers "from the app: <the path it was asked for>"; yields (port,
    baked root)."""
    import http.server
    import shutil
    import threading

    from tests.redis_server import free_port

    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(binary).exists():
        pytest.skip("needs nginx")

    class App(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.end_headers()
            self.wfile.write(f"from the app: {self.path}".encode())

        do_POST = do_HEAD = do_GET

        def log_message(self, *args):
            pass

    app = http.server.ThreadingHTTPServer(("127.0.0.1", 0), App)
    threading.Thread(target=app.serve_forever, daemon=True).start()
    # nginx's workers may run as another user: the tree must be readable
    # all the way down, which pytest's own temporary folders are not.
    import tempfile

    readable = Path(tempfile.mkdtemp(prefix="newsroom-nginx-"))
    readable.chmod(0o755)
    baked, port = readable / "baked", free_port()
    site = local_nginx_site(baked, app.server_address[1], f"127.0.0.1:{port}")
    (tmp_path / "site.conf").write_text(site)
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\n"
        f"events {{}}\nhttp {{\n include /etc/nginx/mime.types;\n"
        f" client_body_temp_path {tmp_path}/body; proxy_temp_path {tmp_path}/proxy;\n"
        f" include {tmp_path}/site.conf;\n}}\n"
    )
    started = subprocess.run([binary, "-c", str(conf)], capture_output=True, text=True)
    assert started.returncode == 0, started.stderr
    try:
        from bench.services import wait_for_port

        wait_for_port(port)
        yield port, baked
    finally:
        subprocess.run([binary, "-c", str(conf), "-s", "stop"], check=False)
        app.shutdown()
        shutil.rmtree(readable, ignore_errors=True)


def test_nginx_sends_baked_files_only_to_anonymous_plain_requests(nginx_in_front):
    import urllib.request

    port, baked = nginx_in_front
    (baked / "stories" / "x").mkdir(parents=True)
    (baked / "stories" / "x" / "index.html").write_text("baked page")
    (baked / "sitemap.xml").write_text("<urlset/>")

    def fetch(path, method="GET", **headers):
        # As the TLS proxy in front says of a reader's https request.
        headers = {"X-Forwarded-Proto": "https", **headers}
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}{path}", method=method, headers=headers
        )
        with urllib.request.urlopen(request) as response:
            return response.read().decode(), response.headers

    body, headers = fetch("/stories/x/")
    assert body == "baked page" and headers["X-Cache"] == "BAKED"
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert fetch("/sitemap.xml")[1]["Content-Type"].startswith("application/xml")
    app = "from the app: "
    assert fetch("/stories/x/?utm=1")[0] == app + "/stories/x/?utm=1"
    assert fetch("/stories/x/", Cookie="a=1; sessionid=abc")[0] == app + "/stories/x/"
    assert fetch("/stories/x/", method="POST")[0] == app + "/stories/x/"
    # Plain http: the app redirects it to https rather than a file answering.
    plain = fetch("/stories/x/", **{"X-Forwarded-Proto": "http"})[0]
    assert plain == app + "/stories/x/"
    # No file: Django decides (a withdrawn story's 410), at the address asked.
    assert fetch("/stories/y/")[0] == app + "/stories/y/"
    assert fetch("/sitemap-news.xml")[0] == app + "/sitemap-news.xml"
    assert fetch("/admin/")[0] == app + "/admin/"


def _nginx_conf():
    return (ROOT / "deploy" / "nginx.conf").read_text()


def local_nginx_site(baked_root, app_port, listen):
    """deploy/nginx.conf pointed at a local app and baked tree (the
    benchmark runs it too)."""
    return (
        _nginx_conf()
        .replace("/etc/nginx/newsroom/", f"{ROOT}/deploy/")
        .replace("server web:8000;", f"server 127.0.0.1:{app_port};")
        .replace("listen 80;", f"listen {listen};")
        .replace("root /srv/baked;", f"root {baked_root};")
    )
