"""Per-client rate limiting for the Content API."""

import logging
import time

import redis
from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import BaseThrottle

from newsroom.proxy import client_address

logger = logging.getLogger(__name__)
WINDOW_SECONDS = 60
_clients: dict[str, redis.Redis] = {}


class ClientRateThrottle(BaseThrottle):
    """At most API_RATE_LIMIT requests per client address per minute.

    A fixed window counted with one atomic increment: in Redis when
    REDIS_URL is set, so every web process shares the count. DRF's own
    throttles keep a list of timestamps per client, read and rewritten
    whole on every request, which races between processes and grows with
    the limit. The price of a fixed window is that a client may send up to
    twice the limit across a minute's boundary.
    """

    def allow_request(self, request, view):
        limit = settings.API_RATE_LIMIT
        if limit <= 0:
            return True
        now = time.time()
        window = int(now // WINDOW_SECONDS)
        self.retry_after = WINDOW_SECONDS - now % WINDOW_SECONDS
        key = f"newsroom:api-rate:{self.get_ident(request)}:{window}"
        try:
            count = _count(key)
        except redis.RedisError:
            # Without Redis nothing can be counted: serve rather than fail,
            # as the pages do.
            logger.warning("Could not count an API request", exc_info=True)
            return True
        return count <= limit

    def get_ident(self, request):
        """The client's address, as login lockouts see it (behind the TLS
        proxy too: newsroom/proxy.py)."""
        return client_address(request) or "unknown"

    def wait(self):
        return self.retry_after


def _count(key: str) -> int:
    """Add one to key's count and return it; the key outlives its window."""
    url = settings.REDIS_URL
    if not url:
        cache.add(key, 0, timeout=WINDOW_SECONDS + 5)
        try:
            return cache.incr(key)
        except ValueError:  # expired between the two calls
            return 1
    # Straight to Redis, in one round trip: Django's cache API would take
    # three (its incr() first asks whether the key exists).
    client = _clients.get(url)
    if client is None:
        # Short timeouts: with Redis down, requests are served, not held.
        client = _clients[url] = redis.Redis.from_url(
            url, socket_timeout=0.25, socket_connect_timeout=0.25
        )
    pipe = client.pipeline(transaction=False)
    pipe.incr(key)
    pipe.expire(key, WINDOW_SECONDS + 5)
    count, _ = pipe.execute()
    return count
