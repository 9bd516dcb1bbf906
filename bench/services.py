"""Throwaway PostgreSQL and Redis servers on 127.0.0.1 for benchmarks (and
the outage tests), and the Newsroom processes that run against them."""

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing answered on port {port}")


BIN = Path(sys.executable).parent
APP = "newsroom.wsgi:application"


def granian(port: int, workers: int = 2, app: str = APP) -> list[str]:
    """The web server as shipped (docker-compose.yml): granian, WSGI, HTTP/1."""
    return [
        *(str(BIN / "granian"), "--interface", "wsgi", "--host", "127.0.0.1"),
        *("--port", str(port), "--workers", str(workers), "--http", "1"),
        *("--blocking-threads", "1"),
        *("--no-ws", "--log-level", "warning", app),
    ]


def gunicorn(port: int, workers: int = 2, app: str = APP) -> list[str]:
    return [
        *(str(BIN / "gunicorn"), app, "--bind", f"127.0.0.1:{port}"),
        *("--workers", str(workers), "--worker-class", "sync"),
        *("--log-level", "warning"),
    ]


def celery(*arguments: str) -> list[str]:
    """A Celery command for Newsroom's app: celery("worker", "--beat")."""
    return [sys.executable, "-m", "celery", "-A", "newsroom", *arguments]


def spawn(command: list[str], env: dict, log=subprocess.DEVNULL) -> subprocess.Popen:
    """Start command from the project root in a session of its own, so
    finish() stops it with everything it started."""
    return subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=log,
        start_new_session=True,
    )


def finish(process: subprocess.Popen) -> None:
    """Stop process and its group; kill them if they do not stop in 30 s."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:  # already gone (and reaped)
        return
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


class Services:
    """Start Redis and, where its binaries exist, PostgreSQL; stop them on exit."""

    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="newsroom-bench-"))
        self.processes = []
        self.pg_ctl = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for process in self.processes:
            process.terminate()
            process.wait(timeout=15)
        if self.pg_ctl:
            self._as_postgres(
                [self.pg_ctl, "-D", str(self.dir / "pg"), "-m", "fast", "stop"],
                check=False,
            )
        shutil.rmtree(self.dir, ignore_errors=True)

    def redis(self) -> str:
        binary = shutil.which("redis-server")
        if binary is None:
            raise SystemExit("redis-server is needed: apt-get install redis-server")
        port = free_port()
        self.processes.append(
            subprocess.Popen(
                [
                    binary,
                    "--bind",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    str(self.dir),
                ],
                stdout=subprocess.DEVNULL,
            )
        )
        wait_for_port(port)
        return f"redis://127.0.0.1:{port}/0"

    def postgres(self) -> str | None:
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
        if not bins:
            return None
        initdb, self.pg_ctl = f"{bins[-1]}/initdb", f"{bins[-1]}/pg_ctl"
        port = free_port()
        data, run = self.dir / "pg", self.dir / "pgrun"
        data.mkdir()
        run.mkdir()
        os.chmod(self.dir, 0o755)
        if os.geteuid() == 0:
            # PostgreSQL refuses to run as root.
            self._ensure_user()
            shutil.chown(data, "newsroom-ci")
            shutil.chown(run, "newsroom-ci")
        self._as_postgres(
            [initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"]
        )
        self._pg_options = f"-h 127.0.0.1 -p {port} -k {run} -c fsync=off"
        self.start_postgres()
        return f"postgres://postgres@127.0.0.1:{port}/newsroom_bench"

    def start_postgres(self):
        self._as_postgres(
            [
                self.pg_ctl,
                "-D",
                str(self.dir / "pg"),
                "-l",
                str(self.dir / "pgrun" / "pg.log"),
                "-w",
                "-o",
                self._pg_options,
                "start",
            ]
        )

    def stop_postgres(self):
        """Stop it as an outage would: clients are cut off mid-connection."""
        self._as_postgres(
            [self.pg_ctl, "-D", str(self.dir / "pg"), "-m", "fast", "-w", "stop"]
        )

    def _ensure_user(self):
        try:
            pwd.getpwnam("newsroom-ci")
        except KeyError:
            subprocess.run(
                ["useradd", "--system", "--no-create-home", "newsroom-ci"], check=True
            )

    def _as_postgres(self, command, check=True):
        if os.geteuid() == 0:
            command = ["runuser", "-u", "newsroom-ci", "--", *command]
        subprocess.run(command, check=check, stdout=subprocess.DEVNULL)


def create_database(url: str) -> None:
    import psycopg

    admin = url.rsplit("/", 1)[0] + "/postgres"
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def production_like_django(
    services: Services, database_url: str | None = None, **extra
) -> dict:
    """Start Redis and PostgreSQL (or use SQLite), set up Django in this
    process with production settings against them, migrate and collect
    static files; returns the environment for the server processes.

    With `database_url`, that existing database is used as it is and no
    PostgreSQL is started."""
    redis_url = services.redis()
    if database_url is None:
        database_url = services.postgres()
        if database_url:
            create_database(database_url)
    if not database_url:
        database_url = f"sqlite:///{services.dir / 'bench.sqlite3'}"
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": "bench-only-" + "x" * 40,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "newsroom.settings",
        # Collected here, not into the checkout, where WhiteNoise would then
        # serve stale copies to the development server and the tests.
        "STATIC_ROOT": str(services.dir / "static-root"),
        **extra,
    }
    os.environ.update(env)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    call_command("collectstatic", verbosity=0, interactive=False)
    return env


def wrk(
    url: str,
    seconds: int,
    connections: int,
    rate: int | None = None,
    headers: dict | None = None,
) -> dict:
    """Load url with wrk (2 threads) and read its summary: requests per
    second, p50/p99 in ms, total requests, and errors (non-2xx or 3xx
    answers plus socket errors).

    Without rate, wrk runs closed-loop: each connection sends its next
    request as soon as the last is answered (the most the server can take).
    With rate, each connection waits connections/rate seconds before each
    request, holding the load near rate requests per second; the achieved
    rate falls short by about the latency's share of that wait, and falls
    further when the server cannot keep up. It is still a closed loop per
    connection (wrk2's open loop is not packaged here), so a stall delays
    later requests rather than showing as slow ones: compare rates as well
    as percentiles."""
    import re
    import tempfile

    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    script = None
    if rate:
        # wrk sleeps whole milliseconds: refuse a pace it cannot keep.
        delay_ms, remainder = divmod(connections * 1000, rate)
        if delay_ms < 1 or remainder:
            raise SystemExit(
                f"--rate {rate} over {connections} connections needs a wait of "
                f"{connections * 1000 / rate:g} ms; wrk waits whole milliseconds"
            )
        script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
        script.write(f"function delay() return {delay_ms} end\n")
        script.close()
        command += ["-s", script.name]
    try:
        out = subprocess.run(
            [*command, url],
            capture_output=True,
            text=True,
            timeout=seconds + 60,
        ).stdout
    finally:
        if script:
            os.unlink(script.name)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )

    def percentile(label):
        value, unit = re.search(rf"\s{label}%\s+([\d.]+)(us|ms|s)", out).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "p50": percentile("50"),
        "p99": percentile("99"),
        "errors": (int(non2xx.group(1)) if non2xx else 0)
        + (sum(int(n) for n in sockets.groups()) if sockets else 0),
    }


@contextlib.contextmanager
def nginx_static(services: Services, name: str, root: Path, content_type: str):
    """nginx on a free 127.0.0.1 port serving the files under root as they
    are, each as content_type: the baseline a page's req/s is compared
    with. The same configuration for every benchmark, so their ratios share
    a denominator. Yields the port; stopped on exit."""
    port = free_port()
    run = services.dir / f"nginx-{name}"
    run.mkdir()
    conf = run / "nginx.conf"
    conf.write_text(f"""
worker_processes 2;
pid {run}/nginx.pid;
error_log {run}/error.log;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {run}/body;
  proxy_temp_path {run}/proxy;
  fastcgi_temp_path {run}/fastcgi;
  uwsgi_temp_path {run}/uwsgi;
  scgi_temp_path {run}/scgi;
  server {{
    listen 127.0.0.1:{port};
    root {root};
    location / {{ default_type {content_type}; }}
  }}
}}
""")
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    subprocess.run([nginx, "-c", str(conf)], check=True)
    try:
        wait_for_port(port)
        yield port
    finally:
        subprocess.run([nginx, "-c", str(conf), "-s", "quit"], check=False)
