import functools
import logging

from django.http import HttpResponse
from django.utils.cache import add_never_cache_headers, patch_cache_control

logger = logging.getLogger(__name__)


class AdminNoStoreMiddleware:
    """Admin pages hold unpublished text: no browser or proxy may keep a copy."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path.startswith("/admin/"):
            add_never_cache_headers(response)
            patch_cache_control(response, no_store=True, private=True)
        return response


class SecurityHeadersMiddleware:
    """Content-Security-Policy and Permissions-Policy on every response.

    Public pages load nothing but this site's own CSS and images. The admin
    also allows inline styles, which CKEditor 5 sets on its elements, and
    blob:/data: images it previews while uploading.
    """

    PUBLIC_POLICY = (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; "
        "script-src 'self'; object-src 'none'; base-uri 'self'; "
        "form-action 'self'; frame-ancestors 'none'"
    )
    ADMIN_POLICY = (
        "default-src 'self'; img-src 'self' data: blob:; "
        "style-src 'self' 'unsafe-inline'; script-src 'self'; "
        "object-src 'none'; base-uri 'self'; form-action 'self'; "
        "frame-ancestors 'none'"
    )
    PERMISSIONS_POLICY = (
        "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
        "microphone=(), payment=(), usb=(), interest-cohort=()"
    )

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        admin = request.path.startswith("/admin/")
        response.setdefault(
            "Content-Security-Policy",
            self.ADMIN_POLICY if admin else self.PUBLIC_POLICY,
        )
        response.setdefault("Permissions-Policy", self.PERMISSIONS_POLICY)
        response.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        return response


def frameable_by_same_origin(view):
    """Let this site's own pages, and no other, show view's response in a
    frame (frame denial is otherwise global)."""
    policy = SecurityHeadersMiddleware.PUBLIC_POLICY.replace(
        "frame-ancestors 'none'", "frame-ancestors 'self'"
    )

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response["Content-Security-Policy"] = policy
        response["X-Frame-Options"] = "SAMEORIGIN"
        return response

    return wrapped


class DatabaseUnavailableMiddleware:
    """While the database cannot be reached, answer 503 with a short page at
    once instead of a 500. Django reconnects by itself (CONN_HEALTH_CHECKS)
    when the database returns; the process needs no restart."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        from django.db import InterfaceError, OperationalError
        from django.template.loader import render_to_string

        if not isinstance(exception, (OperationalError, InterfaceError)):
            return None
        logger.error("Database unavailable: %s", exception)
        response = HttpResponse(render_to_string("503.html"), status=503)
        response["Retry-After"] = "30"
        add_never_cache_headers(response)
        return response


class ApiCorsMiddleware:
    """Lets any web page read the Content API: `Access-Control-Allow-Origin:
    *` on /api/ answers to GET, HEAD and OPTIONS, and preflight requests
    answered here. Never with credentials: the API reads no cookies, and
    `*` is what browsers require for that. A dozen lines instead of
    django-cors-headers, whose per-origin rules this fixed policy does not
    need."""

    ALLOWED_METHODS = ("GET", "HEAD", "OPTIONS")
    EXPOSED_HEADERS = "ETag, Last-Modified, Retry-After"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        api = request.path.startswith("/api/")
        if (
            api
            and request.method == "OPTIONS"
            and "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in request.META
        ):
            response = HttpResponse(status=204)
            response["Access-Control-Allow-Methods"] = ", ".join(self.ALLOWED_METHODS)
            # Conditional requests are the one thing a reader needs to send.
            response["Access-Control-Allow-Headers"] = (
                "Accept, If-None-Match, If-Modified-Since"
            )
            response["Access-Control-Max-Age"] = "86400"
        else:
            response = self.get_response(request)
        if api and request.method in self.ALLOWED_METHODS:
            response["Access-Control-Allow-Origin"] = "*"
            response["Access-Control-Expose-Headers"] = self.EXPOSED_HEADERS
        return response
