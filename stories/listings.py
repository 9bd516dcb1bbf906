"""Listing pages and feeds as plain rows: home, topic, tag, author, outlet,
archive and FAQ pages, and the feeds.

Each page's stories come from one prepared statement (stories/prepared.py)
built from Story.objects.published(), so the only definition of what
readers may see still decides; the rows become small card objects instead
of model instances. Cards read the live revision's plain headline and
summary columns, never the working copy.

Where a page is paginated, the statement also counts, but only up to
COUNT_LIMIT stories past the page's start: a count of every story would
read the whole archive on every request. Beyond that the pagination says
"more than" instead of a number. Pages of a topic, tag or outlet read the
LiveTopic index newest first, so they read a page's worth of entries
however many stories the archive holds.
"""

import json
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import DEFAULT_DB_ALIAS, connection
from django.db.models import JSONField, OuterRef, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import JSONObject
from django.http import Http404
from django.utils import timezone

from entities.models import Entity
from newsroom.addresses import address

from . import search
from .models import FAQ, Correction, LiveTopic, LiveTopicVersion, Story
from .prepared import PreparedQuery

STORIES_PER_PAGE = 20
FEED_ITEMS = 30
ACTIVE_TOPICS = 8
ACTIVE_TOPIC_DAYS = 30
# The most active topics' window moves on as time passes: a process counts
# them again at least this often even when no publication changed them.
ACTIVE_TOPICS_RECOUNT_SECONDS = 60
# How many stories past a page's start are counted for its pagination.
COUNT_LIMIT = 200
# The deepest page a listing offers: reading page n skips (n - 1) x 20 rows,
# so unbounded numbers would let any request scan the archive. Older
# stories stay reachable by month, topic, tag and search.
MAX_PAGE_NUMBER = 500
_PAGE_NUMBER = re.compile(r"[1-9][0-9]{0,2}")

# Parameter stand-ins: values no real request sends, each unique in the SQL.
_TEXT = "newsroom:stand-in-text"
_OFFSET = 987_654_321
_ID = 987_654_323
_FROM = datetime(1111, 11, 11, tzinfo=UTC)
_TO = datetime(1222, 12, 12, tzinfo=UTC)

# What a card shows, and no more: each timestamp is parsed in Python, 2-4 µs
# apiece, and the cards list by their last publication without showing it.
CARD_COLUMNS = (
    "pk",
    "public_slug",
    "first_published_at",
    "live_revision__search_headline",
    "live_revision__search_summary",
)


class CardText:
    """What a card shows of the live revision."""

    __slots__ = ("search_headline", "search_summary")

    def __init__(self, headline, summary):
        self.search_headline = headline
        self.search_summary = summary


class Card:
    """A published story on a listing: what story_card() reads of a Story."""

    __slots__ = ("pk", "public_slug", "first_published_at", "live_revision", "extra")

    def __init__(self, row):
        (
            self.pk,
            self.public_slug,
            self.first_published_at,
            headline,
            summary,
            *self.extra,
        ) = row
        self.live_revision = CardText(headline, summary)

    @property
    def id(self):
        return self.pk

    def get_absolute_url(self):
        return address("stories:detail", self.public_slug)


class ListingPage:
    """One page of cards, read by templates as Django's Page is (the
    paginator is the page itself). The count is exact unless it reached
    COUNT_LIMIT past the page's start."""

    def __init__(self, number, cards, counted, per_page):
        self.number = number
        self.object_list = cards
        self.per_page = per_page
        start = (number - 1) * per_page
        self.is_exact = counted <= COUNT_LIMIT
        self.count = start + min(counted, COUNT_LIMIT)
        self.num_pages = max(1, -(-self.count // per_page))

    @property
    def paginator(self):
        return self

    def has_next(self):
        if self.number >= MAX_PAGE_NUMBER:
            return False
        return self.number < self.num_pages or not self.is_exact

    def has_previous(self):
        return self.number > 1

    def has_other_pages(self):
        return self.has_previous() or self.has_next()

    def next_page_number(self):
        return self.number + 1

    def previous_page_number(self):
        return self.number - 1

    def __len__(self):
        return len(self.object_list)

    def __iter__(self):
        return iter(self.object_list)

    def __getitem__(self, index):
        return self.object_list[index]


def page_number(request) -> int:
    """The ?page= number, or 404 for anything but a positive integer up to
    MAX_PAGE_NUMBER written plainly: "01" or "+1" would be another address
    of the same page, for caches to keep apart."""
    raw = request.GET.get("page", "1")
    if not _PAGE_NUMBER.fullmatch(raw) or int(raw) > MAX_PAGE_NUMBER:
        raise Http404("No such page.")
    return int(raw)


def _counted(queryset, columns, offset, counting=None):
    """columns of queryset's page at offset, each row ending with the number
    of rows from the page's start on, counted up to COUNT_LIMIT + 1 in
    counting (by default queryset itself)."""
    counting = queryset if counting is None else counting
    # In any order the same number of rows lie past offset: unordered, the
    # count needs no ranking or sort.
    bounded = counting.order_by().values("pk")[offset : offset + COUNT_LIMIT + 1]
    sql, params = bounded.query.sql_with_params()
    total = RawSQL(f"SELECT count(*) FROM ({sql}) AS bounded", params)  # noqa: S611
    return queryset.annotate(bounded_total=total).values_list(
        *columns, "bounded_total"
    )[offset : offset + STORIES_PER_PAGE]


def _page(query, number, *values):
    return _listing(query.rows(*values, (number - 1) * STORIES_PER_PAGE), number)


def _listing(rows, number):
    if not rows and number > 1:
        raise Http404("No such page.")
    counted = rows[0][-1] if rows else 0
    cards = [Card(row[:-1]) for row in rows]
    return ListingPage(number, cards, counted, STORIES_PER_PAGE)


def _newest():
    return Story.objects.published().order_by("-last_published_at", "-pk")


def _on_live_topic(key):
    """Live-topic rows under key of published stories, newest first: read
    off the (key, -last_published_at, -story) index, whose time is the
    story's last publication, so a page reads a page's worth of entries."""
    return LiveTopic.objects.filter(
        key=key, story__in=Story.objects.published()
    ).order_by("-last_published_at", "-story_id")


def _live_topic_entries(key):
    """Every live-topic row under key, to count a page's pagination from
    the index alone. Rows are written and deleted with the live revision in
    the same transaction, so they are the published stories' rows; asking
    each of 200 stories whether it is published took 0.8 ms a page. The
    cards themselves still come from _on_live_topic(): at worst a number
    would be off, never a story shown."""
    return LiveTopic.objects.filter(key=key)


TOPIC_CARD_COLUMNS = tuple(
    "story_id" if name == "pk" else f"story__{name}" for name in CARD_COLUMNS
)


def _home(offset):
    return _counted(
        _newest().annotate(topics_version=LiveTopicVersion.current()),
        (*CARD_COLUMNS, "topics_version"),
        offset,
    )


_HOME = PreparedQuery("home", _home, (_OFFSET,), ("bigint",))
# The home page itself, nearly every request, with its offset written in: a
# statement without parameters has one plan, made once, where _HOME is
# planned for each offset (0.25 ms at 100k; a generic plan that does not
# know the offset sorts the whole archive).
_HOME_FIRST = PreparedQuery("home_first", lambda: _home(0), (), ())
_ON_LIVE_TOPIC = PreparedQuery(
    "live_topic_page",
    lambda key, offset: _counted(
        _on_live_topic(key), TOPIC_CARD_COLUMNS, offset, _live_topic_entries(key)
    ),
    (_TEXT, _OFFSET),
    ("text", "bigint"),
    # Measured at 100k: planned for each key, 1 ms of planning to run for
    # 0.2 ms; the generic plan runs in the same 0.2 ms.
    generic_plan=True,
)


_AUTHOR = PreparedQuery(
    "author_page",
    lambda user_id, offset: _counted(
        Story.objects.by_author(user_id).order_by("-last_published_at", "-pk"),
        CARD_COLUMNS,
        offset,
    ),
    (_ID, _OFFSET),
    ("bigint", "bigint"),
)
_ARCHIVE = PreparedQuery(
    "archive_page",
    lambda start, end, offset: _counted(
        Story.objects.published()
        .filter(first_published_at__gte=start, first_published_at__lt=end)
        .order_by("-first_published_at", "-pk"),
        CARD_COLUMNS,
        offset,
    ),
    (_FROM, _TO, _OFFSET),
    ("timestamptz", "timestamptz", "bigint"),
    generic_plan=True,  # 0.25 ms of planning a request otherwise
)
_OUTLET = PreparedQuery(
    "outlet_page",
    lambda key, offset: _counted(
        _on_live_topic(key),
        (*TOPIC_CARD_COLUMNS, "story__live_revision__content__source_summaries"),
        offset,
        _live_topic_entries(key),
    ),
    (_TEXT, _OFFSET),
    ("text", "bigint"),
    generic_plan=True,  # as _ON_LIVE_TOPIC
)
_FAQ = PreparedQuery(
    "faq_page",
    lambda faq_id: (
        Story.objects.published()
        .filter(live_revision__faqs=faq_id)
        .order_by("-last_published_at", "-pk")
        .values_list(*CARD_COLUMNS)
    ),
    (_ID,),
    ("bigint",),
)
_FEED_COLUMNS = ("live_revision__content__authors", "live_revision__content__tags")


def _with_latest_update(queryset, story):
    """Feed entries are updated when an update line adds news."""
    latest = Correction.objects.latest_update_time(OuterRef(story))
    return queryset.annotate(latest_update_at=latest)


_FEED = PreparedQuery(
    "feed",
    lambda: _with_latest_update(_newest(), "pk").values_list(
        *CARD_COLUMNS, *_FEED_COLUMNS, "latest_update_at"
    )[:FEED_ITEMS],
    (),
    (),
)
_LIVE_TOPIC_FEED = PreparedQuery(
    "live_topic_feed",
    lambda key: _with_latest_update(_on_live_topic(key), "story_id").values_list(
        *TOPIC_CARD_COLUMNS,
        *(f"story__{name}" for name in _FEED_COLUMNS),
        "latest_update_at",
    )[:FEED_ITEMS],
    (_TEXT,),
    ("text",),
    generic_plan=True,  # as _ON_LIVE_TOPIC
)


SEARCH_COLUMNS = search.RESULT_COLUMNS
_SEARCH = PreparedQuery(
    "search_page",
    lambda query, offset: _counted(
        search.search_stories(query), SEARCH_COLUMNS, offset
    ),
    (_TEXT, _OFFSET),
    ("text", "bigint"),
    # Ranked, and counted in the same pass (a window over the at most
    # SEARCH_CANDIDATES candidates) instead of finding them a second time.
    sql=lambda query, offset: search.ranked_search_sql(query, offset, STORIES_PER_PAGE),
)


def search_page(query: str, number: int) -> ListingPage:
    """Published stories matching query, best first (search.ranked_search_sql),
    each card's extra its snippet's plain text and the query as the
    database parsed it (search.safe_snippet highlights the one with the
    other)."""
    return _page(_SEARCH, number, query)


ENTITY_FIELDS = tuple(f.attname for f in Entity._meta.concrete_fields)
_ENTITY = PreparedQuery(
    "public_entity",
    lambda slug: Entity.objects.public().filter(slug=slug).values_list(*ENTITY_FIELDS),
    (_TEXT,),
    ("text",),
)
FAQ_FIELDS = ("id", "question", "slug")


def _public_faqs_about(entity):
    """An entity's public FAQs by question: its topic page's questions."""
    public = FAQ.objects.public().values("pk")
    return FAQ.objects.filter(pk__in=public, entities=entity).order_by("question", "id")


_ENTITY_FAQS = PreparedQuery(
    "entity_faqs",
    lambda entity_id: _public_faqs_about(entity_id).values_list(*FAQ_FIELDS),
    (_ID,),
    ("bigint",),
)


def _topic(slug):
    """The public entity at slug and, on PostgreSQL, its public FAQs as
    JSON in the same statement (a round trip, 0.15 ms, fewer per topic
    page); elsewhere they are read by entity_faqs()."""
    if connection.vendor == "postgresql":
        from django.contrib.postgres.expressions import ArraySubquery

        faqs = ArraySubquery(
            _public_faqs_about(OuterRef("pk")).values(
                item=JSONObject(**{name: name for name in FAQ_FIELDS})
            )
        )
    else:
        faqs = Value(None, output_field=JSONField())
    return (
        Entity.objects.public()
        .filter(slug=slug)
        .annotate(faqs_json=faqs)
        .values_list(*ENTITY_FIELDS, "faqs_json")
    )


_TOPIC = PreparedQuery("topic", _topic, (_TEXT,), ("text",))


def topic(slug: str) -> tuple[Entity, list[FAQ]] | None:
    """The entity at slug if a published story is about it (its topic page),
    with every column loaded as the ORM would build it, and its public FAQs
    (entity_faqs())."""
    rows = _TOPIC.rows(slug)
    if not rows:
        return None
    *values, faqs = rows[0]
    entity = Entity.from_db(DEFAULT_DB_ALIAS, ENTITY_FIELDS, values)
    if faqs is None:
        return entity, entity_faqs(entity.pk)
    return entity, [
        FAQ.from_db(DEFAULT_DB_ALIAS, FAQ_FIELDS, [item[name] for name in FAQ_FIELDS])
        for item in map(_json, faqs)
    ]


def public_entity(slug: str) -> Entity | None:
    """The entity at slug if a published story is about it (its topic page),
    with every column loaded, as the ORM would build it."""
    rows = _ENTITY.rows(slug)
    return Entity.from_db(DEFAULT_DB_ALIAS, ENTITY_FIELDS, rows[0]) if rows else None


def entity_faqs(entity_id: int) -> list[FAQ]:
    """Public FAQs about the entity: their questions and addresses."""
    return [
        FAQ.from_db(DEFAULT_DB_ALIAS, FAQ_FIELDS, row)
        for row in _ENTITY_FAQS.rows(entity_id)
    ]


def home_page(number: int) -> ListingPage:
    """The newest published stories, the page's topics_version the
    LiveTopicVersion token read with them (None when it has no story)."""
    page = _listing(_HOME_FIRST.rows(), 1) if number == 1 else _page(_HOME, number)
    page.topics_version = page.object_list[0].extra[0] if page.object_list else None
    return page


class _Ranking:
    """The most active topics as one process last counted them, and the
    LiveTopicVersion token and time they were counted at."""

    __slots__ = ("token", "counted_at", "topics")

    def __init__(self, token, counted_at, topics):
        self.token = token
        self.counted_at = counted_at
        self.topics = topics


_NEVER = object()
_ranking = _Ranking(_NEVER, float("-inf"), [])


def active_topics(topics_version) -> list[Entity]:
    """The ACTIVE_TOPICS entities with the most stories last published in
    the last ACTIVE_TOPIC_DAYS, each with its story_count.

    Counting them took about 3 ms of PostgreSQL per home page at 100,000
    stories, and reading the eight entities again another 0.9 ms. They
    change only when a publication or withdrawal rewrites LiveTopic rows or
    an editor renames or deletes a topic, each of which gives
    LiveTopicVersion a new token, and as the window moves on. So each
    process counts them again only when the token read with the page's
    stories differs from the one it counted under, or
    ACTIVE_TOPICS_RECOUNT_SECONDS after it last counted; in between the
    page costs no query for them. The token is read before the count, so a
    count is never older than its token and a withdrawn story's topic
    leaves as the withdrawal commits. The entities are shared between
    requests: read, never changed."""
    global _ranking
    ranking = _ranking
    now = time.monotonic()
    if (
        ranking.token != topics_version
        or now - ranking.counted_at > ACTIVE_TOPICS_RECOUNT_SECONDS
    ):
        since = timezone.now() - timedelta(days=ACTIVE_TOPIC_DAYS)
        topics = list(Entity.objects.most_active(since=since, limit=ACTIVE_TOPICS))
        ranking = _ranking = _Ranking(topics_version, now, topics)
    return ranking.topics


def tag_page(slug: str, number: int) -> ListingPage:
    # LiveTopic.keys_of() names a tag by its slug.
    return _page(_ON_LIVE_TOPIC, number, LiveTopic.tag_key(slug))


def author_page(user_id: int, number: int) -> ListingPage:
    return _page(_AUTHOR, number, user_id)


def archive_page(start: datetime, end: datetime, number: int) -> ListingPage:
    """Stories first published from start until end, newest first."""
    return _page(_ARCHIVE, number, start, end)


def outlet_page(outlet_id: int, number: int) -> ListingPage:
    """Stories citing the outlet, each card's extra the live revision's
    source summaries."""
    page = _page(_OUTLET, number, LiveTopic.outlet_key(outlet_id))
    for card in page.object_list:
        card.extra = _json(card.extra[0])
    return page


def topic_page(entity_id: int, number: int) -> ListingPage:
    """Published stories about an entity (its topic page), newest first."""
    return _page(_ON_LIVE_TOPIC, number, f"{LiveTopic.ENTITY_PREFIX}{entity_id}")


def faq_cards(faq_id: int) -> list[Card]:
    """Every published story linking to the FAQ, newest first."""
    return [Card(row) for row in _FAQ.rows(faq_id)]


@dataclass(frozen=True, slots=True)
class FeedItem:
    card: Card
    authors: list
    tags: list
    latest_update_at: datetime | None


def feed_items(key: str | None = None) -> list[FeedItem]:
    """The newest FEED_ITEMS published stories, or those under a LiveTopic
    key, with the live revision's authors and tags."""
    rows = _FEED.rows() if key is None else _LIVE_TOPIC_FEED.rows(key)
    items = []
    for row in rows:
        card = Card(row)
        authors, tags, latest_update_at = card.extra
        items.append(
            FeedItem(card, _json(authors) or [], _json(tags) or [], latest_update_at)
        )
    return items


def _json(value):
    # The ORM decodes JSON; rows EXECUTEd straight from the cursor do not.
    return json.loads(value) if isinstance(value, str) else value
