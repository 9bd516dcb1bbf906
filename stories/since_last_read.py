"""What changed in a story since a returning reader last read it.

The reader's browser keeps, in one first-party cookie, the live revision id
it last saw of each of the last SEEN_STORIES stories it read: public ids
that every reader of the same versions shares, never an identifier of the
reader. Only the "since you last read" fragment reads and writes it, so the
story page itself stays the same bytes for everyone and the page cache can
share it.
"""

import re
from dataclasses import dataclass

from django.conf import settings

from .diff import SectionChange, changed_sections
from .models import Correction, StoryRevision

COOKIE_NAME = "newsroom_seen"
SEEN_STORIES = 30
COOKIE_MAX_AGE = 365 * 24 * 3600
# 30 pairs of two ten-digit ids with separators fit; anything longer is not
# a cookie this site wrote and is ignored whole.
_MAX_COOKIE_CHARS = 30 * 22
_PAIR = re.compile(r"([1-9][0-9]{0,9}):([1-9][0-9]{0,9})")


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


def remember(seen: dict[int, int], story) -> str:
    """The cookie's new value: story's live revision as the newest read,
    dropping the oldest beyond SEEN_STORIES."""
    seen = dict(seen)
    seen.pop(story.pk, None)
    seen[story.pk] = story.live_revision_id
    pairs = list(seen.items())[-SEEN_STORIES:]
    return "-".join(f"{story_id}:{revision_id}" for story_id, revision_id in pairs)


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


def what_changed(story, seen_revision_id: int | None) -> WhatChanged | None:
    """Updates and changed parts of story (published, with its live revision
    loaded) since the revision a reader saw; None for a first visit, an
    up-to-date reader, or a revision id that is not an earlier publication
    of this story (a forged cookie learns nothing, drafts included)."""
    if seen_revision_id is None or seen_revision_id >= story.live_revision_id:
        return None
    # Only revisions that were published, so only what readers once saw is
    # compared: a working copy's text never reaches the box.
    seen = (
        StoryRevision.objects.filter(
            story=story, kind=StoryRevision.Kind.PUBLISH, pk=seen_revision_id
        )
        .only("content")
        .first()
    )
    if seen is None:
        return None
    updates = Correction.objects.public_updates_for(story).filter(
        revision_id__gt=seen.pk
    )
    return WhatChanged(
        updates=list(updates),
        sections=changed_sections(seen.content, story.live_revision.content),
    )
