"""Source links are checked against real HTTP servers on 127.0.0.1, which
only LINK_CHECK_ALLOW_PRIVATE_ADDRESSES lets the checker reach."""

import shutil
import socket
import ssl
import subprocess
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from bs4 import BeautifulSoup
from django.urls import reverse
from django.utils import timezone

from stories import linkcheck, source_links, tasks
from stories.linkcheck import LinkResult, check_url, is_public_address
from stories.models import SourceLink
from tests.stories.factories import (
    OutletFactory,
    SourceLinkFactory,
    SourceSummaryFactory,
    StoryFactory,
)

PUBLIC_ADDRESS = "93.184.216.34"
REAL_GETADDRINFO = socket.getaddrinfo


class Site:
    """What a local server was asked, and how its paths answer: each route
    is a dict with status (200), head_status, location, delay (seconds to
    wait before answering) and gather (answer early once that many requests
    are being answered at once)."""

    def __init__(self):
        self.routes = {}
        self.requests = []
        self.active = 0
        self.most_active = 0
        self.lock = threading.Condition()
        # Set at teardown, so a slow answer does not outlive its test.
        self.released = threading.Event()
        self.base = ""

    def url(self, path):
        return f"{self.base}{path}"

    def paths(self):
        return [path for _method, path, _headers in self.requests]

    def answer(self, handler, method):
        path = handler.path.split("?")[0]
        route = self.routes.get(path, {"status": 404})
        with self.lock:
            self.requests.append((method, handler.path, dict(handler.headers)))
            self.active += 1
            self.most_active = max(self.most_active, self.active)
            self.lock.notify_all()
            if route.get("gather"):
                self.lock.wait_for(
                    lambda: self.active >= route["gather"], route["delay"]
                )
        try:
            if route.get("delay") and not route.get("gather"):
                self.released.wait(route["delay"])
        finally:
            # Before answering: once answered, the client may send its next
            # request before this thread would get here, and it would count
            # as one more at once than the client ever had.
            with self.lock:
                self.active -= 1
        status = route.get(f"{method.lower()}_status", route.get("status", 200))
        handler.send_response(status)
        if "location" in route:
            handler.send_header("Location", route["location"])
        handler.send_header("Content-Length", "2")
        handler.end_headers()
        if method == "GET":
            handler.wfile.write(b"ok")


def serve(site, tls_context=None):
    class Handler(BaseHTTPRequestHandler):
        def do_HEAD(self):
            site.answer(self, "HEAD")

        def do_GET(self):
            site.answer(self, "GET")

        def log_message(self, *args):
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request, client_address):
            pass  # a client that gave up (a timeout test) is expected

    server = Server(("127.0.0.1", 0), Handler)
    if tls_context is not None:
        server.socket = tls_context.wrap_socket(server.socket, server_side=True)
    scheme = "https" if tls_context else "http"
    site.base = f"{scheme}://127.0.0.1:{server.server_port}"
    site.port = server.server_port
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server


@pytest.fixture
def site():
    site = Site()
    server = serve(site)
    yield site
    site.released.set()
    server.shutdown()
    server.server_close()


@pytest.fixture
def local(settings):
    """Let the checker reach the local test server."""
    settings.LINK_CHECK_ALLOW_PRIVATE_ADDRESSES = True


def fake_dns(monkeypatch, answers):
    """Resolve the names in answers (name -> list of addresses, or a list of
    such lists handed out in turn); others as usual. Returns the lookups."""
    lookups = []

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in answers:
            return REAL_GETADDRINFO(host, port, *args, **kwargs)
        lookups.append(host)
        found = answers[host]
        if found and isinstance(found[0], list):
            found = found[min(len(lookups), len(found)) - 1]
        if not found:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            (
                socket.AF_INET6 if ":" in a else socket.AF_INET,
                socket.SOCK_STREAM,
                6,
                "",
                (a, port, 0, 0) if ":" in a else (a, port),
            )
            for a in found
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return lookups


def route_public_address_to(monkeypatch, site):
    """Connections to PUBLIC_ADDRESS reach the local site instead; returns
    the addresses the checker asked to connect to."""
    asked = []
    real_open = linkcheck.open_socket

    def open_socket(addresses, timeout):
        asked.append([sockaddr[0] for _family, sockaddr in addresses])
        if addresses[0][1][0] == PUBLIC_ADDRESS:
            addresses = [(socket.AF_INET, ("127.0.0.1", site.port))]
        return real_open(addresses, timeout)

    monkeypatch.setattr(linkcheck, "open_socket", open_socket)
    return asked


# The outcome of one link ------------------------------------------------------


def test_a_link_that_answers_200_is_ok(site, local):
    site.routes["/ok"] = {}
    assert check_url(site.url("/ok")) == LinkResult(ok=True, status_code=200)
    method, _path, headers = site.requests[0]
    assert method == "HEAD"
    assert "Newsroom" in headers["User-Agent"]


@pytest.mark.parametrize("status", [404, 410, 500, 503])
def test_a_link_that_answers_an_error_is_broken_with_its_code(site, local, status):
    site.routes["/gone"] = {"status": status}
    assert check_url(site.url("/gone")) == LinkResult(ok=False, status_code=status)


@pytest.mark.parametrize("refusal", [405, 501])
def test_a_server_refusing_head_is_asked_with_get(site, local, refusal):
    site.routes["/no-head"] = {"head_status": refusal}
    assert check_url(site.url("/no-head")) == LinkResult(ok=True, status_code=200)
    assert [method for method, _, _ in site.requests] == ["HEAD", "GET"]


def test_redirects_are_followed_to_the_page(site, local):
    site.routes["/old"] = {"status": 301, "location": "/older"}
    site.routes["/older"] = {"status": 302, "location": site.url("/new?x=1")}
    site.routes["/new"] = {"status": 308, "location": "/page"}
    site.routes["/page"] = {}
    assert check_url(site.url("/old")).ok
    assert site.paths() == ["/old", "/older", "/new?x=1", "/page"]


def test_a_redirect_to_a_missing_page_is_broken(site, local):
    site.routes["/moved"] = {"status": 301, "location": "/nowhere"}
    assert check_url(site.url("/moved")) == LinkResult(ok=False, status_code=404)


def test_a_redirect_loop_is_broken_after_a_few_hops(site, local):
    site.routes["/loop"] = {"status": 302, "location": "/loop"}
    result = check_url(site.url("/loop"))
    assert not result.ok and "redirects" in result.error
    assert len(site.requests) == linkcheck.MAX_REDIRECTS + 1


def test_too_many_redirects_are_broken(site, local):
    for hop in range(linkcheck.MAX_REDIRECTS + 1):
        site.routes[f"/{hop}"] = {"status": 307, "location": f"/{hop + 1}"}
    site.routes[f"/{linkcheck.MAX_REDIRECTS + 1}"] = {}
    assert not check_url(site.url("/0")).ok
    assert f"/{linkcheck.MAX_REDIRECTS + 1}" not in site.paths()


@pytest.mark.parametrize(
    "location", ["ftp://127.0.0.1/file", "file:///etc/passwd", "javascript:alert(1)"]
)
def test_a_redirect_to_another_scheme_is_refused(site, local, location):
    site.routes["/away"] = {"status": 302, "location": location}
    result = check_url(site.url("/away"))
    assert not result.ok and "only http and https" in result.error


def test_a_redirect_to_a_loopback_address_is_refused_unfollowed(site, monkeypatch):
    # Public by DNS, so the default setting lets the first hop through.
    fake_dns(monkeypatch, {"news.example": [PUBLIC_ADDRESS]})
    route_public_address_to(monkeypatch, site)
    site.routes["/story"] = {"status": 302, "location": site.url("/admin-only")}
    site.routes["/admin-only"] = {}
    result = check_url(f"http://news.example:{site.port}/story")
    assert not result.ok and "not public" in result.error
    assert site.paths() == ["/story"]


def test_a_server_slower_than_the_timeout_is_broken(site, local, settings):
    settings.LINK_CHECK_TIMEOUT_SECONDS = 0.2
    site.routes["/slow"] = {"delay": 10}
    assert check_url(site.url("/slow")) == LinkResult(ok=False, error="Timed out")


def test_a_refused_connection_is_broken(local):
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    result = check_url(f"http://127.0.0.1:{port}/")
    assert result == LinkResult(ok=False, error="Connection refused")


def test_a_host_that_does_not_resolve_is_broken(monkeypatch):
    fake_dns(monkeypatch, {"gone.example": []})
    result = check_url("https://gone.example/story")
    assert result == LinkResult(ok=False, error="Host name not found")


@pytest.mark.parametrize(
    "url", ["ftp://127.0.0.1/file", "file:///etc/passwd", "mailto:desk@example.com"]
)
def test_other_schemes_are_refused_without_a_lookup(monkeypatch, url):
    lookups = fake_dns(monkeypatch, {"127.0.0.1": ["127.0.0.1"]})
    result = check_url(url)
    assert not result.ok and "only http and https" in result.error
    assert lookups == []


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_loopback_is_refused_by_default_without_a_request(site, host):
    site.routes["/ok"] = {}
    result = check_url(f"http://{host}:{site.port}/ok")
    assert not result.ok and "not public" in result.error
    assert site.requests == []


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "::1",
        "::",
        "fe80::1%eth0",
        "fd12:3456::1",
        "ff02::1",
        "2001:db8::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "::ffff:169.254.169.254",
        "64:ff9b::a00:1",
        "2002:a00:1::",
    ],
)
def test_private_and_special_addresses_are_not_public(address):
    assert not is_public_address(address)


@pytest.mark.parametrize(
    "address", [PUBLIC_ADDRESS, "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"]
)
def test_internet_addresses_are_public(address):
    assert is_public_address(address)


@pytest.mark.parametrize(
    "addresses",
    [["10.0.0.7"], ["fd00::7"], ["::ffff:192.168.0.7"], [PUBLIC_ADDRESS, "10.0.0.7"]],
)
def test_a_host_with_any_private_address_is_refused_without_connecting(
    monkeypatch, site, addresses
):
    fake_dns(monkeypatch, {"intranet.example": addresses})
    asked = route_public_address_to(monkeypatch, site)
    result = check_url("https://intranet.example/")
    assert not result.ok and "not public" in result.error
    assert asked == []


def test_the_checked_address_is_the_one_connected_to(site, monkeypatch):
    # A second lookup would say loopback (DNS rebinding): there must be none.
    lookups = fake_dns(monkeypatch, {"news.example": [[PUBLIC_ADDRESS], ["127.0.0.1"]]})
    asked = route_public_address_to(monkeypatch, site)
    site.routes["/story"] = {}
    assert check_url(f"http://news.example:{site.port}/story").ok
    assert lookups == ["news.example"]
    assert asked == [[PUBLIC_ADDRESS]]
    assert site.requests[0][2]["Host"] == f"news.example:{site.port}"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for news.example: (cert file, key file)."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"]
        + ["-subj", "/CN=news.example", "-addext", "subjectAltName=DNS:news.example"]
        + ["-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.fixture
def tls_site(certificate):
    cert, key = certificate
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    site = Site()
    site.server_names = []
    context.sni_callback = lambda sock, name, ctx: site.server_names.append(name)
    server = serve(site, context)
    yield site
    site.released.set()
    server.shutdown()
    server.server_close()


def test_https_verifies_the_certificate_for_the_host_name(
    tls_site, certificate, local, monkeypatch
):
    fake_dns(monkeypatch, {"news.example": ["127.0.0.1"]})
    trusting = ssl.create_default_context(cafile=str(certificate[0]))
    monkeypatch.setattr(linkcheck, "_tls_context", lambda: trusting)
    tls_site.routes["/story"] = {}
    assert check_url(f"https://news.example:{tls_site.port}/story").ok
    assert tls_site.server_names == ["news.example"]
    assert tls_site.requests[0][2]["Host"] == f"news.example:{tls_site.port}"


def test_an_untrusted_certificate_is_broken(tls_site, local, monkeypatch):
    fake_dns(monkeypatch, {"news.example": ["127.0.0.1"]})
    tls_site.routes["/story"] = {}
    result = check_url(f"https://news.example:{tls_site.port}/story")
    assert not result.ok and result.error.startswith("TLS certificate not valid")
    assert tls_site.requests == []


# Checking every link ------------------------------------------------------------


def links_at(site, *paths):
    story = StoryFactory()
    for path in paths:
        SourceSummaryFactory(story=story, url=site.url(path))
    return story


@pytest.mark.django_db
def test_every_distinct_summary_url_gets_one_link_and_unused_ones_go():
    story = StoryFactory()
    SourceSummaryFactory(story=story, url="https://a.example/1")
    SourceSummaryFactory(url="https://a.example/1")
    SourceSummaryFactory(story=story, url="")
    SourceLinkFactory(url="https://old.example/removed")
    assert source_links.sync_source_links() == (1, 1)
    assert list(SourceLink.objects.values_list("url", flat=True)) == [
        "https://a.example/1"
    ]
    assert source_links.sync_source_links() == (0, 0)


@pytest.mark.django_db
def test_the_task_checks_the_least_recently_checked_links_a_batch_at_a_time(
    site, local, settings
):
    settings.LINK_CHECK_BATCH_SIZE = 2
    links_at(site, "/a", "/b", "/c", "/d")
    now = timezone.now()
    for path, checked_at in [
        ("/a", now - timedelta(days=2)),
        ("/b", None),
        ("/c", now - timedelta(days=3)),
        ("/d", now - timedelta(hours=1)),  # checked recently: not due
    ]:
        SourceLinkFactory(url=site.url(path), checked_at=checked_at)

    assert tasks.check_source_links_task() == {"checked": 2, "broken": 2}
    assert sorted(site.paths()) == ["/b", "/c"]
    assert tasks.check_source_links_task() == {"checked": 1, "broken": 1}
    assert sorted(site.paths()) == ["/a", "/b", "/c"]
    # Everything is fresh now: running again requests nothing.
    assert tasks.check_source_links_task() == {"checked": 0, "broken": 0}
    assert len(site.requests) == 3


@pytest.mark.django_db
def test_results_are_recorded_and_a_bad_link_does_not_stop_the_others(
    site, local, monkeypatch
):
    site.routes["/ok"] = {}
    links_at(site, "/ok", "/missing")
    SourceSummaryFactory(url="ftp://files.example/report.pdf")
    SourceSummaryFactory(url="https://crash.example/")
    real_check = source_links.check_url

    def check(url):
        if "crash" in url:
            raise RuntimeError("a bug in the checker")
        return real_check(url)

    monkeypatch.setattr(source_links, "check_url", check)
    assert source_links.check_source_links() == {"checked": 4, "broken": 3}
    links = {link.url: link for link in SourceLink.objects.all()}
    ok, missing = links[site.url("/ok")], links[site.url("/missing")]
    assert not ok.is_broken and ok.status_code == 200 and ok.broken_since is None
    assert missing.is_broken and missing.problem == "HTTP 404"
    assert missing.broken_since == missing.checked_at
    assert "only http and https" in links["ftp://files.example/report.pdf"].error
    assert links["https://crash.example/"].error == "Could not check (RuntimeError)"


@pytest.mark.django_db
def test_a_link_that_stays_broken_keeps_when_it_broke_until_it_works():
    link = SourceLinkFactory()
    broke = timezone.now() - timedelta(days=5)
    SourceLink.objects.filter(pk=link.pk).update(is_broken=True, broken_since=broke)
    source_links.record_result(
        link_id=link.pk, result=LinkResult(ok=False, error="Timed out")
    )
    link.refresh_from_db()
    assert link.is_broken and link.broken_since == broke and link.error == "Timed out"
    source_links.record_result(
        link_id=link.pk, result=LinkResult(ok=True, status_code=200)
    )
    link.refresh_from_db()
    assert not link.is_broken and link.broken_since is None and link.error == ""


@pytest.mark.django_db
def test_no_more_links_are_requested_at_once_than_the_setting_allows(
    site, local, settings
):
    settings.LINK_CHECK_CONCURRENCY = 2
    paths = [f"/slow-{n}" for n in range(6)]
    for path in paths:
        # Each is held until a third arrives, which must not happen.
        site.routes[path] = {"gather": 3, "delay": 0.5}
    links_at(site, *paths)
    assert source_links.check_source_links() == {"checked": 6, "broken": 0}
    assert site.most_active == 2


@pytest.mark.django_db
def test_a_run_out_of_time_starts_no_more_checks(site, local):
    links_at(site, "/a", "/b")
    assert source_links.check_source_links(stop_after_seconds=0) == {
        "checked": 0,
        "broken": 0,
    }
    assert site.requests == []
    assert SourceLink.objects.filter(checked_at__isnull=True).count() == 2


def test_beat_runs_the_link_check(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["check-source-links"]
    assert entry["task"] == tasks.check_source_links_task.name
    assert entry["schedule"] == settings.LINK_CHECK_INTERVAL_SECONDS


# The change page ------------------------------------------------------------------


def broken_link(story, url, *, outlet=None, status_code=404, error=""):
    SourceSummaryFactory(
        story=story, url=url, outlet=outlet or OutletFactory(), position=1
    )
    when = timezone.now() - timedelta(days=2)
    return SourceLink.objects.create(
        url=url,
        url_hash=SourceLink.hash_of(url),
        checked_at=timezone.now(),
        status_code=status_code,
        error=error,
        is_broken=True,
        broken_since=when,
    )


def broken_panel(response):
    assert response.status_code == 200
    panel = BeautifulSoup(response.content, "html.parser").select(
        ".field-broken_source_links"
    )
    assert len(panel) == 1
    return panel[0].get_text(" ", strip=True)


def change_url(story):
    return reverse("admin:stories_story_change", args=[story.pk])


@pytest.mark.django_db
def test_the_change_page_lists_broken_source_links_and_not_working_ones(client, editor):
    story = StoryFactory()
    gone = broken_link(
        story,
        "https://gone.example/story",
        outlet=OutletFactory(name="The Daily Gone"),
    )
    broken_link(
        story, "https://slow.example/story", status_code=None, error="Timed out"
    )
    SourceSummaryFactory(story=story, url="https://fine.example/story")
    SourceLinkFactory(url="https://fine.example/story", checked_at=timezone.now())
    client.force_login(editor)
    text = broken_panel(client.get(change_url(story)))
    assert "The Daily Gone" in text and "https://gone.example/story" in text
    assert "HTTP 404" in text and "Timed out" in text
    assert f"{timezone.localtime(gone.broken_since):%-d %b %Y}" in text
    assert "fine.example" not in text


@pytest.mark.django_db
def test_a_journalist_sees_the_broken_links_of_their_story(client, reporter):
    story = StoryFactory()
    story.authors.add(reporter)
    broken_link(story, "https://gone.example/story")
    client.force_login(reporter)
    assert "https://gone.example/story" in broken_panel(client.get(change_url(story)))


@pytest.mark.django_db
def test_another_storys_broken_link_is_not_listed(client, editor):
    story = StoryFactory()
    SourceSummaryFactory(story=story, url="https://fine.example/story")
    broken_link(StoryFactory(), "https://gone.example/story")
    client.force_login(editor)
    assert broken_panel(client.get(change_url(story))) == "Broken links: None found."


@pytest.mark.django_db
def test_broken_links_take_two_queries_however_many_sources(
    django_assert_num_queries,
):
    story = StoryFactory()
    for n in range(8):
        broken_link(story, f"https://gone.example/{n}")
    # the story's summaries with their outlets, the broken links among them
    with django_assert_num_queries(2):
        assert len(source_links.broken_links_of(story)) == 8
