"""What each public page shows, and what each change makes stale.

Both sides of the page cache's tags live here, so that a page and the events
that change it cannot drift apart. A tag names one thing a page shows:

- ``story:<id>``: the story's page, its 410 page, and every card of it;
- ``entity:<id>``, ``tag:<slug>``: the topic or tag page and its feeds, and
  every story page whose related stories are drawn from that topic or tag
  (a new story about it joins their lists);
- ``faq:<id>``, ``outlet:<id>``, ``author:<id>``: those pages (and feeds);
- listings: ``home``, ``archive:<yyyy>`` and ``archive:<yyyy>-<mm>``,
  ``feed``, ``sitemap``, ``corrections``, ``search``.

Events (story_published, reference_changed...) return the tags to pass to
newsroom.pagecache.invalidate() on commit. A page whose view names no tags
is still safe: it carries pagecache.UNTAGGED, which every event includes.
"""

from functools import wraps

from newsroom import pagecache

HOME = "home"
FEED = "feed"
SITEMAP = "sitemap"
CORRECTIONS = "corrections"
SEARCH = "search"
# Pages every publication, correction or withdrawal changes.
EVERY_STORY_CHANGE = (HOME, FEED, SITEMAP, SEARCH)


def story(pk) -> str:
    return f"story:{pk}"


def entity(pk) -> str:
    return f"entity:{pk}"


def faq(pk) -> str:
    return f"faq:{pk}"


def outlet(pk) -> str:
    return f"outlet:{pk}"


def tag(slug) -> str:
    return f"tag:{slug}"


def author(pk) -> str:
    return f"author:{pk}"


def archive(year, month=None) -> str:
    return f"archive:{year}" if month is None else f"archive:{year}-{month:02d}"


# Pages: views call these.


def page(request, *tags, stories=()):
    """Tag request's page with tags and a card tag for each of stories."""
    pagecache.tag(request, *tags, *(story(s.pk) for s in stories))


def tagged(*tags):
    """A view decorator for pages whose tags do not depend on their content
    (sitemaps)."""

    def decorate(view):
        @wraps(view)
        def tagged_view(request, *args, **kwargs):
            page(request, *tags)
            return view(request, *args, **kwargs)

        return tagged_view

    return decorate


def story_page(request, shown, related):
    """A story page: the story, its related stories, and the topics and tags
    its related stories are drawn from."""
    from .models import LiveTopic

    content = shown.live_revision.content
    page(request, story(shown.pk), *LiveTopic.keys_of(content), stories=related)


# Events: services call these, and invalidate what they return on commit.


def of_live_story(pk) -> set[str]:
    """Every tag whose pages show the story's live revision now: read before
    a change (what it leaves) and after it (what it joins)."""
    from .models import LiveTopic, Story

    tags = {story(pk)}
    live = (
        Story.objects.filter(pk=pk)
        .values_list("live_revision", "first_published_at")
        .first()
    )
    if live is None or live[0] is None:
        return tags
    revision_id, first_published_at = live
    # Topics, tags and cited outlets, as the live-topic index holds them.
    tags.update(LiveTopic.objects.filter(story_id=pk).values_list("key", flat=True))
    from .models import StoryRevision

    revision = StoryRevision.objects.get(pk=revision_id)
    faq_ids = list(revision.faqs.values_list("pk", flat=True))
    tags.update(faq(i) for i in faq_ids)
    # A topic page lists the public FAQs about it: a story linking one
    # makes it public, or stops it being so, whatever the story is about.
    from .models import FAQ

    topic_ids = FAQ.entities.through.objects.filter(faq_id__in=faq_ids)
    tags.update(entity(i) for i in topic_ids.values_list("entity_id", flat=True))
    tags.update(author(i) for i in revision.authors.values_list("pk", flat=True))
    if first_published_at is not None:
        tags.add(archive(first_published_at.year))
        tags.add(archive(first_published_at.year, first_published_at.month))
    return tags


def story_changed(pk, before: set[str], has_corrections: bool) -> set[str]:
    """A publication, republication (with or without a correction),
    withdrawal or expiry of story pk, given of_live_story(pk) from before
    it. The pages it leaves and the pages it joins change, and so do the
    site-wide listings."""
    tags = before | of_live_story(pk) | set(EVERY_STORY_CHANGE)
    if has_corrections:
        tags.add(CORRECTIONS)
    return tags


def reference_changed(obj, before: set[str] = frozenset()) -> set[str]:
    """An entity, FAQ, outlet or tag edited or deleted: its own pages, the
    story pages and listings showing it, and the sitemap listing it. before
    is reference_tags(obj) from before the edit (an FAQ's old topics)."""
    return before | reference_tags(obj) | {SITEMAP}


def reference_tags(obj) -> set[str]:
    from taggit.models import Tag

    from entities.models import Entity

    from .models import FAQ, Outlet

    if isinstance(obj, Entity):
        return {entity(obj.pk)}
    if isinstance(obj, FAQ):
        # A topic page lists its FAQs.
        topics = obj.entities.values_list("pk", flat=True) if obj.pk else []
        return {faq(obj.pk), *(entity(pk) for pk in topics)}
    if isinstance(obj, Outlet):
        return {outlet(obj.pk)}
    if isinstance(obj, Tag):
        return {tag(obj.slug)}
    # Anything else readers may see: every page that could show it.
    return {pagecache.EVERYTHING}


def invalidate(tags) -> None:
    pagecache.invalidate(tags)


def invalidate_on_commit(tags) -> None:
    from django.db import transaction

    tags = set(tags)
    transaction.on_commit(lambda: pagecache.invalidate(tags))
