"""A full-page cache for anonymous readers, answered before Django runs.

PageCacheMiddleware (inside Django) stores public responses that anonymous
readers got; PageCacheApp (around the WSGI application) answers later
requests for them with the stored bytes and headers, without building a
request, running middleware or rendering a template. Keys carry a
generation number: bump_generation() after anything readers see changes
makes every stored page stale at once.

Only with a shared cache (Redis): a per-process cache could not be
invalidated by a Celery worker's publication.
"""

import hashlib
import logging

from django.conf import settings
from django.core.cache import cache
from django.utils.cache import patch_cache_control

logger = logging.getLogger(__name__)

GENERATION_KEY = "pagecache:generation"
PRIVATE_PREFIXES = ("/admin/", "/preview/", "/editor/", "/healthz")
CACHEABLE_STATUSES = {200, 301, 404, 410}


def enabled() -> bool:
    return settings.PAGE_CACHE_SECONDS > 0 and bool(settings.REDIS_URL)


def bump_generation() -> None:
    """Make every cached page stale (call after a change readers can see)."""
    try:
        if cache.add(GENERATION_KEY, 1, None):
            return
        cache.incr(GENERATION_KEY)
    except Exception:
        # Redis down: nothing is being served from it either.
        logger.warning("Could not invalidate the page cache", exc_info=True)


def _key(generation, host, path, query) -> str:
    digest = hashlib.sha256(f"{host}\n{path}\n{query}".encode()).hexdigest()
    return f"pagecache:{generation}:{digest}"


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
        response = self.get_response(request)
        public = _is_public_request(
            request.method, request.path, request.META.get("HTTP_COOKIE", "")
        )
        if not public or response.has_header("Set-Cookie") or response.streaming:
            return response
        if "no-store" in response.get("Cache-Control", "") or "private" in response.get(
            "Cache-Control", ""
        ):
            return response
        if response.status_code not in CACHEABLE_STATUSES:
            return response
        patch_cache_control(
            response,
            public=True,
            max_age=settings.PAGE_MAX_AGE,
            s_maxage=settings.PAGE_SHARED_MAX_AGE,
            stale_while_revalidate=settings.PAGE_STALE_WHILE_REVALIDATE,
        )
        if enabled() and request.method == "GET":
            self._store(request, response)
        return response

    def _store(self, request, response):
        try:
            generation = cache.get(GENERATION_KEY, 0)
            key = _key(generation, request.get_host(), request.path,
                       request.META.get("QUERY_STRING", ""))
            headers = [(k, v) for k, v in response.items() if k.lower() != "x-cache"]
            cache.set(key, (response.status_code, response.reason_phrase, headers,
                            response.content), settings.PAGE_CACHE_SECONDS)
        except Exception:
            logger.warning("Could not store a page in the cache", exc_info=True)


class PageCacheApp:
    """WSGI wrapper answering cache hits with the stored bytes."""

    def __init__(self, application):
        self.application = application

    def __call__(self, environ, start_response):
        if enabled():
            hit = self._lookup(environ)
            if hit is not None:
                return self._answer(environ, start_response, *hit)
        return self.application(environ, start_response)

    def _lookup(self, environ):
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "/")
        if not _is_public_request(method, path, environ.get("HTTP_COOKIE", "")):
            return None
        host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "")
        if host not in settings.ALLOWED_HOSTS and "*" not in settings.ALLOWED_HOSTS:
            # Unknown hosts go through Django, which refuses them.
            return None
        try:
            generation = cache.get(GENERATION_KEY, 0)
            return cache.get(_key(generation, host, path, environ.get("QUERY_STRING", "")))
        except Exception:
            return None  # Redis down: render instead

    def _answer(self, environ, start_response, status, reason, headers, body):
        etag = next((v for k, v in headers if k.lower() == "etag"), None)
        if etag and etag in environ.get("HTTP_IF_NONE_MATCH", ""):
            kept = [(k, v) for k, v in headers
                    if k.lower() in ("etag", "cache-control", "vary", "last-modified")]
            start_response("304 Not Modified", kept + [("X-Cache", "HIT")])
            return [b""]
        start_response(f"{status} {reason}", list(headers) + [("X-Cache", "HIT")])
        if environ.get("REQUEST_METHOD") == "HEAD":
            return [b""]
        return [body]
