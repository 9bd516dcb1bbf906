"""Full-text search over published stories: PostgreSQL's ranked search with
highlighted snippets, and a plain substring search elsewhere (SQLite)."""

import html
import re

from django.contrib.postgres.search import (
    SearchHeadline,
    SearchQuery,
    SearchRank,
    SearchVector,
)
from django.db import connection
from django.db.models import F, Q, TextField, Value
from django.db.models.functions import Concat, Left
from django.utils.html import escape, strip_tags
from django.utils.safestring import mark_safe

from .models import Story, StoryRevision

MAX_QUERY_CHARS = 200
# The newest matches a search ranks and counts on PostgreSQL.
SEARCH_CANDIDATES = 200
# How much of a story's body the snippet is cut from: PostgreSQL parses the
# whole text to highlight it (about 1 ms for an explainer), for every result.
SNIPPET_BODY_CHARS = 1000


def plain_text(value: str) -> str:
    text = re.sub(r"</(p|h\d|li|blockquote)>", " ", value or "")
    return " ".join(html.unescape(strip_tags(text)).split())


def search_text(content: dict) -> tuple[str, str, str]:
    """A revision's plain text by search weight: headline, summary, body."""
    body = " ".join(
        [
            *(
                f"{s['heading']} {plain_text(s['body'])}"
                for s in content.get("sections", [])
            ),
            plain_text(content.get("papers_overview", "")),
            *(
                f"{s['outlet']['name']} {s['summary']}"
                for s in content.get("source_summaries", [])
            ),
            plain_text(content.get("background", "")),
            *(e["name"] for e in content.get("entities", [])),
            *(f["question"] for f in content.get("faqs", [])),
            *(t["name"] for t in content.get("tags", [])),
        ]
    )
    return content.get("headline", ""), content.get("summary", ""), body


def index_revision(revision, apps=None) -> None:
    """Fill a revision's search text, tags and authors from its content.

    Takes apps in migrations, where models are historical."""
    content = revision.content
    if apps is None:
        from django.contrib.auth import get_user_model
        from taggit.models import Tag

        User = get_user_model()
        Revision = StoryRevision
    else:
        Tag = apps.get_model("taggit", "Tag")
        User = apps.get_model("auth", "User")
        Revision = apps.get_model("stories", "StoryRevision")
    headline, summary, body = search_text(content)
    Revision.objects.filter(pk=revision.pk).update(
        search_headline=headline, search_summary=summary, search_body=body
    )
    if connection.vendor == "postgresql":
        Revision.objects.filter(pk=revision.pk).update(
            search_vector=SearchVector("search_headline", weight="A", config="english")
            + SearchVector("search_summary", weight="B", config="english")
            + SearchVector("search_body", weight="C", config="english")
        )
    revision.tags.set(
        Tag.objects.filter(slug__in=[t["slug"] for t in content.get("tags", [])])
    )
    revision.authors.set(
        User.objects.filter(
            pk__in=[a["id"] for a in content.get("authors", []) if "id" in a]
        )
    )


def _summary_and_body(body_chars=None):
    body = F("live_revision__search_body")
    return Concat(
        "live_revision__search_summary",
        Value(" "),
        Left(body, body_chars) if body_chars else body,
        output_field=TextField(),
    )


def search_stories(query: str):
    """Published stories matching query, best first, each with a `snippet`
    (safe HTML: the matched words in <mark>). On PostgreSQL, the best of
    the newest SEARCH_CANDIDATES matches."""
    query = " ".join(query.split())[:MAX_QUERY_CHARS]
    if not query:
        return Story.objects.none()
    stories = (
        Story.objects.published()
        .select_related("live_revision")
        .defer("live_revision__content", "live_revision__search_vector")
    )
    if connection.vendor == "postgresql":
        search = SearchQuery(query, search_type="websearch", config="english")
        # Only live revisions keep a vector (services.index_live_topics), so
        # a partial GIN index and a newest-first index cover them alone.
        # PostgreSQL takes the newest matches off one or the other (a common
        # word: the newest-first index, stopping after the limit; a rare
        # one: the GIN index), and only those are ranked and counted, so a
        # search costs the same in an archive of any size.
        candidates = (
            StoryRevision.objects.filter(
                search_vector__isnull=False, search_vector=search
            )
            .order_by("-created_at", "-id")
            .values("pk")[:SEARCH_CANDIDATES]
        )
        return (
            stories.filter(live_revision__in=candidates)
            .annotate(
                rank=SearchRank(F("live_revision__search_vector"), search),
                snippet=SearchHeadline(
                    _summary_and_body(SNIPPET_BODY_CHARS),
                    search,
                    config="english",
                    start_sel="<mark>",
                    stop_sel="</mark>",
                    max_words=35,
                    min_words=15,
                    max_fragments=2,
                    fragment_delimiter=" … ",
                ),
            )
            .order_by("-rank", "-last_published_at", "-pk")
        )
    words = query.split()
    condition = Q()
    for word in words:
        condition &= (
            Q(live_revision__search_headline__icontains=word)
            | Q(live_revision__search_summary__icontains=word)
            | Q(live_revision__search_body__icontains=word)
        )
    return (
        stories.filter(condition)
        .annotate(
            rank=Value(0.0),
            snippet=_summary_and_body(),
        )
        .order_by("-last_published_at", "-pk")
    )


def is_bounded(count: int) -> bool:
    """Whether a count of results stopped at the candidates' limit."""
    return connection.vendor == "postgresql" and count >= SEARCH_CANDIDATES


def safe_snippet(raw: str, query: str) -> str:
    """A result's snippet as safe HTML. PostgreSQL's headline marks words in
    unescaped text, so the text is escaped here and only <mark> restored."""
    raw = raw or ""
    if connection.vendor == "postgresql":
        escaped = (
            escape(raw)
            .replace("&lt;mark&gt;", "<mark>")
            .replace("&lt;/mark&gt;", "</mark>")
        )
        return mark_safe(escaped)
    return mark_safe(_highlight_fallback(raw, query))


def _highlight_fallback(text: str, query: str, width: int = 240) -> str:
    words = [w for w in query.split() if w]
    lower = text.lower()
    positions = [lower.find(w.lower()) for w in words if lower.find(w.lower()) >= 0]
    start = max(0, min(positions) - 60) if positions else 0
    excerpt = text[start : start + width]
    out = escape(excerpt)
    if words:
        # One pass, longest first, so no word matches inside an inserted tag.
        alternatives = sorted(
            {re.escape(escape(w)) for w in words}, key=len, reverse=True
        )
        pattern = re.compile("|".join(alternatives), re.IGNORECASE)
        out = pattern.sub(lambda m: f"<mark>{m.group(0)}</mark>", out)
    prefix = "… " if start > 0 else ""
    suffix = " …" if start + width < len(text) else ""
    return f"{prefix}{out}{suffix}"
