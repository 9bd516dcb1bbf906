"""Failing services: readers get a fast 503 while the database is away, and
the admin keeps working without Redis."""

import pytest
from django.db import OperationalError

from stories.models import Story, StoryQuerySet
from tests.stories.factories import StoryFactory

pytestmark = pytest.mark.django_db


def test_an_unreachable_database_answers_503_with_a_page(client, monkeypatch):
    def unreachable(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(Story.objects, "published", unreachable)
    response = client.get("/")
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert "Temporarily unavailable" in response.content.decode()


@pytest.mark.parametrize(
    "path", ["/", "/?page=2", "/search/?q=defence", "/tags/defence/", "/corrections/"]
)
def test_a_database_error_while_paginating_is_a_503_not_a_404(
    client, monkeypatch, path
):
    """A 404 would tell readers, crawlers and CDNs the page is gone."""
    from django.core.paginator import Paginator

    from stories.prepared import PreparedQuery

    def unreachable(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    # Listings read a page and its count in one statement; the rest paginate
    # with Django's Paginator.
    monkeypatch.setattr(PreparedQuery, "rows", unreachable)
    monkeypatch.setattr(Paginator, "page", unreachable)
    assert client.get(path).status_code == 503


def test_the_admin_change_page_works_with_redis_down(
    client, editor, settings, tmp_path
):
    from tests.redis_server import RedisServer

    server = RedisServer(tmp_path)  # never started: nothing listens there
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": server.url,
        }
    }
    story = StoryFactory()
    client.force_login(editor)
    assert client.get(f"/admin/stories/story/{story.pk}/change/").status_code == 200


def test_an_unexpected_error_answers_the_500_page_in_the_sites_design(
    client, monkeypatch
):
    def broken(self):
        raise RuntimeError("a bug")

    monkeypatch.setattr(StoryQuerySet, "published", broken)
    client.raise_request_exception = False
    response = client.get("/")
    assert response.status_code == 500
    html = response.content.decode()
    assert "<h1>Something went wrong</h1>" in html
    assert "/static/css/site.css" in html and "a bug" not in html
