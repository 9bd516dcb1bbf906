"""The story page's article, rendered from an immutable revision.

Everything in a revision's content (text, sections, sources, FAQ and topic
snapshots, tags, hero image) is frozen when the revision is written, so its
HTML is a pure function of the revision. Each process renders a published
revision once and keeps the result in a small LRU; nothing ever needs
invalidating, because a change is always a new revision. The parts that do
change without a new revision (publication dates, corrections, related
stories) are rendered per request by the page template.

This is memoisation, not the page cache: it is on even when the page cache
is off, and ARTICLE_MEMO_ENTRIES=0 turns it off (the reader benchmark
measures both).
"""

import threading
from collections import OrderedDict
from dataclasses import dataclass

from django.conf import settings
from django.core.signals import setting_changed
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from .models import hero_image_url

PART_TEMPLATES = {
    "hero": "stories/includes/story_hero.html",
    "parts": "stories/includes/story_parts.html",
    "tags": "stories/includes/story_tags.html",
}


@dataclass(frozen=True)
class Article:
    hero: SafeString
    parts: SafeString
    tags: SafeString


_memo: OrderedDict = OrderedDict()
_lock = threading.Lock()


def published_article(revision):
    """A published revision's article, rendered once per process."""
    size = settings.ARTICLE_MEMO_ENTRIES
    # created_at as well as the primary key: a key reused after a database
    # restore (or between tests) must not find another revision's HTML.
    key = (revision.pk, revision.created_at)
    with _lock:
        article = _memo.get(key)
        if article is not None:
            _memo.move_to_end(key)
            return article
    article = _render(revision.content, preview=False)
    if size > 0:
        with _lock:
            _memo[key] = article
            while len(_memo) > size:
                _memo.popitem(last=False)
    return article


def preview_article(content):
    """A draft's article (a revision's or the unsaved working copy's
    content). It links nowhere, since a draft's topics and tags may not be
    public yet, and is never memoised."""
    return _render(content, preview=True)


def _render(content, *, preview):
    context = {
        "content": content,
        "hero_image_url": hero_image_url(content),
        "is_preview": preview,
    }
    # The templates only ever see escaped or already-sanitised content, so
    # the joined output is safe by construction.
    return Article(
        **{
            name: mark_safe(render_to_string(template, context))  # noqa: S308
            for name, template in PART_TEMPLATES.items()
        }
    )


def _forget_all(**kwargs):
    if kwargs["setting"] == "ARTICLE_MEMO_ENTRIES":
        with _lock:
            _memo.clear()


setting_changed.connect(_forget_all)
