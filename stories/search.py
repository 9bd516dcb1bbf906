"""Full-text search over published stories: PostgreSQL's ranked search with
highlighted snippets, and a plain substring search elsewhere (SQLite)."""

import html
import re
from collections.abc import Iterator
from functools import lru_cache

import snowballstemmer
from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import F, OuterRef, Q, Subquery, TextField, Value
from django.db.models.functions import Cast, Concat
from django.utils.html import escape, strip_tags
from django.utils.safestring import mark_safe

from .models import Story, StoryRevision

MAX_QUERY_CHARS = 200
# The newest matches a search ranks and counts on PostgreSQL.
SEARCH_CANDIDATES = 200
# A snippet: up to two fragments of the text around the matched words.
SNIPPET_FRAGMENTS = 2
FRAGMENT_CHARS = 120
CHARS_BEFORE_MATCH = 30
FRAGMENT_DELIMITER = " \u2026 "


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


def _summary_and_body():
    return Concat(
        "live_revision__search_summary",
        Value(" "),
        "live_revision__search_body",
        output_field=TextField(),
    )


def search_stories(query: str):
    """Published stories containing every word of query, newest first,
    each with a `snippet` (plain text) and an empty `parsed_query`: the
    search where PostgreSQL's full-text search is not available (SQLite).
    PostgreSQL runs ranked_search_sql() instead."""
    query = " ".join(query.split())[:MAX_QUERY_CHARS]
    if not query:
        return Story.objects.none()
    condition = Q()
    for word in query.split():
        condition &= (
            Q(live_revision__search_headline__icontains=word)
            | Q(live_revision__search_summary__icontains=word)
            | Q(live_revision__search_body__icontains=word)
        )
    return (
        Story.objects.published()
        .filter(condition)
        .annotate(
            search_headline=F("live_revision__search_headline"),
            search_summary=F("live_revision__search_summary"),
            snippet=_summary_and_body(),
            parsed_query=Value(""),
        )
        .order_by("-last_published_at", "-pk")
    )


# What a search result shows, in order (listings.SEARCH_COLUMNS).
RESULT_COLUMNS = (
    "pk",
    "public_slug",
    "first_published_at",
    "search_headline",
    "search_summary",
    "snippet",
    "parsed_query",
)


def ranked_search_sql(query: str, offset: int, limit: int) -> tuple[str, list]:
    """PostgreSQL's SQL and parameters for a page of published stories
    matching query: RESULT_COLUMNS and the number of results from offset on,
    best first among the newest SEARCH_CANDIDATES matches.

    The snippet is the plain text it is cut from, and the query as
    PostgreSQL parsed it: highlighted in Python (highlight())."""
    search = SearchQuery(query, search_type="websearch", config="english")
    # Only live revisions keep a vector (services.index_live_topics), so a
    # partial GIN index and a newest-first index cover them alone.
    # PostgreSQL takes the newest matches off one or the other (a common
    # word: the newest-first index, stopping after the limit; a rare one:
    # the GIN index), and only those are ranked and counted, so a search
    # costs the same in an archive of any size. Each is ranked as it is
    # found, while its row is at hand: ranked after the join, every
    # candidate's 4 kB vector was carried through it and the count.
    candidates = (
        StoryRevision.objects.filter(search_vector__isnull=False, search_vector=search)
        .order_by("-created_at", "-id")
        .annotate(rank=SearchRank(F("search_vector"), search))
        .values("id", "rank")[:SEARCH_CANDIDATES]
    )
    # The live revision's columns are subqueries, so that PostgreSQL reads
    # them for the page's rows only, after ranking, not for every candidate.
    live = StoryRevision.objects.filter(pk=OuterRef("live_revision_id")).order_by()
    stories = (
        Story.objects.published()
        .annotate(
            search_headline=Subquery(live.values("search_headline")),
            search_summary=Subquery(live.values("search_summary")),
            snippet=Subquery(live.values("search_snippet")),
            parsed_query=Cast(search, TextField()),
        )
        .order_by()
        .values(*RESULT_COLUMNS, "last_published_at", "live_revision_id")
    )
    stories_sql, stories_params = stories.query.sql_with_params()
    candidates_sql, candidates_params = candidates.query.sql_with_params()
    columns = ", ".join(f"s.{connection.ops.quote_name(c)}" for c in RESULT_COLUMNS)
    # Django cannot join a derived table; both sides are its SQL, and the
    # stories' side starts from Story.objects.published().
    sql = (
        f"SELECT {columns}, COUNT(*) OVER () - %s "  # noqa: S608 - ORM SQL
        f"FROM ({stories_sql}) s "
        f"INNER JOIN ({candidates_sql}) c ON c.id = s.live_revision_id "
        "ORDER BY c.rank DESC, s.last_published_at DESC, s.pk DESC "
        "LIMIT %s OFFSET %s"
    )
    params = [offset, *stories_params, *candidates_params, limit, offset]
    return sql, params


def is_bounded(count: int) -> bool:
    """Whether a count of results stopped at the candidates' limit."""
    return connection.vendor == "postgresql" and count >= SEARCH_CANDIDATES


def safe_snippet(raw: str, parsed_query: str, *, query: str) -> str:
    """A result's snippet as safe HTML: on PostgreSQL the words of raw that
    the parsed query (a tsquery's text) matches, in <mark>."""
    raw = raw or ""
    if connection.vendor == "postgresql":
        return mark_safe(highlight(raw, query_lexemes(parsed_query)))
    return mark_safe(_highlight_fallback(raw, query))


_LEXEME = re.compile(r"(!?)'((?:[^']|'')+)'")
_REST_OF_WORD = re.compile(r"\w*\W*")
_STEMMER = snowballstemmer.stemmer("english")


def query_lexemes(parsed_query: str) -> frozenset[str]:
    """The lexemes a tsquery's text looks for ('govern' & !'tax' looks for
    govern), as the english configuration stems them."""
    return frozenset(
        match.group(2).replace("''", "'")
        for match in _LEXEME.finditer(parsed_query or "")
        if not match.group(1)
    )


@lru_cache(maxsize=50_000)
def _stem(word: str) -> str:
    # The Snowball English stemmer, as PostgreSQL's english configuration.
    return _STEMMER.stemWord(word)


@lru_cache(maxsize=256)
def _candidates(lexemes: frozenset[str]) -> tuple[re.Pattern, re.Pattern | None]:
    # A stem is its word's beginning but for a last y made i ("studi"), so
    # only words starting as a lexeme does need stemming (about 70 us each).
    # The second pattern, without \b or IGNORECASE, is for lower-cased ASCII
    # text: re then finds its literal start with a fast scan instead of
    # trying the pattern at every position (7x faster for one word). ASCII
    # lexemes only: IGNORECASE lets a few others match ASCII (U+017F, a long s).
    starts = "|".join(
        sorted({re.escape(lexeme[:-1]) for lexeme in lexemes}, reverse=True)
    )
    anywhere = re.compile(rf"\b(?:{starts})\w*", re.IGNORECASE)
    if not starts.isascii():
        return anywhere, None
    return anywhere, re.compile(rf"(?:{starts.lower()})\w*")


_WORD_CHAR = re.compile(r"\w")


def _is_word_char(text: str, position: int) -> bool:
    return 0 <= position < len(text) and _WORD_CHAR.match(text, position) is not None


def _spans(text: str, lexemes: frozenset[str]) -> Iterator[tuple[int, int]]:
    """Where the candidate pattern matches words of text, as finditer()
    finds them."""
    anywhere, lower_case = _candidates(lexemes)
    if lower_case is None or not text.isascii():
        for match in anywhere.finditer(text):
            if match.end() > match.start():
                yield match.span()
        return
    # For ASCII, lower() keeps every position and matches as IGNORECASE
    # does. \b is checked by hand: a start inside a word is skipped one
    # character on, so a word after a hyphen in it is still tried.
    text = text.lower()
    position = 0
    # A one-letter lexeme's pattern matches nothing as well: past the end,
    # search() would find that again and again.
    while position <= len(text):
        if (match := lower_case.search(text, position)) is None:
            return
        start, end = match.span()
        at_boundary = _is_word_char(text, start - 1) != _is_word_char(text, start)
        if at_boundary and end > start:
            yield start, end
            position = end
        else:
            position = start + 1


def _hits(text: str, lexemes: frozenset[str]) -> Iterator[tuple[int, int]]:
    """The spans of the words of text that stem to one of lexemes."""
    if not lexemes:
        return
    for start, end in _spans(text, lexemes):
        if _stem(text[start:end].lower()) in lexemes:
            yield start, end


def _fragment(text: str, start: int, chars: int, reach: int) -> tuple[int, int]:
    """text[start:] cut to whole words, about chars long and at least to
    reach."""
    if start > 0 and text[start - 1].isalnum():
        start = _REST_OF_WORD.match(text, start).end()
    end = min(len(text), max(start + chars, reach))
    if end < len(text):
        space = text.rfind(" ", reach, end)
        end = space if space > start else end
    return start, end


def highlight(text: str, lexemes: frozenset[str]) -> str:
    """Escaped HTML of up to SNIPPET_FRAGMENTS fragments of text around the
    words that stem to one of lexemes, each in <mark>; the text's beginning
    when none does (it matched elsewhere: its headline, tags or topics)."""
    # Hits are found as the fragments need them: the text past the last
    # fragment is not searched (most of it, for a common word).
    hits, fragments = [], []
    for hit in _hits(text, lexemes):
        if fragments and hit[0] < fragments[-1][1]:
            hits.append(hit)
            continue
        if len(fragments) == SNIPPET_FRAGMENTS:
            break
        start = max(hit[0] - CHARS_BEFORE_MATCH, fragments[-1][1] if fragments else 0)
        fragments.append(_fragment(text, start, FRAGMENT_CHARS, hit[1]))
        hits.append(hit)
    if not fragments:
        fragments = [_fragment(text, 0, SNIPPET_FRAGMENTS * FRAGMENT_CHARS, 0)]
    out = []
    for start, end in fragments:
        parts, position = [], start
        for hit_start, hit_end in hits:
            if start <= hit_start and hit_end <= end:
                # html.escape, as Django's escape() without its wrappers.
                parts.append(html.escape(text[position:hit_start]))
                parts.append(f"<mark>{html.escape(text[hit_start:hit_end])}</mark>")
                position = hit_end
        parts.append(html.escape(text[position:end]))
        out.append("".join(parts).strip())
    return FRAGMENT_DELIMITER.join(out)


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
