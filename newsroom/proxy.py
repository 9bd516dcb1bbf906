"""Who is on the other end of a request, when a proxy stands in front."""

from django.conf import settings


def client_address(request) -> str | None:
    """The reader's address. Behind the TLS proxy (BEHIND_TLS_PROXY) every
    connection comes from the proxy, which appends the address it saw to
    X-Forwarded-For; entries to the left of it came from the client and can
    be forged, so only the last one counts."""
    if settings.BEHIND_TLS_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        last = forwarded.rsplit(",", 1)[-1].strip()
        if last:
            return last
    return request.META.get("REMOTE_ADDR")
