from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path

from . import views

admin.site.site_header = f"{settings.SITE_NAME} admin"
admin.site.site_title = f"{settings.SITE_NAME} admin"

urlpatterns = [
    path("favicon.ico", views.favicon, name="favicon"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("stories.api.urls")),
    path("", include("entities.urls")),
    path("", include("stories.urls")),
]

# Uploaded images, when no web server sits in front (SERVE_MEDIA).
urlpatterns += [
    re_path(
        rf"^{settings.MEDIA_URL.strip('/')}/(?P<path>.*)$",
        views.serve_media,
        name="media",
    )
]
