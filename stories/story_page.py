"""Everything the public story page reads, in one round trip on PostgreSQL.

The story page is the site's busiest uncached page. Read with three ORM
queries (the story, its corrections, related stories), most of its time went
to Django compiling the same SQL again on every request. On PostgreSQL the
three are one statement instead: built with the ORM from
Story.objects.published() (still the only definition of what readers may
see), compiled once per process, and prepared once per connection, so
PostgreSQL neither parses nor plans it again for each request's slug
(planning cost more than running it). Other databases run the three ORM
queries. Either way the page gets the same model instances.
"""

import functools
import hashlib
import json
import weakref
from dataclasses import dataclass
from datetime import datetime

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection
from django.db.models import OuterRef
from django.db.models.expressions import RawSQL
from django.db.models.functions import JSONObject

from .models import Correction, LiveTopic, Story, StoryQuerySet, StoryRevision

RELATED_STORIES = 4

# Stands in for the slug when the statement is compiled; the prepared
# statement's one parameter takes its place.
_SLUG = "newsroom:story-page-slug"
# The driver connections (replaced when Django reconnects) on which this
# process has prepared the statement.
_prepared_on = weakref.WeakSet()
# SQLSTATEs after which the statement is prepared again, outside a transaction.
_NOT_PREPARED = "26000"  # lost: DEALLOCATE, a pooler's session reset
_ALREADY_PREPARED = "42P05"  # by another process on a pooler's session
_STALE_PLAN = "0A000"  # "cached plan must not change result type": a migration

STORY_FIELDS = (
    "id",
    "slug",
    "public_slug",
    "status",
    "first_published_at",
    "last_published_at",
    "live_revision_id",
)
CORRECTION_FIELDS = ("id", "kind", "text", "created_at")
# A related story carries what a story card shows (StoryQuerySet.CARD_FIELDS).
CARD_STORY_FIELDS = (
    "id",
    "live_revision_id",
    *(f for f in StoryQuerySet.CARD_FIELDS if "__" not in f),
)
CARD_REVISION_FIELDS = (
    "id",
    *(
        f.removeprefix("live_revision__")
        for f in StoryQuerySet.CARD_FIELDS
        if f.startswith("live_revision__")
    ),
)


@dataclass(frozen=True)
class StoryPage:
    story: Story  # with live_revision (its content) loaded
    corrections: list[Correction]
    related: list[Story]  # card-shaped: see StoryQuerySet.for_listing()


def load_story_page(slug: str) -> StoryPage | None:
    """The published story at slug, its corrections and related stories."""
    if connection.vendor == "postgresql":
        return _load_in_one_statement(slug)
    story = Story.objects.published().for_story_page().filter(public_slug=slug).first()
    if story is None:
        return None
    return StoryPage(
        story=story,
        corrections=list(story.corrections.all()),
        related=list(Story.objects.related_to(story, limit=RELATED_STORIES)),
    )


def _load_in_one_statement(slug):
    with connection.cursor() as cursor:
        row = _execute_prepared(cursor, slug)
    if row is None:
        return None
    *story_values, created_at, content, corrections, related = row
    story = _instance(Story, dict(zip(STORY_FIELDS, story_values, strict=True)))
    story.live_revision = _instance(
        StoryRevision,
        {
            "id": story.live_revision_id,
            "story_id": story.pk,
            "created_at": created_at,
            "content": json.loads(content),
        },
    )
    return StoryPage(
        story=story,
        corrections=[
            _instance(Correction, {"story_id": story.pk, **_dates(json.loads(item))})
            for item in corrections
        ],
        related=[_card(json.loads(item)) for item in related],
    )


def _execute_prepared(cursor, slug, *, retry=True):
    """EXECUTE the statement, preparing it first on a new connection.

    A connection that lost it, already has one under its name, or holds a
    plan a migration made stale gets it prepared afresh, once; inside a
    transaction the failed statement has aborted that, so the error stands
    and the connection's next attempt does it."""
    name, prepare = _prepared()
    driver_connection = connection.connection
    try:
        if driver_connection not in _prepared_on:
            cursor.execute(prepare)
            _prepared_on.add(driver_connection)
        cursor.execute(f"EXECUTE {name}(%s)", [slug])
        return cursor.fetchone()
    except DatabaseError as error:
        state = getattr(error.__cause__, "sqlstate", None)
        if state not in (_NOT_PREPARED, _ALREADY_PREPARED, _STALE_PLAN):
            raise
        # Whatever the session holds under the name is replaced: now, or by
        # the next attempt on this connection if a transaction is open.
        _prepared_on.discard(driver_connection)
        if not retry or connection.in_atomic_block:
            raise
    if state != _NOT_PREPARED:
        cursor.execute(f"DEALLOCATE {name}")
    return _execute_prepared(cursor, slug, retry=False)


@functools.cache
def _prepared():
    """(name, PREPARE statement). The constants are written in and $1 takes
    the slug's place, so that the generic plan PostgreSQL settles on after a
    few executions is this page's plan, not one for any status or limit.
    The name is a hash of the SQL, so that a session shared through a
    pooler never runs another version's statement under it."""
    sql, params = _statement()
    sql = connection.ops.compose_sql(sql, params)
    literal = connection.ops.compose_sql("%s", [_SLUG])
    if sql.count(literal) != 1:
        raise RuntimeError(f"{literal} is not where the slug goes in {sql}")
    sql = sql.replace(literal, "$1")
    name = "newsroom_story_page_" + hashlib.sha256(sql.encode()).hexdigest()[:16]
    return name, f"PREPARE {name}(text) AS {sql}"


def _card(item):
    revision = item.pop("live_revision")
    story = _instance(Story, _dates(item))
    story.live_revision = _instance(StoryRevision, revision)
    return story


def _dates(item):
    # JSON carries datetimes as ISO 8601 text.
    for name, value in item.items():
        if name.endswith("_at") and value is not None:
            item[name] = datetime.fromisoformat(value)
    return item


def _instance(model, values):
    """A model instance as the ORM builds one from a row of some of its
    columns: the rest are deferred, and load if read."""
    fields = [name for name in _columns(model) if name in values]
    # django.db.connection is the default database's.
    return model.from_db(DEFAULT_DB_ALIAS, fields, [values[f] for f in fields])


@functools.cache
def _columns(model):
    return tuple(f.attname for f in model._meta.concrete_fields)


@functools.cache
def _statement():
    """(sql, params) with _SLUG for the slug, compiled once.

    Compiling once freezes every parameter but the slug: published() must
    stay free of values that change (such as the current time), or this
    page would keep the value of its first request."""
    from django.contrib.postgres.expressions import ArraySubquery

    corrections = ArraySubquery(
        Correction.objects.filter(story=OuterRef("pk"))
        .order_by("created_at", "id")
        .values(item=JSONObject(**{name: name for name in CORRECTION_FIELDS}))
    )
    # The newest few are chosen before their revisions are read: joining
    # first read a revision for every candidate (36 for a story with nine
    # topics), half the statement's time at 100k stories.
    newest_related = (
        Story.objects.published()
        .filter(pk__in=_newest_sharing_a_topic())
        .order_by("-last_published_at", "-pk")
        .values("pk")[:RELATED_STORIES]
    )
    related = ArraySubquery(
        Story.objects.filter(pk__in=newest_related)
        .order_by("-last_published_at", "-pk")
        .values(
            item=JSONObject(
                **{name: name for name in CARD_STORY_FIELDS},
                live_revision=JSONObject(
                    **{name: f"live_revision__{name}" for name in CARD_REVISION_FIELDS}
                ),
            )
        )
    )
    queryset = (
        Story.objects.published()
        .filter(public_slug=_SLUG)
        .order_by()
        .annotate(corrections_json=corrections, related_json=related)
        .values_list(
            *STORY_FIELDS,
            "live_revision__created_at",
            "live_revision__content",
            "corrections_json",
            "related_json",
        )
    )
    sql, params = queryset.query.sql_with_params()
    return sql, tuple(params)


def _newest_sharing_a_topic():
    """Ids of the newest stories per topic or tag of the outer query's story,
    read off the live-topic index as StoryQuerySet.related_to() reads it.
    The story's own live-topic rows are its live revision's keys, and the
    outlets it cites, which LiveTopic.keys_of() leaves out: sharing an
    outlet makes no story related."""
    table = LiveTopic._meta.db_table
    story_table = Story._meta.db_table
    return RawSQL(
        f"""SELECT newest.story_id FROM {table} own
        CROSS JOIN LATERAL (
            SELECT other.story_id FROM {table} other
            WHERE other.key = own.key AND other.story_id <> own.story_id
            ORDER BY other.last_published_at DESC, other.story_id DESC
            LIMIT %s
        ) AS newest
        WHERE own.story_id = "{story_table}"."id" AND own.key NOT LIKE %s
        """,  # noqa: S608 - the table names are ours
        (RELATED_STORIES, f"{LiveTopic.OUTLET_PREFIX}%"),
    )
