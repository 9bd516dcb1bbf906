"""What changed in a story since a returning reader last read it.

The reader's browser keeps, in one first-party cookie, the id of the
revision it last saw of each of the last SEEN_STORIES stories it read: ids
that every reader of the same versions shares, never an identifier of the
reader. Only the "since you last read" fragment reads and writes it, so the
story page itself stays the same bytes for everyone and the page cache can
share it.
"""

import re
from dataclasses import dataclass

from django.conf import settings

from .diff import SectionChange, changed_sections
from .models import Correction, Story, StoryRevision

COOKIE_NAME = "newsroom_seen"
SEEN_STORIES = 30
COOKIE_MAX_AGE = 365 * 24 * 3600
# 30 pairs of two ten-digit ids with separators fit; anything longer is not
# a cookie this site wrote and is ignored whole.
_MAX_COOKIE_CHARS = 30 * 22
_PAIR = re.compile(r"([1-9][0-9]{0,9}):([1-9][0-9]{0,9})")
# Ids past ten digits are no row's: refused before they reach a query.
MAX_ID = 10**10 - 1


@dataclass(frozen=True)
class WhatChanged:
    updates: list[Correction]  # newest first
    sections: list[SectionChange]  # in page order

    def __bool__(self):
        return bool(self.updates or self.sections)


def read_seen(raw: str | None) -> dict[int, int]:
    """{story id: revision id} from the cookie, oldest read first; garbage
    pairs are dropped, a value this site could not have written is empty."""
    if not raw or len(raw) > _MAX_COOKIE_CHARS:
        return {}
    seen = {}
    for pair in raw.split("-"):
        match = _PAIR.fullmatch(pair)
        if match:
            story_id, revision_id = int(match[1]), int(match[2])
            seen.pop(story_id, None)
            seen[story_id] = revision_id
    return dict(list(seen.items())[-SEEN_STORIES:])


def remember(seen: dict[int, int], story_id: int, revision_id: int) -> str:
    """The cookie's new value: revision_id of story_id as the newest read
    (unless the reader already saw a later one), dropping the oldest beyond
    SEEN_STORIES."""
    seen = dict(seen)
    revision_id = max(revision_id, seen.pop(story_id, 0))
    seen[story_id] = revision_id
    pairs = list(seen.items())[-SEEN_STORIES:]
    return "-".join(f"{story}:{revision}" for story, revision in pairs)


def set_seen_cookie(response, value: str) -> None:
    response.set_cookie(
        COOKIE_NAME,
        value,
        max_age=COOKIE_MAX_AGE,
        path="/stories/",
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def what_changed(
    story_id: int, slug: str, seen_id: int, shown_id: int
) -> WhatChanged | None:
    """Updates and changed parts of story_id, published at slug, between the
    revision a reader saw (seen_id) and the one their page shows (shown_id,
    the live one unless a cache served an older page): None when the story
    is not published, or either id is not a publication of it in that order
    (a forged cookie or address learns nothing, drafts included)."""
    story = (
        Story.objects.published()
        .filter(pk=story_id, public_slug=slug)
        .order_by()
        .only("pk")
        .first()
    )
    if story is None:
        return None
    # Only revisions that were published, so only what readers once saw is
    # compared: a working copy's text never reaches the box.
    revisions = dict(
        StoryRevision.objects.filter(
            story=story,
            kind=StoryRevision.Kind.PUBLISH,
            pk__in=[seen_id, shown_id],
        ).values_list("pk", "content")
    )
    if len(revisions) != 2 or seen_id >= shown_id:
        return None
    updates = Correction.objects.public_updates_for(story).filter(
        revision_id__gt=seen_id, revision_id__lte=shown_id
    )
    return WhatChanged(
        updates=list(updates),
        sections=changed_sections(revisions[seen_id], revisions[shown_id]),
    )
