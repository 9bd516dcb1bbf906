"""RSS 2.0 and Atom feeds of published stories: site-wide, per tag, per topic,
per outlet cited."""

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.feedgenerator import Atom1Feed
from taggit.models import Tag

from entities.models import Entity

from . import cache_tags
from .models import Outlet, Story

FEED_ITEMS = 30


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

    def stories(self, obj):
        return Story.objects.published()

    def items(self, obj=None):
        return self.stories(obj).for_feed().with_latest_update()[:FEED_ITEMS]

    def item_title(self, story):
        return story.live_revision.content["headline"]

    def item_description(self, story):
        return story.live_revision.content["summary"]

    def item_link(self, story):
        return story.get_absolute_url()

    def item_guid(self, story):
        # Stable across slug changes and republication.
        return f"{settings.SITE_URL}/stories/id/{story.pk}"

    item_guid_is_permalink = False

    def item_pubdate(self, story):
        return story.first_published_at

    def item_updateddate(self, story):
        # An entry changes for its readers when an update line adds news; a
        # republication that only tidies the text does not make it new again.
        return story.latest_update_at or story.first_published_at

    def item_author_name(self, story):
        names = [a["name"] for a in story.live_revision.content.get("authors", [])]
        return ", ".join(names) or None

    def item_categories(self, story):
        return [t["name"] for t in story.live_revision.content.get("tags", [])]


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

    def stories(self, tag):
        return Story.objects.tagged(tag.slug)


class AtomTagFeed(TagFeed):
    feed_type = Atom1Feed
    subtitle = TagFeed.description


class EntityFeed(StoryFeed):
    def get_object(self, request, slug):
        entity = get_object_or_404(Entity.objects.public(), slug=slug)
        cache_tags.page(request, cache_tags.entity(entity.pk))
        return entity

    def title(self, entity):
        return f"{settings.SITE_NAME}: {entity.name}"

    def link(self, entity):
        return entity.get_absolute_url()

    def stories(self, entity):
        return Story.objects.published().filter(live_revision__entities=entity)


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

    def stories(self, outlet):
        return Story.objects.citing(outlet)


class AtomOutletFeed(OutletFeed):
    feed_type = Atom1Feed
    subtitle = OutletFeed.description
