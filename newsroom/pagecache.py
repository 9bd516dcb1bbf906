"""A full-page cache for anonymous readers, answered before Django runs.

PageCacheMiddleware (outermost in Django, so stored headers include the
security ones) stores public responses anonymous readers got; PageCacheApp
(around the WSGI application) answers later requests for them with the
stored bytes and headers, without building a request, running middleware or
rendering a template. Stored pages carry the cache generation they were
rendered under: bump_generation() after anything readers see changes makes
every stored page stale at once.

Only with Redis: a per-process cache could not be invalidated by a Celery
worker's publication. Talks to Redis directly, not through Django's cache
API, which builds a new client object for every call.
"""

import hashlib
import logging
import pickle
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

import redis
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http.request import split_domain_port, validate_host
from django.utils.cache import patch_cache_control

logger = logging.getLogger(__name__)

GENERATION_KEY = "newsroom:pagecache:generation"
PRIVATE_PREFIXES = ("/admin/", "/preview/", "/editor/", "/healthz")
CACHEABLE_STATUSES = {200, 301, 404, 410}
_clients: dict[str, redis.Redis] = {}


class _LocalPages:
    """The most recent hits, kept in this process so a hit needs no Redis
    round trip. The generation is rechecked in Redis at most every
    PAGE_CACHE_RECHECK_MS, so an invalidation reaches every process within
    that time."""

    def __init__(self):
        self.lock = threading.Lock()
        self.pages: OrderedDict = OrderedDict()
        self.generation = None
        self.checked_at = 0.0

    def current_generation(self, client):
        now = time.monotonic()
        if (
            self.generation is None
            or now - self.checked_at >= settings.PAGE_CACHE_RECHECK_MS / 1000
        ):
            generation = int(client.get(GENERATION_KEY) or 0)
            with self.lock:
                if generation != self.generation:
                    self.pages.clear()
                self.generation, self.checked_at = generation, now
        return self.generation

    def get(self, key, generation):
        with self.lock:
            entry = self.pages.get(key)
            if entry is None or entry[0] != generation:
                return None
            self.pages.move_to_end(key)
            return entry[1]

    def put(self, key, page, generation):
        with self.lock:
            # Another thread may have seen a newer generation meanwhile: a page
            # read under the old one must not come back.
            if generation != self.generation:
                return
            self.pages[key] = (generation, page)
            self.pages.move_to_end(key)
            while len(self.pages) > settings.PAGE_CACHE_LOCAL_ENTRIES:
                self.pages.popitem(last=False)

    def clear(self):
        with self.lock:
            self.pages.clear()
            self.generation = None


local_pages = _LocalPages()


class _Flight:
    def __init__(self):
        self.landed = threading.Event()
        self.stored = False  # whether the render left a page to answer from


class _Flights:
    """Renders of a missed page in progress in this process, so that the
    readers who miss it at the same moment wait for one render instead of
    each starting their own."""

    def __init__(self):
        self.lock = threading.Lock()
        self.in_flight: dict[str, _Flight] = {}

    def join(self, key):
        """None if the caller should render key (and land it after), else
        the flight in progress to wait for."""
        with self.lock:
            flight = self.in_flight.get(key)
            if flight is None:
                self.in_flight[key] = _Flight()
            return flight

    def land(self, key, stored):
        with self.lock:
            flight = self.in_flight.pop(key)
        flight.stored = stored
        flight.landed.set()


flights = _Flights()
# Set in the WSGI environ: by PageCacheApp, the key it looked up; by
# PageCacheMiddleware, whether it stored the page under it.
KEY_MARK = "newsroom.pagecache.key"
STORED_MARK = "newsroom.pagecache.stored"


def _plain_get(environ) -> bool:
    return (
        environ.get("REQUEST_METHOD") == "GET"
        and "HTTP_IF_NONE_MATCH" not in environ
        and "HTTP_IF_MODIFIED_SINCE" not in environ
    )


# A waiter gives up and renders for itself after this long, so a slow or
# failing render cannot hold readers back for more than a moment.
FLIGHT_WAIT_SECONDS = 2.0


def enabled() -> bool:
    return settings.PAGE_CACHE_SECONDS > 0 and bool(settings.REDIS_URL)


def _client() -> redis.Redis:
    url = settings.REDIS_URL
    client = _clients.get(url)
    if client is None:
        # Short timeouts: with Redis down, pages render instead of waiting.
        client = redis.Redis.from_url(
            url, socket_timeout=0.25, socket_connect_timeout=0.25
        )
        _clients[url] = client
    return client


def bump_generation() -> None:
    """Make every cached page stale (call after a change readers can see)."""
    if not settings.REDIS_URL:
        return
    try:
        _client().incr(GENERATION_KEY)
    except redis.RedisError:
        # Redis down: nothing is being served from it either.
        logger.warning("Could not invalidate the page cache", exc_info=True)


# Only these parameters change a public page; a URL with any other is not
# cached, so made-up query strings cannot fill Redis.
CACHED_PARAMETERS = {"page", "q"}


def _cacheable_query(query: str) -> bool:
    names = {part.split("=", 1)[0] for part in query.split("&") if part}
    return names <= CACHED_PARAMETERS


def _key(scheme, host, path, query) -> str:
    digest = hashlib.sha256(f"{scheme}\n{host}\n{path}\n{query}".encode()).hexdigest()
    return f"newsroom:page:{digest}"


def _scheme(environ, proxy) -> str:
    """The request's scheme as Django would see it (behind a TLS proxy too)."""
    if proxy:
        header, secure_value = proxy
        if environ.get(header, "").split(",")[0].strip() == secure_value:
            return "https"
    return environ.get("wsgi.url_scheme", "http")


def _is_public_request(method, path, cookies: str) -> bool:
    if method not in ("GET", "HEAD"):
        return False
    if path.startswith(PRIVATE_PREFIXES):
        return False
    # A session cookie means staff may be looking: never share their pages.
    return f"{settings.SESSION_COOKIE_NAME}=" not in cookies


class PageCacheMiddleware:
    """Marks public responses cacheable by CDNs and stores them for
    PageCacheApp."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # Read before rendering: a publication during the render must not
        # be stored under the generation that follows it.
        generation = self._generation() if enabled() else None
        response = self.get_response(request)
        public = _is_public_request(
            request.method, request.path, request.META.get("HTTP_COOKIE", "")
        )
        control = response.get("Cache-Control", "")
        if (
            not public
            or response.cookies
            or response.has_header("Set-Cookie")
            or response.streaming
            or not _cacheable_query(request.META.get("QUERY_STRING", ""))
            or (response.status_code == 404 and request.META.get("QUERY_STRING"))
            or "no-store" in control
            or "private" in control
            or response.status_code not in CACHEABLE_STATUSES
        ):
            return response
        patch_cache_control(
            response,
            public=True,
            max_age=settings.PAGE_MAX_AGE,
            s_maxage=settings.PAGE_SHARED_MAX_AGE,
            stale_while_revalidate=settings.PAGE_STALE_WHILE_REVALIDATE,
        )
        # An http request answered by the https redirect is not worth keeping.
        secure_enough = request.is_secure() or not settings.SECURE_SSL_REDIRECT
        if generation is not None and request.method == "GET" and secure_enough:
            self._store(request, response, generation)
        return response

    def _generation(self):
        try:
            return int(_client().get(GENERATION_KEY) or 0)
        except redis.RedisError:
            return None

    def _store(self, request, response, generation):
        headers = [(k, v) for k, v in response.items() if k.lower() != "x-cache"]
        entry = pickle.dumps(
            (
                generation,
                response.status_code,
                response.reason_phrase,
                headers,
                response.content,
            ),
            protocol=pickle.HIGHEST_PROTOCOL,
        )
        # The key PageCacheApp looked up, from the raw WSGI path: Django
        # decodes PATH_INFO, so a key made from it here would never be
        # found for an address with non-ASCII characters.
        key = request.META.get(KEY_MARK) or _key(
            request.scheme,
            request.get_host(),
            request.path,
            request.META.get("QUERY_STRING", ""),
        )
        try:
            _client().set(key, entry, ex=settings.PAGE_CACHE_SECONDS)
        except redis.RedisError:
            logger.warning("Could not store a page in the cache", exc_info=True)
        else:
            request.META[STORED_MARK] = True


@dataclass(frozen=True)
class Hit:
    """A stored page prepared once for answering: the status line and header
    lists are built when it is loaded, not on every request."""

    status: str
    headers: list
    etag: str | None
    not_modified_headers: list
    body: bytes

    @classmethod
    def from_entry(cls, status, reason, headers, body):
        marked = [*headers, ("X-Cache", "HIT")]
        kept = [
            (k, v)
            for k, v in marked
            if k.lower()
            in ("etag", "cache-control", "vary", "last-modified", "x-cache")
        ]
        etag = next((v for k, v in headers if k.lower() == "etag"), None)
        return cls(f"{status} {reason}", marked, etag, kept, body)


@dataclass(frozen=True)
class _Config:
    """Settings the hit path reads, fetched once per process: LazySettings
    attribute access costs more than the rest of a hit."""

    enabled: bool
    allowed_hosts: tuple
    ssl_redirect: bool
    proxy_ssl_header: tuple | None
    session_cookie: str
    known_hosts: dict


_config_cache: list = []


def _config() -> _Config:
    if not _config_cache:
        _config_cache.append(
            _Config(
                enabled=enabled(),
                allowed_hosts=tuple(settings.ALLOWED_HOSTS),
                ssl_redirect=settings.SECURE_SSL_REDIRECT,
                proxy_ssl_header=settings.SECURE_PROXY_SSL_HEADER,
                session_cookie=f"{settings.SESSION_COOKIE_NAME}=",
                known_hosts={},
            )
        )
    return _config_cache[0]


@receiver(setting_changed)
def _forget_config(**kwargs):
    _config_cache.clear()


class PageCacheApp:
    """WSGI wrapper answering cache hits with the stored bytes."""

    def __init__(self, application):
        self.application = application

    def __call__(self, environ, start_response):
        config = _config()
        if not config.enabled:
            return self.application(environ, start_response)
        hit, key = self._lookup(environ, config)
        if hit is not None:
            return self._answer(environ, start_response, hit)
        if key is None or not _plain_get(environ):
            # Not a page this cache keeps, or a request whose answer is not
            # stored (HEAD, or a conditional GET that may get a 304): it
            # must not make others wait for it.
            return self.application(environ, start_response)
        flight = flights.join(key)
        if flight is None:  # this request renders the page for the others
            stored = False
            try:
                response = self.application(environ, start_response)
                stored = environ.get(STORED_MARK, False)
                return response
            finally:
                flights.land(key, stored)
        # The same page is being rendered in this process (just after an
        # invalidation, every reader of a popular page misses at once):
        # wait for it rather than render it again.
        if flight.landed.wait(timeout=FLIGHT_WAIT_SECONDS) and flight.stored:
            hit, _ = self._lookup(environ, config)
            if hit is not None:
                return self._answer(environ, start_response, hit)
        return self.application(environ, start_response)

    def _host_allowed(self, host, config) -> bool:
        allowed = config.known_hosts.get(host)
        if allowed is None:
            domain, _port = split_domain_port(host)
            allowed = bool(domain) and validate_host(domain, config.allowed_hosts)
            if len(config.known_hosts) < 1000:  # hosts come from requests
                config.known_hosts[host] = allowed
        return allowed

    def _lookup(self, environ, config):
        """(the stored page or None, the cache key or None when the request
        is not one whose page this cache keeps)."""
        method = environ.get("REQUEST_METHOD", "GET")
        if method not in ("GET", "HEAD"):
            return None, None
        path = environ.get("PATH_INFO", "/")
        if path.startswith(PRIVATE_PREFIXES):
            return None, None
        # A session cookie means staff may be looking: never share their pages.
        if config.session_cookie in environ.get("HTTP_COOKIE", ""):
            return None, None
        host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "")
        if not self._host_allowed(host, config):
            # Unknown hosts go through Django, which refuses them.
            return None, None
        scheme = _scheme(environ, config.proxy_ssl_header)
        if config.ssl_redirect and scheme != "https":
            return None, None  # Django redirects it to https
        query = environ.get("QUERY_STRING", "")
        if query and not _cacheable_query(query):
            return None, None
        key = environ[KEY_MARK] = _key(scheme, host, path, query)
        try:
            client = _client()
            generation = local_pages.current_generation(client)
            hit = local_pages.get(key, generation)
            if hit is not None:
                return hit, key
            entry = client.get(key)
        except redis.RedisError:
            local_pages.clear()
            return None, None  # Redis down: render, and don't wait for others
        if entry is None:
            return None, key
        stored_generation, *page = pickle.loads(entry)
        if stored_generation != generation:
            return None, key
        hit = Hit.from_entry(*page)
        local_pages.put(key, hit, generation)
        return hit, key

    def _answer(self, environ, start_response, hit):
        if hit.etag and hit.etag in environ.get("HTTP_IF_NONE_MATCH", ""):
            start_response("304 Not Modified", hit.not_modified_headers)
            return [b""]
        start_response(hit.status, hit.headers)
        if environ.get("REQUEST_METHOD") == "HEAD":
            return [b""]
        return [hit.body]
