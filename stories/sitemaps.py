from datetime import timedelta

from django.contrib.sitemaps import Sitemap
from django.db.models import Max, OuterRef, Subquery
from django.utils import timezone
from taggit.models import Tag

from entities.models import Entity

from .models import FAQ, LiveTopic, Outlet, Story

NEWS_WINDOW = timedelta(hours=48)


class StorySitemap(Sitemap):
    changefreq = "hourly"
    priority = 0.8
    limit = 50_000  # the protocol's maximum per file

    def items(self):
        return (
            Story.objects.published()
            .order_by("-first_published_at", "-pk")
            .only("public_slug", "slug", "last_published_at")
        )

    def lastmod(self, story):
        return story.last_published_at


class PublicReferenceSitemap(Sitemap):
    """Topics and FAQs that a published story links to."""

    changefreq = "daily"
    priority = 0.5
    limit = 50_000
    model = None
    order_by = ()

    def items(self):
        return self.model.objects.public().order_by(*self.order_by, "pk")

    def lastmod(self, obj):
        return obj.updated_at


class EntitySitemap(PublicReferenceSitemap):
    model = Entity
    order_by = ("name",)


class FAQSitemap(PublicReferenceSitemap):
    model = FAQ
    order_by = ("question",)
    changefreq = "weekly"
    priority = 0.4


class OutletSitemap(Sitemap):
    """Outlets a published story cites, last modified when the newest of
    those stories was last published."""

    changefreq = "daily"
    priority = 0.3
    limit = 50_000

    def items(self):
        newest = (
            LiveTopic.objects.filter(
                key=OuterRef("live_topic_key"), story__in=Story.objects.published()
            )
            .order_by("-last_published_at")
            .values("last_published_at")[:1]
        )
        return (
            Outlet.objects.public()
            .annotate(last=Subquery(newest))
            .only("slug")
            .order_by("slug")
        )

    def lastmod(self, outlet):
        return outlet.last


class TagSitemap(Sitemap):
    changefreq = "daily"
    priority = 0.3
    limit = 50_000

    def items(self):
        live = Story.objects.published().values("live_revision")
        return (
            Tag.objects.filter(story_revisions__in=live)
            .annotate(last=Max("story_revisions__live_for_story__last_published_at"))
            .order_by("slug")
        )

    def location(self, tag):
        return f"/tags/{tag.slug}/"

    def lastmod(self, tag):
        return tag.last


SITEMAPS = {
    "stories": StorySitemap,
    "topics": EntitySitemap,
    "questions": FAQSitemap,
    "tags": TagSitemap,
    "outlets": OutletSitemap,
}


def news_items():
    """Stories first published in the last 48 hours (Google News)."""
    since = timezone.now() - NEWS_WINDOW
    return (
        Story.objects.published()
        .filter(first_published_at__gte=since)
        .select_related("live_revision")
        .order_by("-first_published_at")[:1000]
    )
