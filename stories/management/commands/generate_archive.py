"""A synthetic archive of published stories, for measuring reader pages at
scale: `manage.py generate_archive [--stories 100000]`.

Rows are written in bulk (COPY on PostgreSQL, multi-row INSERT elsewhere),
the way publish_story() would have left them: working copies with their
parts, several revisions each, the live one indexed for search with its
tags and authors, LiveTopic rows, and a few corrections.
"""

import json
import random
import sys
import time
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.text import slugify
from taggit.models import Tag, TaggedItem

from entities.models import Entity
from newsroom import pagecache
from stories.models import (
    FAQ,
    Correction,
    LiveTopic,
    LiveTopicVersion,
    Outlet,
    Section,
    SourceSummary,
    Story,
    StoryEntity,
    StoryRevision,
)
from stories.search import search_text
from stories.text import match_keys, name_key

BATCH = 2000
STORIES_PER_DAY = 30

WORDS = (
    "government budget defence spending minister election parliament court "
    "ruling inflation prices energy climate emissions treaty border trade "
    "tariff talks ceasefire troops missile alliance summit vote coalition "
    "opposition reform pension health hospital school teachers strike union "
    "wages housing rent interest rates bank central growth recession market "
    "shares investors company profits regulator inquiry report evidence "
    "police protest rights refugees migration asylum drought flood storm "
    "wildfire harvest farmers exports imports sanctions oil gas nuclear "
    "power grid railway airport port shipping supply chain technology "
    "artificial intelligence data privacy platform social media football "
    "league tournament final olympic athletes doping scandal resignation "
    "campaign poll voters turnout referendum constitution judges appeal "
    "prison sentence charges investigation fraud corruption audit deficit "
    "debt bonds currency exchange tourism culture museum festival film "
    "science research vaccine outbreak virus patients doctors nurses "
    "waiting lists funding council mayor city region province capital "
    "diplomats embassy envoy negotiations agreement deal framework plan "
    "strategy security intelligence cyber attack hackers warning threat"
).split()
FIRST = "Alder Birch Cedar Delta Ember Fjord Garnet Harbor Iris Juniper Kestrel Linden"
LAST = "Basin Coast Ridge Valley Point Forum Council Party Group Union Front Works"
KIND_CYCLE = list(Entity.Kind)


class Command(BaseCommand):
    help = (
        "Generate an archive of published stories (default 100,000) with "
        "topics, tags, FAQs, revisions and corrections, for benchmarks."
    )

    def add_arguments(self, parser):
        parser.add_argument("--stories", type=int, default=100_000)
        parser.add_argument("--topics", type=int, default=2_000)
        parser.add_argument("--tags", type=int, default=500)
        parser.add_argument("--faqs", type=int, default=1_000)
        parser.add_argument("--authors", type=int, default=40)
        parser.add_argument(
            "--revisions", type=int, default=3, help="revisions per story"
        )
        parser.add_argument("--seed", type=int, default=12)
        parser.add_argument(
            "--force", action="store_true", help="run even with DEBUG off"
        )
        parser.add_argument(
            "--add",
            action="store_true",
            help="add to a database that already has stories",
        )
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, **options):
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "generate_archive fills the database with invented stories; "
                "it runs with DEBUG=true, or with --force."
            )
        if Story.objects.exists() and not options["add"]:
            raise CommandError(
                "This database already has stories; pass --add to add more."
            )
        if options["revisions"] < 1 or options["stories"] < 1:
            raise CommandError("--stories and --revisions must be at least 1.")
        started = time.monotonic()
        generator = Generator(options, progress=not options["no_progress"])
        with transaction.atomic():
            generator.run()
            LiveTopicVersion.bump()
            # Every listing changes; bulk inserts name no story's pages.
            transaction.on_commit(pagecache.invalidate_everything)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                # As autovacuum would soon: plans made on empty-table
                # statistics are not production's, and index-only scans need
                # the visibility map. VACUUM cannot run in a caller's
                # transaction (a test's): ANALYZE alone there.
                vacuum = "" if connection.in_atomic_block else "VACUUM "
                cursor.execute(f"{vacuum}ANALYZE")
        self.stdout.write(
            f"Generated {options['stories']} published stories in "
            f"{time.monotonic() - started:.0f} s."
        )


class Generator:
    def __init__(self, options, progress=True):
        self.options = options
        self.rng = random.Random(options["seed"])
        self.progress = progress
        self.now = timezone.now().replace(microsecond=0)
        self.postgres = connection.vendor == "postgresql"
        self.started = time.monotonic()

    def run(self):
        rng = self.rng
        authors = self._authors()
        entities = self._entities()
        tags = self._tags()
        faqs = self._faqs()
        outlets = list(
            Outlet.objects.order_by("pk").values("pk", "name", "slug", "homepage")
        )
        if not outlets:
            outlets = [self._outlet()]
        self.paragraphs = [self._paragraph() for _ in range(1500)]
        self.story_content_type = ContentType.objects.get_for_model(Story).pk
        n = self.options["stories"]
        ids = {
            model: self._next_id(model)
            for model in (Story, StoryRevision, Section, SourceSummary, Correction)
        }
        # Popular topics and tags are far more common than the rest.
        entity_weights = _cumulative(len(entities))
        tag_weights = _cumulative(len(tags))
        spacing = timedelta(days=1) / STORIES_PER_DAY
        for start in range(0, n, BATCH):
            rows = _Rows()
            for i in range(start, min(n, start + BATCH)):
                published_at = self.now - spacing * (n - i)
                self._story(
                    rows,
                    ids,
                    published_at.replace(microsecond=0),
                    authors=rng.sample(authors, rng.choice((1, 1, 2))),
                    entities=_pick(rng, entities, entity_weights, rng.randint(3, 6)),
                    tags=_pick(rng, tags, tag_weights, rng.randint(2, 4)),
                    faqs=rng.sample(faqs, rng.randint(0, min(3, len(faqs)))),
                    outlets=rng.sample(outlets, min(len(outlets), rng.randint(3, 5))),
                )
            rows.write(self.postgres)
            if self.postgres:
                self._search_vectors(rows.live_revision_ids)
            self._show(min(n, start + BATCH), n)
        self._reset_sequences()
        if self.progress:
            sys.stderr.write("\n")

    # Reference rows: few enough for bulk_create.

    def _authors(self):
        User = get_user_model()
        first = self.options["seed"]
        users = [
            User(
                username=f"archive-author-{first}-{n}",
                first_name=FIRST.split()[n % 12],
                last_name=f"{LAST.split()[n // 12 % 12]}son",
                password="!",  # unusable: these accounts cannot sign in
            )
            for n in range(self.options["authors"])
        ]
        User.objects.bulk_create(users)
        users = User.objects.filter(username__startswith=f"archive-author-{first}-")
        return [
            {
                "id": u.pk,
                "name": u.get_full_name() or u.get_username(),
                "username": u.get_username(),
            }
            for u in users.order_by("pk")
        ]

    def _entities(self):
        seed = self.options["seed"]
        firsts, lasts = FIRST.split(), LAST.split()
        rows = []
        for n in range(self.options["topics"]):
            name = f"{firsts[n % 12]} {lasts[n // 12 % 12]} {n // 144 + 1}"
            if self.options["add"]:
                name += f" ({seed})"
            kind = KIND_CYCLE[n % len(KIND_CYCLE)]
            rows.append(
                Entity(
                    name=name,
                    slug=slugify(name),
                    kind=kind,
                    short_description=f"{name}, a recurring subject of our coverage.",
                    match_keys=match_keys([name], name_key),
                    wikidata_id=f"Q{1000 + n}" if n % 3 == 0 else "",
                )
            )
        Entity.objects.bulk_create(rows)
        return [
            {
                "id": e.pk,
                "name": e.name,
                "slug": e.slug,
                "kind": e.kind,
                "kind_label": e.get_kind_display(),
                "short_description": e.short_description,
                "wikidata_id": e.wikidata_id,
            }
            for e in Entity.objects.filter(slug__in=[r.slug for r in rows])
        ]

    def _tags(self):
        suffix = f" {self.options['seed']}" if self.options["add"] else ""
        names = [
            f"{WORDS[n % len(WORDS)]} {WORDS[(n * 7 + 3) % len(WORDS)]} {n}{suffix}"
            for n in range(self.options["tags"])
        ]
        Tag.objects.bulk_create(Tag(name=name, slug=slugify(name)) for name in names)
        return [
            {"name": t.name, "slug": t.slug, "id": t.pk}
            for t in Tag.objects.filter(name__in=names)
        ]

    def _faqs(self):
        suffix = f" ({self.options['seed']})" if self.options["add"] else ""
        rows = []
        for n in range(self.options["faqs"]):
            question = f"What does the {WORDS[n % len(WORDS)]} question {n} mean?"
            question += suffix
            rows.append(
                FAQ(
                    question=question,
                    slug=slugify(question),
                    answer=f"<p>{self._paragraph()}</p>",
                )
            )
        FAQ.objects.bulk_create(rows)
        return [
            {"id": f.pk, "question": f.question, "slug": f.slug}
            for f in FAQ.objects.filter(slug__in=[r.slug for r in rows])
        ]

    def _outlet(self):
        outlet = Outlet.objects.create(
            name="Archive Wire", homepage="https://example.com"
        )
        return {
            "pk": outlet.pk,
            "name": outlet.name,
            "slug": outlet.slug,
            "homepage": outlet.homepage,
        }

    # One story and everything publish_story() leaves behind.

    def _story(
        self, rows, ids, published_at, *, authors, entities, tags, faqs, outlets
    ):
        rng = self.rng
        story_id = _take(ids, Story)
        topic = entities[0]["name"]
        words = " ".join(rng.sample(WORDS, 5))
        headline = f"{topic}: what the {words} means"
        slug = f"{slugify(headline)[:180]}-{story_id}"
        summary = self._text(1)
        sections = [
            {
                "heading": " ".join(rng.sample(WORDS, 4)).capitalize(),
                "body": f"<p>{self._text(1)}</p><p>{self._text(1)}</p>",
            }
            for _ in range(rng.randint(3, 6))
        ]
        papers_overview = f"<p>{self._text(1)}</p><p>{self._text(1)}</p>"
        sources = [
            {
                "outlet": {
                    "id": o["pk"],
                    "name": o["name"],
                    "slug": o["slug"],
                    "homepage": o["homepage"],
                },
                "summary": self._text(1),
                "url": f"{o['homepage'] or 'https://example.com'}/news/{story_id}",
            }
            for o in outlets
        ]
        background = f"<p>{self._text(1)}</p><p>{self._text(1)}</p>"
        content = {
            "headline": headline,
            "slug": slug,
            "summary": summary,
            "sections": sections,
            "papers_overview": papers_overview,
            "source_summaries": sources,
            "background": background,
            "faqs": faqs,
            "entities": entities,
            "tags": [{"name": t["name"], "slug": t["slug"]} for t in tags],
            "authors": authors,
            "hero_image": None,
        }
        corrected = rng.random() < 0.05
        first_published_at = published_at - timedelta(days=1) if corrected else None
        first_published_at = first_published_at or published_at
        revisions = self.options["revisions"]
        live_id = None
        for n in range(revisions):
            revision_id = _take(ids, StoryRevision)
            live = n == revisions - 1
            if live:
                live_id = revision_id
                revision_content = content
                headline_text, summary_text, body = search_text(content)
                kind = StoryRevision.Kind.PUBLISH
                created_at = published_at
            else:
                # Earlier drafts: fewer sections, no background yet.
                revision_content = {
                    **content,
                    "sections": sections[: n + 1],
                    "background": "",
                }
                headline_text = summary_text = body = ""
                kind = StoryRevision.Kind.SAVE
                created_at = first_published_at - timedelta(hours=revisions - n)
            rows.add(
                StoryRevision,
                id=revision_id,
                story_id=story_id,
                kind=kind,
                version=n + 1,
                note="",
                created_at=created_at,
                created_by_id=authors[0]["id"],
                content=json.dumps(revision_content),
                search_headline=headline_text,
                search_summary=summary_text,
                search_body=body,
            )
            for entity in entities:
                rows.add_m2m(StoryRevision.entities, revision_id, entity["id"])
            for faq in faqs:
                rows.add_m2m(StoryRevision.faqs, revision_id, faq["id"])
        rows.live_revision_ids.append(live_id)
        for tag in tags:
            rows.add_m2m(StoryRevision.tags, live_id, tag["id"])
        for author in authors:
            rows.add_m2m(StoryRevision.authors, live_id, author["id"])
        created_at = first_published_at - timedelta(hours=revisions + 1)
        rows.add(
            Story,
            id=story_id,
            headline=headline,
            slug=slug,
            summary=summary,
            papers_overview=papers_overview,
            background=background,
            hero_image="",
            hero_image_alt="",
            hero_image_caption="",
            hero_image_credit="",
            status=Story.Status.PUBLISHED,
            live_revision_id=live_id,
            public_slug=slug,
            version=revisions,
            headline_needs_review=False,
            created_at=created_at,
            updated_at=published_at,
            first_published_at=first_published_at,
            last_published_at=published_at,
        )
        for position, section in enumerate(sections):
            rows.add(
                Section,
                id=_take(ids, Section),
                story_id=story_id,
                position=position,
                **section,
            )
        for position, source in enumerate(sources):
            rows.add(
                SourceSummary,
                id=_take(ids, SourceSummary),
                story_id=story_id,
                position=position,
                outlet_id=source["outlet"]["id"],
                summary=source["summary"],
                url=source["url"],
            )
        for position, entity in enumerate(entities):
            rows.add(
                StoryEntity,
                story_id=story_id,
                entity_id=entity["id"],
                position=position,
            )
        for faq in faqs:
            rows.add_m2m(Story.faqs, story_id, faq["id"])
        for author in authors:
            rows.add_m2m(Story.authors, story_id, author["id"])
        for tag in tags:
            rows.add(
                TaggedItem,
                tag_id=tag["id"],
                content_type_id=self.story_content_type,
                object_id=story_id,
            )
        keys = LiveTopic.keys_of(content) + LiveTopic.outlet_keys_of(content)
        for key in dict.fromkeys(keys):
            rows.add(
                LiveTopic, story_id=story_id, key=key, last_published_at=published_at
            )
        if corrected:
            rows.add(
                Correction,
                id=_take(ids, Correction),
                story_id=story_id,
                revision_id=live_id,
                kind=rng.choice(list(Correction.Kind)).value,
                text=f"An earlier version misstated the {rng.choice(WORDS)} figures.",
                created_at=published_at,
                created_by_id=authors[0]["id"],
            )

    def _paragraph(self):
        rng = self.rng
        sentences = []
        for _ in range(rng.randint(3, 5)):
            words = rng.choices(WORDS, k=rng.randint(10, 18))
            sentences.append(" ".join(words).capitalize() + ".")
        return " ".join(sentences)

    def _text(self, paragraphs):
        return " ".join(self.rng.choices(self.paragraphs, k=paragraphs))

    def _search_vectors(self, revision_ids):
        """The weighted vector index_revision() stores, for live revisions."""
        table = StoryRevision._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"""UPDATE {table} SET search_vector =
                setweight(to_tsvector('english', search_headline), 'A')
                || setweight(to_tsvector('english', search_summary), 'B')
                || setweight(to_tsvector('english', search_body), 'C')
                WHERE id = ANY(%s)""",  # noqa: S608 - our table's name
                [revision_ids],
            )

    def _next_id(self, model):
        last = model.objects.order_by("-pk").values_list("pk", flat=True).first()
        return [(last or 0) + 1]

    def _reset_sequences(self):
        if not self.postgres:
            return  # SQLite continues from the largest id by itself
        from django.core.management.color import no_style

        models = [Story, StoryRevision, Section, SourceSummary, Correction]
        models += [StoryEntity, LiveTopic, TaggedItem]
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), models):
                cursor.execute(sql)
            m2m = [
                StoryRevision.entities,
                StoryRevision.faqs,
                StoryRevision.tags,
                StoryRevision.authors,
                Story.faqs,
                Story.authors,
            ]
            through = [relation.through for relation in m2m]
            for sql in connection.ops.sequence_reset_sql(no_style(), through):
                cursor.execute(sql)

    def _show(self, done, total):
        if not self.progress:
            return
        width = 30
        filled = width * done // total
        elapsed = time.monotonic() - self.started
        sys.stderr.write(
            f"\rstories [{'#' * filled}{' ' * (width - filled)}] "
            f"{done:,}/{total:,} {elapsed:.0f} s"
        )
        sys.stderr.flush()


class _Rows:
    """Rows per table for one batch, written with COPY or multi-row INSERT."""

    def __init__(self):
        self.tables = {}
        self.live_revision_ids = []

    def add(self, model, **values):
        self.tables.setdefault(model, []).append(values)

    def add_m2m(self, descriptor, source_id, target_id):
        through = descriptor.through
        source, target = (
            f.column
            for f in through._meta.concrete_fields
            if f.is_relation  # the two foreign keys, source first
        )
        self.tables.setdefault(through, []).append(
            {source: source_id, target: target_id}
        )

    def write(self, postgres):
        # Parents first: the foreign keys are checked row by row on SQLite.
        order = [Story, StoryRevision]
        models = order + [m for m in self.tables if m not in order]
        with connection.cursor() as cursor:
            # Story and its live revision point at each other.
            if postgres:
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            for model in models:
                rows = self.tables.get(model)
                if not rows:
                    continue
                table = model._meta.db_table
                columns = [_column(model, name) for name in rows[0]]
                if postgres:
                    names = ", ".join(connection.ops.quote_name(c) for c in columns)
                    with cursor.cursor.copy(
                        f"COPY {table} ({names}) FROM STDIN"  # noqa: S608
                    ) as copy:
                        for row in rows:
                            copy.write_row(tuple(row.values()))
                else:
                    names = ", ".join(connection.ops.quote_name(c) for c in columns)
                    marks = ", ".join(["%s"] * len(columns))
                    cursor.executemany(
                        f"INSERT INTO {table} ({names}) VALUES ({marks})",  # noqa: S608
                        [tuple(row.values()) for row in rows],
                    )


def _column(model, name):
    try:
        return model._meta.get_field(name).column
    except Exception:  # noqa: BLE001 - already a column name
        return name


def _take(ids, model):
    value = ids[model][0]
    ids[model][0] += 1
    return value


def _cumulative(n):
    total, weights = 0.0, []
    for rank in range(n):
        total += 1 / (rank + 1) ** 0.7
        weights.append(total)
    return weights


def _pick(rng, items, cum_weights, k):
    chosen = rng.choices(items, cum_weights=cum_weights, k=k * 2)
    unique = list({item["id"]: item for item in chosen}.values())
    return unique[:k]
