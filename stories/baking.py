"""Which pages a publication, correction or withdrawal bakes ahead of its
first reader (newsroom/baked_pages.py does the baking)."""

from django.urls import reverse

from newsroom import baked_pages

from .models import LiveTopic, Story, StoryRevision
from .sitemaps import SITEMAPS

SITE_PAGES = ("stories:home", "stories:feed_rss", "stories:feed_atom")
# A story joining or leaving a topic or tag changes the related stories of
# every story sharing it. Those pages are invalidated; the newest few of
# them per topic or tag, the ones readers are on, are baked again too.
NEIGHBOURS_PER_KEY = 10


def story_paths(story_id: int) -> list[str]:
    """The addresses that show the story as readers see it now: its page
    and the pages of its live revision's topics, FAQs and tags (with their
    feeds). Read before a change, they are the pages it leaves."""
    story = Story.objects.filter(pk=story_id).first()
    if story is None:
        return []
    paths = [story.get_absolute_url()]
    if story.live_revision_id is None:
        return paths
    revision = StoryRevision.objects.get(pk=story.live_revision_id)
    for slug in revision.entities.values_list("slug", flat=True):
        paths += [
            reverse("entities:detail", args=[slug]),
            reverse("stories:entity_feed_rss", args=[slug]),
            reverse("stories:entity_feed_atom", args=[slug]),
        ]
    for slug in revision.tags.values_list("slug", flat=True):
        paths += [
            reverse("stories:tag", args=[slug]),
            reverse("stories:tag_feed_rss", args=[slug]),
            reverse("stories:tag_feed_atom", args=[slug]),
        ]
    for slug in revision.faqs.values_list("slug", flat=True):
        paths.append(reverse("stories:faq_detail", args=[slug]))
    return paths + neighbour_paths(story_id)


def neighbour_paths(story_id: int) -> list[str]:
    """The newest stories sharing each of the story's live topics and tags
    (one index read per topic or tag)."""
    keys = LiveTopic.keys_of_story(story_id)
    ids = []
    for key in keys:
        ids += (
            LiveTopic.objects.filter(key=key)
            .exclude(story_id=story_id)
            .order_by("-last_published_at", "-story_id")
            .values_list("story_id", flat=True)[:NEIGHBOURS_PER_KEY]
        )
    if not ids:
        return []
    neighbours = Story.objects.published().filter(pk__in=ids)
    by_id = {
        story.pk: story.get_absolute_url()
        for story in neighbours.only("public_slug", "slug")
    }
    return [by_id[pk] for pk in dict.fromkeys(ids) if pk in by_id]


def site_paths() -> list[str]:
    """Pages every publication changes: home, the main feeds, the sitemaps."""
    return [
        *(reverse(name) for name in SITE_PAGES),
        reverse("stories:sitemap"),
        reverse("stories:sitemap_news"),
        *(reverse("stories:sitemap_section", args=[name]) for name in SITEMAPS),
    ]


def bake_story_pages(*, story_id: int, paths_before=()) -> dict:
    """Render into the page cache (and BAKED_PAGES_ROOT) the pages a change
    to story_id touched: those it showed on before (paths_before) and those
    it shows on now. A page that no longer answers 200 loses its file."""
    own = story_paths(story_id)
    # The story's own pages first: its readers are the first to arrive.
    paths = [*own[:1], *site_paths(), *own[1:], *paths_before]
    return baked_pages.bake(paths)
