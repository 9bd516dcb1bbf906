import functools
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import Http404, HttpResponse
from django.utils.cache import patch_cache_control
from django.views.static import serve


def serve_media(request, path):
    """Uploaded images, for sites with no web server in front of Django.
    Their names are random and never reused, so browsers and CDNs may keep
    them for good; the type comes from the name, which the upload code
    chose after decoding the image, and nosniff and the CSP come from the
    middleware as on every response."""
    if not settings.SERVE_MEDIA:
        raise Http404("Media are served by the web server.")
    response = serve(request, path, document_root=settings.MEDIA_ROOT)
    patch_cache_control(response, public=True, max_age=31536000, immutable=True)
    return response


@functools.cache
def _favicon_bytes() -> bytes:
    return Path(finders.find("img/favicon.ico")).read_bytes()


def favicon(request):
    """/favicon.ico, which browsers and feed readers ask for whatever the
    page links to: answered with the icon instead of a 404 on every visit.
    Cached like a page (PageCacheMiddleware sets the headers)."""
    return HttpResponse(_favicon_bytes(), content_type="image/x-icon")
