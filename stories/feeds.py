"""RSS 2.0 and Atom feeds of published stories: site-wide, per tag, per topic,
per outlet cited."""

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.feedgenerator import Atom1Feed
from taggit.models import Tag

from . import cache_tags, listings
from .models import LiveTopic, Outlet, Story


class StoryFeed(Feed):
    """Items come from live revisions only: nothing unpublished is in a feed."""

    description_template = None

    def get_object(self, request, *args, **kwargs):
        cache_tags.page(request, cache_tags.FEED)

    def title(self, obj=None):
        return settings.SITE_NAME

    def link(self, obj=None):
        return "/"

    def description(self, obj=None):
        return f"The latest explainers from {settings.SITE_NAME}."

    def live_topic_key(self, obj):
        """The LiveTopic key whose stories the feed lists; None for all."""
        return None

    def items(self, obj=None):
        return listings.feed_items(self.live_topic_key(obj))

    def item_title(self, item):
        return item.card.live_revision.search_headline

    def item_description(self, item):
        return item.card.live_revision.search_summary

    def item_link(self, item):
        return item.card.get_absolute_url()

    def item_guid(self, item):
        # Stable across slug changes and republication.
        return f"{settings.SITE_URL}/stories/id/{item.card.pk}"

    item_guid_is_permalink = False

    def item_pubdate(self, item):
        return item.card.first_published_at

    def item_updateddate(self, item):
        # An entry changes for its readers when an update line adds news; a
        # republication that only tidies the text does not make it new again.
        return item.latest_update_at or item.card.first_published_at

    def item_author_name(self, item):
        return ", ".join(a["name"] for a in item.authors) or None

    def item_categories(self, item):
        return [t["name"] for t in item.tags]


class AtomStoryFeed(StoryFeed):
    feed_type = Atom1Feed
    subtitle = StoryFeed.description


class TagFeed(StoryFeed):
    def get_object(self, request, slug):
        tag = get_object_or_404(Tag, slug=slug)
        if not Story.objects.tagged(slug).exists():
            raise Http404("No published stories with this tag.")
        cache_tags.page(request, cache_tags.tag(tag.slug))
        return tag

    def title(self, tag):
        return f"{settings.SITE_NAME}: {tag.name}"

    def link(self, tag):
        return f"/tags/{tag.slug}/"

    def live_topic_key(self, tag):
        return LiveTopic.tag_key(tag.slug)


class AtomTagFeed(TagFeed):
    feed_type = Atom1Feed
    subtitle = TagFeed.description


class EntityFeed(StoryFeed):
    def get_object(self, request, slug):
        entity = listings.public_entity(slug)
        if entity is None:
            raise Http404("No published story is about this topic.")
        cache_tags.page(request, cache_tags.entity(entity.pk))
        return entity

    def title(self, entity):
        return f"{settings.SITE_NAME}: {entity.name}"

    def link(self, entity):
        return entity.get_absolute_url()

    def live_topic_key(self, entity):
        return f"{LiveTopic.ENTITY_PREFIX}{entity.pk}"


class AtomEntityFeed(EntityFeed):
    feed_type = Atom1Feed
    subtitle = EntityFeed.description


class OutletFeed(StoryFeed):
    def get_object(self, request, slug):
        outlet = get_object_or_404(Outlet.objects.public(), slug=slug)
        cache_tags.page(request, cache_tags.outlet(outlet.pk))
        return outlet

    def title(self, outlet):
        return f"{settings.SITE_NAME}: explainers citing {outlet.name}"

    def link(self, outlet):
        return outlet.get_absolute_url()

    def description(self, outlet):
        return f"The latest explainers from {settings.SITE_NAME} citing {outlet.name}."

    def live_topic_key(self, outlet):
        return LiveTopic.outlet_key(outlet.pk)


class AtomOutletFeed(OutletFeed):
    feed_type = Atom1Feed
    subtitle = OutletFeed.description
