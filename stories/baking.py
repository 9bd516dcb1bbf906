"""Which pages a publication, correction or withdrawal bakes ahead of its
first reader (newsroom/baked_pages.py does the baking)."""

from django.urls import reverse

from newsroom import baked_pages

from .models import Story, StoryRevision
from .sitemaps import SITEMAPS

SITE_PAGES = ("stories:home", "stories:feed_rss", "stories:feed_atom")


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
    return paths


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
    paths = [*story_paths(story_id), *paths_before, *site_paths()]
    return baked_pages.bake(paths)
