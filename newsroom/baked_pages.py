"""Pages rendered ahead of readers: into the page cache, and optionally into
files a web server in front serves without asking Django.

bake(paths) renders each path through the real Django handler as an
anonymous reader of SITE_URL's host and scheme; PageCacheMiddleware stores
the answer in Redis as it would a reader's. With BAKED_PAGES_ROOT set, an
HTML page or sitemap that answered 200 is also written under it (a temporary
file, then os.replace, so a reader never gets half a page), and any other
answer removes its file, so the web server falls through to Django (a
withdrawn story's 410, a topic's 404).

Files are invalidated with the same tags as cached pages: each baked path is
listed in Redis under each of its tags, and pagecache.invalidate() removes
the files listed under the tags it is given. A file is written only after it
is listed, and kept only if none of its tags was invalidated since its
render began, so a change committed during a bake cannot leave a stale file.
"""

import io
import logging
import os
import re
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import redis
from django.conf import settings

from newsroom import pagecache

logger = logging.getLogger(__name__)

FILES_KEY_PREFIX = "newsroom:baked:tag:"
# Paths baked to files: ASCII, no dots between slashes, no query string.
_FILE_PATH = re.compile(r"^/(?:[A-Za-z0-9_~-]+/)*(?:[A-Za-z0-9_-]+\.xml)?$")
FILE_CONTENT_TYPES = ("text/html", "application/xml")


def file_for(path: str) -> Path | None:
    """Where path's page is written under BAKED_PAGES_ROOT (index.html for
    a page address ending in "/", the file itself for a sitemap), or None
    for a path not served from files (feeds, whose content types a static
    server would get wrong)."""
    root = settings.BAKED_PAGES_ROOT
    if not root or not _FILE_PATH.match(path) or path.startswith("/feeds/"):
        return None
    relative = path.lstrip("/")
    if path.endswith("/"):
        relative += "index.html"
    return Path(root) / relative


def render(path: str, handler=None):
    """path rendered for an anonymous reader of SITE_URL, stored in the
    page cache when cacheable. Returns (response, request)."""
    from django.core.handlers.wsgi import WSGIHandler, WSGIRequest
    from django.urls import set_script_prefix

    site = urlsplit(settings.SITE_URL)
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": site.hostname,
        "SERVER_PORT": str(site.port or (443 if site.scheme == "https" else 80)),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": site.netloc,
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": site.scheme,
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": io.StringIO(),
    }
    proxy = settings.SECURE_PROXY_SSL_HEADER
    if proxy and site.scheme == "https":
        environ[proxy[0]] = proxy[1]
    # The key a reader's request for path is looked up under.
    environ[pagecache.KEY_MARK] = pagecache._key(site.scheme, site.netloc, path, "")
    handler = handler or WSGIHandler()
    set_script_prefix("")
    request = WSGIRequest(environ)
    # get_response, not the handler's __call__: the request signals would
    # close the caller's database connection (a task's, a test's).
    return handler.get_response(request), request


def bake(paths) -> dict:
    """Render paths into the page cache (and files); returns how many
    pages were stored and files written or removed."""
    from django.core.handlers.wsgi import WSGIHandler

    counts = {"stored": 0, "written": 0, "removed": 0}
    if not pagecache.enabled():
        return counts
    handler = WSGIHandler()
    for path in dict.fromkeys(paths):
        response, request = render(path, handler)
        stored = request.META.get(pagecache.STORED_MARK, False)
        counts["stored"] += stored
        target = file_for(path)
        if target is None:
            continue
        content_type = response.get("Content-Type", "").split(";")[0]
        if (
            stored
            and response.status_code == 200
            and (content_type in FILE_CONTENT_TYPES)
        ):
            clock = request.META[pagecache.STORED_CLOCK]
            if write(path, response.content, pagecache.tags_of(request), clock):
                counts["written"] += 1
        elif remove(target):
            counts["removed"] += 1
    return counts


def write(path: str, body: bytes, tags, clock: int) -> bool:
    """Write path's page as rendered at clock; False (and no file) if one of
    its tags has been invalidated since."""
    target = file_for(path)
    client = pagecache._client()
    # Listed before it exists, so an invalidation from now on finds it.
    pipe = client.pipeline(transaction=False)
    for tag in tags:
        pipe.sadd(FILES_KEY_PREFIX + tag, path)
    pipe.execute()
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".baking-")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(body)
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    if not pagecache.is_still_valid(tags, clock):
        remove(target)
        return False
    return True


def remove(target: Path) -> bool:
    try:
        target.unlink()
    except FileNotFoundError:
        return False
    return True


def forget(tags) -> None:
    """Remove the files of the pages carrying any of tags (called by
    pagecache.invalidate, after the tags are marked invalidated)."""
    if not settings.BAKED_PAGES_ROOT:
        return
    try:
        client = pagecache._client()
        keys = [FILES_KEY_PREFIX + tag for tag in tags]
        pipe = client.pipeline(transaction=True)
        pipe.sunion(keys)
        # A path is listed again when it is next written.
        pipe.delete(*keys)
        paths, _ = pipe.execute()
    except redis.RedisError:
        logger.warning("Could not find the baked files to remove", exc_info=True)
        forget_everything()
        return
    for path in paths:
        target = file_for(path.decode())
        if target is not None:
            remove(target)


def forget_everything() -> None:
    """Remove every baked file, when which of them to remove cannot be
    known: the web server then sends every page from Django until it is
    baked again, rather than any stale one."""
    if not settings.BAKED_PAGES_ROOT:
        return
    for target in Path(settings.BAKED_PAGES_ROOT).rglob("*"):
        if target.is_file():
            remove(target)
