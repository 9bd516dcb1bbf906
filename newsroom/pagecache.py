"""A full-page cache for anonymous readers, answered before Django runs.

PageCacheMiddleware (outermost in Django, so stored headers include the
security ones) stores public responses anonymous readers got; PageCacheApp
(around the WSGI application) answers later requests for them with the
stored bytes and headers, without building a request, running middleware or
rendering a template.

Invalidation is by tag. A view names what its page shows (tag(request,
"story:12", "home")); stories/cache_tags.py owns which tags each page
carries and which tags each event invalidates. In Redis a counter (the
clock) is incremented by every invalidation, and a sorted set records each
tag's clock value at its last invalidation. A page is stored with the clock
read before its render: it is valid while none of its tags has been
invalidated since, so a publication committed during the render can never
leave that render valid. A page that names no tags carries UNTAGGED, which
every invalidation includes.

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

CLOCK_KEY = "newsroom:pagecache:clock"
TAGS_KEY = "newsroom:pagecache:tags"
# Carried by pages that declared no tags: every invalidation includes it.
UNTAGGED = "untagged"
# Carried by every page: invalidate_everything() (a bulk load) uses it.
EVERYTHING = "everything"
REQUEST_TAGS = "_page_cache_tags"
PRIVATE_PREFIXES = ("/admin/", "/preview/", "/editor/", "/healthz")
CACHEABLE_STATUSES = {200, 301, 404, 410}
_clients: dict[str, redis.Redis] = {}


class _LocalPages:
    """The most recent hits, kept in this process so a hit needs no Redis
    round trip. The clock is rechecked in Redis at most every
    PAGE_CACHE_RECHECK_MS; when it has moved, only the pages carrying a tag
    invalidated meanwhile are dropped, so an invalidation reaches every
    process within that time without emptying it."""

    def __init__(self):
        self.lock = threading.Lock()
        self.pages: OrderedDict = OrderedDict()  # key -> (tags, hit)
        self.clock = None
        self.checked_at = 0.0

    def current_clock(self, client):
        now = time.monotonic()
        if (
            self.clock is not None
            and now - self.checked_at < settings.PAGE_CACHE_RECHECK_MS / 1000
        ):
            return self.clock
        last = self.clock
        if last is None:
            clock, changed = int(client.get(CLOCK_KEY) or 0), None
        else:
            # One transaction: the tags read are exactly those invalidated
            # up to the clock read with them.
            pipe = client.pipeline(transaction=True)
            pipe.get(CLOCK_KEY)
            pipe.zrangebyscore(TAGS_KEY, f"({last}", "+inf")
            raw_clock, raw_changed = pipe.execute()
            clock = int(raw_clock or 0)
            changed = {tag.decode() for tag in raw_changed}
        with self.lock:
            if changed is None or clock < (self.clock or 0):
                # First look, or Redis lost its data (or another thread read
                # a later clock first): nothing here is known to be valid.
                # The clock read is taken as it is, so that the next recheck
                # asks for every tag invalidated after it.
                self.pages.clear()
            elif changed:
                for key in [k for k, (tags, _) in self.pages.items() if tags & changed]:
                    del self.pages[key]
            self.clock = clock
            self.checked_at = now
        return self.clock

    def get(self, key):
        with self.lock:
            entry = self.pages.get(key)
            if entry is None:
                return None
            self.pages.move_to_end(key)
            return entry[1]

    def put(self, key, page, tags, clock):
        with self.lock:
            # Validated at an older clock than this process has since
            # caught up to: an invalidation in between may not have been
            # applied to it, so it must not be kept.
            if self.clock is None or clock < self.clock:
                return
            self.pages[key] = (frozenset(tags), page)
            self.pages.move_to_end(key)
            while len(self.pages) > settings.PAGE_CACHE_LOCAL_ENTRIES:
                self.pages.popitem(last=False)

    def clear(self):
        with self.lock:
            self.pages.clear()
            self.clock = None


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
STORED_CLOCK = "newsroom.pagecache.clock"


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


# Invalidating tags: one atomic step, so a reader sees either none or all
# of them moved past the pages rendered before.
_INVALIDATE = """
local clock = redis.call('INCR', KEYS[1])
for _, tag in ipairs(ARGV) do
  redis.call('ZADD', KEYS[2], clock, tag)
end
return clock
"""

# A stored page with the clock now, in one round trip: {clock} when it is
# missing or one of its tags was invalidated after its render began, else
# {clock, tags, page}.
_LOOKUP = """
local now = tonumber(redis.call('GET', KEYS[2]) or '0')
local entry = redis.call('HMGET', KEYS[1], 'clock', 'tags', 'page')
if not entry[3] then
  return {now}
end
local rendered_at = tonumber(entry[1])
for tag in string.gmatch(entry[2], '%S+') do
  local at = redis.call('ZSCORE', KEYS[3], tag)
  if at and tonumber(at) > rendered_at then
    return {now}
  end
end
return {now, entry[2], entry[3]}
"""
_scripts: dict[str, dict] = {}


def _script(name):
    client = _client()
    scripts = _scripts.get(settings.REDIS_URL)
    if scripts is None:
        scripts = _scripts[settings.REDIS_URL] = {
            "invalidate": client.register_script(_INVALIDATE),
            "lookup": client.register_script(_LOOKUP),
        }
    return scripts[name]


def tag(request, *tags: str) -> None:
    """Record that the page answering request shows what tags name."""
    existing = getattr(request, REQUEST_TAGS, None)
    if existing is None:
        existing = set()
        setattr(request, REQUEST_TAGS, existing)
    existing.update(tags)


def tags_of(request) -> set[str]:
    """The tags a page is stored with: those its view named, or UNTAGGED."""
    return {*(getattr(request, REQUEST_TAGS, None) or {UNTAGGED}), EVERYTHING}


def invalidate(tags) -> int | None:
    """Make every stored page carrying one of tags stale (call on commit,
    after a change readers can see). Returns the clock value it was given."""
    tags = sorted({*tags, UNTAGGED})
    if not settings.REDIS_URL:
        return None
    from newsroom import baked_pages

    try:
        clock = _script("invalidate")(keys=[CLOCK_KEY, TAGS_KEY], args=tags)
    except redis.RedisError:
        # Redis down: nothing is being served from it either, but the web
        # server keeps sending baked files, and which of them show what
        # changed is listed in Redis. Every file goes instead.
        logger.warning("Could not invalidate the page cache", exc_info=True)
        baked_pages.forget_everything()
        return None
    baked_pages.forget(tags)
    return clock


def invalidate_everything() -> None:
    """Make every stored page stale (a bulk load)."""
    invalidate([EVERYTHING])


def current_clock() -> int | None:
    try:
        return int(_client().get(CLOCK_KEY) or 0)
    except redis.RedisError:
        return None


def is_still_valid(tags, clock) -> bool:
    """Whether none of tags was invalidated after clock."""
    scores = _client().zmscore(TAGS_KEY, sorted(tags))
    return all(score is None or score <= clock for score in scores)


# Only these parameters change a public page; a URL with any other is not
# cached, so made-up query strings cannot fill Redis.
CACHED_PARAMETERS = {"page", "q"}


def _cacheable_query(query: str) -> bool:
    names = {part.split("=", 1)[0] for part in query.split("&") if part}
    return names <= CACHED_PARAMETERS


def _key(scheme, host, path, query) -> str:
    digest = hashlib.sha256(f"{scheme}\n{host}\n{path}\n{query}".encode()).hexdigest()
    # v2: stored as a hash with its clock and tags (v1 pages were strings).
    return f"newsroom:page:v2:{digest}"


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


def mark_public(response):
    """Give response the public pages' Cache-Control, for browsers and CDNs."""
    patch_cache_control(
        response,
        public=True,
        max_age=settings.PAGE_MAX_AGE,
        s_maxage=settings.PAGE_SHARED_MAX_AGE,
        stale_while_revalidate=settings.PAGE_STALE_WHILE_REVALIDATE,
    )
    return response


class PageCacheMiddleware:
    """Marks public responses cacheable by CDNs and stores them for
    PageCacheApp."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # Read before rendering: a publication committed during the render
        # must leave this render stale.
        clock = current_clock() if enabled() else None
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
        mark_public(response)
        # An http request answered by the https redirect is not worth keeping.
        secure_enough = request.is_secure() or not settings.SECURE_SSL_REDIRECT
        if clock is not None and request.method == "GET" and secure_enough:
            self._store(request, response, clock)
        return response

    def _store(self, request, response, clock):
        headers = [(k, v) for k, v in response.items() if k.lower() != "x-cache"]
        page = pickle.dumps(
            (
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
        tags = tags_of(request)
        try:
            pipe = _client().pipeline(transaction=True)
            pipe.hset(
                key, mapping={"clock": clock, "tags": " ".join(tags), "page": page}
            )
            pipe.expire(key, settings.PAGE_CACHE_SECONDS)
            pipe.execute()
        except redis.RedisError:
            logger.warning("Could not store a page in the cache", exc_info=True)
        else:
            request.META[STORED_MARK] = True
            request.META[STORED_CLOCK] = clock


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
        # A 304 carries what a cache needs to refresh its copy, and the
        # CORS headers a script reading the API needs to see the 304 at all.
        kept = [
            (k, v)
            for k, v in marked
            if k.lower()
            in ("etag", "cache-control", "vary", "last-modified", "x-cache")
            or k.lower().startswith("access-control-")
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
            local_pages.current_clock(_client())
            hit = local_pages.get(key)
            if hit is not None:
                return hit, key
            found = _script("lookup")(keys=[key, CLOCK_KEY, TAGS_KEY])
        except redis.RedisError:
            local_pages.clear()
            return None, None  # Redis down: render, and don't wait for others
        if len(found) < 3:
            return None, key
        checked_at, tags, page = found
        hit = Hit.from_entry(*pickle.loads(page))
        local_pages.put(key, hit, tags.decode().split(), checked_at)
        return hit, key

    def _answer(self, environ, start_response, hit):
        if hit.etag and hit.etag in environ.get("HTTP_IF_NONE_MATCH", ""):
            start_response("304 Not Modified", hit.not_modified_headers)
            return [b""]
        start_response(hit.status, hit.headers)
        if environ.get("REQUEST_METHOD") == "HEAD":
            return [b""]
        return [hit.body]
