"""Which source links are checked, and what editors are shown about them.

The links checked are those of the working copies' source summaries. The
change page shows the working copy, and a link fixed there clears at the
next check. A link left only in a live revision (its summary removed from
the working copy since publication) is not checked: readers see it until
the story is published again, and whoever removed it has dealt with it.
"""

import logging
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from datetime import timedelta

from django.conf import settings
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from .linkcheck import LinkResult, check_url
from .models import SourceLink, SourceSummary, Story

logger = logging.getLogger(__name__)

# A run stops starting checks after this long, leaving the rest to the next
# run, so it ends well inside check_source_links_task's time limit.
RUN_SECONDS = 600


def sync_source_links() -> tuple[int, int]:
    """Give every distinct summary URL a SourceLink row and drop the rows of
    URLs no summary uses; returns (added, removed)."""
    used = {
        SourceLink.hash_of(url): url
        for url in SourceSummary.objects.exclude(url="")
        .values_list("url", flat=True)
        .distinct()
    }
    known = dict(SourceLink.objects.values_list("url_hash", "pk"))
    # ignore_conflicts: a run started at the same time may add them first.
    added = SourceLink.objects.bulk_create(
        [
            SourceLink(url=url, url_hash=url_hash)
            for url_hash, url in used.items()
            if url_hash not in known
        ],
        batch_size=500,
        ignore_conflicts=True,
    )
    gone = [pk for url_hash, pk in known.items() if url_hash not in used]
    removed = 0
    for start in range(0, len(gone), 500):
        removed += SourceLink.objects.filter(pk__in=gone[start : start + 500]).delete()[
            0
        ]
    return len(added), removed


def check_source_links(*, stop_after_seconds: float = RUN_SECONDS) -> dict:
    """Check the links least recently checked, a batch at most, a few at a
    time, and record what each answered; returns counts.

    Checks run in threads and only wait on the network; results are written
    from this thread as they arrive, so a run cut short keeps what it found.
    Running it twice is harmless: the second run finds the links just
    checked no longer due.
    """
    sync_source_links()
    cutoff = timezone.now() - timedelta(hours=settings.LINK_CHECK_RECHECK_HOURS)
    due = SourceLink.objects.due(
        checked_before=cutoff, limit=settings.LINK_CHECK_BATCH_SIZE
    )
    deadline = time.monotonic() + stop_after_seconds
    counts = {"checked": 0, "broken": 0}
    queue = iter(due)
    with ThreadPoolExecutor(
        max_workers=settings.LINK_CHECK_CONCURRENCY,
        thread_name_prefix="linkcheck",
    ) as pool:
        running = {}

        def start_next():
            if time.monotonic() >= deadline:
                return
            item = next(queue, None)
            if item is not None:
                running[pool.submit(check_url, item[1])] = item[0]

        # Never more submitted than workers: a stop at the deadline then
        # leaves no queued checks behind.
        for _ in range(settings.LINK_CHECK_CONCURRENCY):
            start_next()
        while running:
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                try:
                    result = future.result()
                except Exception as error:
                    # A bug in the checker must not lose the other results.
                    logger.exception("Checking source link %s failed", running[future])
                    result = LinkResult(
                        ok=False, error=f"Could not check ({type(error).__name__})"
                    )
                record_result(link_id=running.pop(future), result=result)
                counts["checked"] += 1
                counts["broken"] += not result.ok
                start_next()
    return counts


def record_result(*, link_id: int, result: LinkResult) -> None:
    """Store one check's outcome; a link that stays broken keeps the time it
    broke."""
    now = timezone.now()
    SourceLink.objects.filter(pk=link_id).update(
        checked_at=now,
        status_code=result.status_code,
        error=result.error[:500],
        is_broken=not result.ok,
        broken_since=(None if result.ok else Coalesce(F("broken_since"), Value(now))),
    )


def broken_links_of(story: Story) -> list[dict]:
    """The story's source summaries whose link was last found broken, in
    their order: outlet, url, what went wrong and since when (two queries
    however many summaries)."""
    summaries = list(
        SourceSummary.objects.filter(story=story)
        .exclude(url="")
        .order_by("position", "id")
        .values_list("outlet__name", "url")
    )
    if not summaries:
        return []
    broken = {
        link.url: link
        for link in SourceLink.objects.broken().for_urls(url for _, url in summaries)
    }
    return [
        {
            "outlet": outlet,
            "url": url,
            "problem": broken[url].problem,
            "broken_since": broken[url].broken_since,
            "checked_at": broken[url].checked_at,
        }
        for outlet, url in summaries
        if url in broken
    ]
