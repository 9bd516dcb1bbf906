import hashlib
import uuid

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.core.files.storage import default_storage
from django.db import models
from django.db.models import Exists, F, OuterRef, Subquery, Value
from django.db.models.functions import Cast, Concat, Left
from django.utils import timezone
from django.utils.translation import get_language_info
from taggit.managers import TaggableManager
from taggit.models import Tag

from entities.models import Entity
from newsroom.addresses import address

from .fields import RichTextField
from .text import (
    BARE,
    OutletIndex,
    name_key,
    outlet_key,
    outlet_match_keys,
    unique_slug,
)

# How much of a story's body a search result's snippet is cut from.
SNIPPET_BODY_CHARS = 1000


class OutletQuerySet(models.QuerySet):
    def public(self):
        """Outlets that at least one story readers can see cites. Read from
        the live-topic index: one index probe per outlet, however many
        revisions the archive holds."""
        citing = LiveTopic.objects.filter(
            key=OuterRef("live_topic_key"), story__in=Story.objects.published()
        )
        own_key = LiveTopic.key_of_row(LiveTopic.OUTLET_PREFIX)
        return self.alias(live_topic_key=own_key).filter(Exists(citing))

    def ids_by_slug(self, slugs) -> dict[str, int]:
        return dict(self.filter(slug__in=slugs).values_list("slug", "pk"))

    def matching_name(self, name: str):
        """The outlet name means, as OutletIndex.lookup() decides: called
        name or known by it as a short form (case, accents, apostrophes and a
        leading "The" ignored), else the one outlet agreeing with it without
        leading articles ("Equipe" for "L\u2019\u00c9quipe")."""
        key = name_key(name)
        if not key:
            return self.none()
        keyed = self.filter(
            models.Q(match_keys__contains=f"|{key}|")
            | models.Q(match_keys__contains=f"|{BARE}{outlet_key(name)}|")
        )
        outlet = keyed.index().lookup(name)
        return self.filter(pk=outlet.pk) if outlet else self.none()

    def index(self) -> OutletIndex:
        """These outlets, to look many names up in memory (an import)."""
        return OutletIndex(self)


class Outlet(models.Model):
    """A news organisation whose coverage a story summarises."""

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=200, unique=True, blank=True)
    short_forms = models.TextField(
        blank=True, help_text='Abbreviations and other names, one per line ("SCMP").'
    )
    homepage = models.URLField(blank=True)
    country = models.CharField(
        max_length=2, blank=True, help_text="ISO 3166 two-letter country code."
    )
    language = models.CharField(max_length=8, blank=True)
    match_keys = models.TextField(editable=False, default="")
    needs_review = models.BooleanField(
        default=False,
        help_text="Added by the importer for a name not in the registry; an "
        "editor should check the name, homepage and country.",
    )

    objects = OutletQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = unique_slug(Outlet, name_key(self.name), exclude_pk=self.pk)
        self.country = self.country.upper()
        self.match_keys = outlet_match_keys([self.name, *self.short_form_list])
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return address("stories:outlet", self.slug)

    @property
    def short_form_list(self) -> list[str]:
        return [line.strip() for line in self.short_forms.splitlines() if line.strip()]

    @property
    def language_name(self) -> str:
        """The language's English name where Django knows it, else its code."""
        try:
            return get_language_info(self.language.lower())["name"]
        except KeyError:
            return self.language

    def summaries_in(self, sources) -> list[dict]:
        """The entries of a revision's source summaries that cite this
        outlet: by id, or by slug in snapshots older than outlet ids."""

        def cites(outlet):
            if "id" in outlet:
                return outlet["id"] == self.pk
            return outlet["slug"] == self.slug

        return [source for source in sources or [] if cites(source["outlet"])]


class FAQQuerySet(models.QuerySet):
    def public(self):
        """FAQs that a story readers can see links to."""
        live = Story.objects.published().values("live_revision")
        return self.filter(story_revisions__in=live).distinct()


class FAQ(models.Model):
    """A common question with its own page ("Go deeper")."""

    question = models.CharField(max_length=300)
    slug = models.SlugField(max_length=200, unique=True, blank=True)
    answer = RichTextField(blank=True)
    entities = models.ManyToManyField(Entity, blank=True, related_name="faqs")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = FAQQuerySet.as_manager()

    class Meta:
        ordering = ["question"]
        verbose_name = "FAQ"
        verbose_name_plural = "FAQs"

    def __str__(self):
        return self.question

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = unique_slug(FAQ, self.question, exclude_pk=self.pk)
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return address("stories:faq_detail", self.slug)


# The parts of a live revision's content a Content API list item shows.
API_LIST_PARTS = ("headline", "summary", "tags", "authors", "entities", "hero_image")


class StoryQuerySet(models.QuerySet):
    # What a story card shows (stories/includes/story_card.html).
    CARD_FIELDS = (
        "slug",
        "public_slug",
        "first_published_at",
        "last_published_at",
        "live_revision__search_headline",
        "live_revision__search_summary",
    )

    def published(self):
        """The only definition of "readers may see this". It must not
        depend on the time: the story page compiles it once per process."""
        return self.filter(
            status=Story.Status.PUBLISHED,
            live_revision__isnull=False,
            public_slug__isnull=False,
        )

    def withdrawn(self):
        """Stories readers once saw and editors took down (410 Gone)."""
        return self.filter(withdrawn_at__isnull=False).exclude(
            status=Story.Status.PUBLISHED
        )

    def for_story_page(self):
        """The story with its live revision, without the working copy's text
        or the search columns, which the page never shows."""
        return self.select_related("live_revision").defer(
            "summary",
            "papers_overview",
            "background",
            "live_revision__search_headline",
            "live_revision__search_summary",
            "live_revision__search_body",
            "live_revision__search_vector",
        )

    def for_listing(self):
        """Cards of related stories where the story page runs through the ORM
        (not PostgreSQL): headline, summary and dates all
        come from the live revision, so nothing unpublished leaks. The
        revision's plain headline and summary columns are read instead of
        its whole JSON content, and none of the working copy's text."""
        return (
            self.select_related("live_revision")
            .only(*self.CARD_FIELDS)
            .order_by("-last_published_at", "-pk")
        )

    def related_to(self, story, limit=4):
        """Up to limit other published stories sharing a topic or tag with
        story's live revision, newest first (one query).

        Each of the newest limit related stories is among the newest limit
        rows of every key it shares, so the newest limit × keys rows of all
        keys together hold them. On PostgreSQL the story page reads them in
        its own statement instead (stories/story_page.py), which takes each
        key's newest rows straight off the index, however many stories
        share a popular tag."""
        keys = LiveTopic.keys_of(story.live_revision.content)
        if not keys:
            return self.none()
        newest = (
            LiveTopic.objects.filter(key__in=keys)
            .exclude(story_id=story.pk)
            .order_by("-last_published_at", "-story_id")
            .values("story_id")[: limit * len(keys)]
        )
        return self.published().filter(pk__in=newest).for_listing()[:limit]

    def tagged(self, slug):
        return self.published().filter(live_revision__tags__slug=slug)

    def by_author(self, user):
        return self.published().filter(live_revision__authors=user)

    def about(self, topic_slug):
        """Stories whose live revision carries the topic with this slug."""
        return self.filter(live_revision__entities__slug=topic_slug)

    def citing_slug(self, outlet_slug):
        """Stories whose live revision cites the outlet with this slug, read
        from the live-topic index in the same statement (see citing())."""
        keys = Outlet.objects.filter(slug=outlet_slug).values(
            key=LiveTopic.key_of_row(LiveTopic.OUTLET_PREFIX)
        )
        rows = LiveTopic.objects.filter(key__in=keys)
        return self.filter(pk__in=rows.values("story_id"))

    def by_username(self, username):
        return self.filter(live_revision__authors__username=username)

    def for_api_list(self):
        """Content API list items: the parts a list shows, read out of the
        live revision's JSON rather than the whole of it, and none of the
        working copy's text."""
        content = "live_revision__content__"
        return (
            self.only("public_slug", "first_published_at", "last_published_at")
            .annotate(**{f"live_{part}": F(content + part) for part in API_LIST_PARTS})
            .order_by("-last_published_at", "-pk")
        )


class Story(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        IN_REVIEW = "in_review", "In review"
        CHANGES_REQUESTED = "changes_requested", "Changes requested"
        APPROVED = "approved", "Approved"
        SCHEDULED = "scheduled", "Scheduled"
        PUBLISHED = "published", "Published"
        UNPUBLISHED = "unpublished", "Withdrawn"
        ARCHIVED = "archived", "Archived"

    # Blank allowed: a draft saves incomplete; submission checks it.
    headline = models.CharField(max_length=300, blank=True)
    slug = models.SlugField(
        max_length=200,
        unique=True,
        blank=True,
        help_text="The story's address. Left empty, it is made from the headline.",
    )
    summary = models.TextField(
        "What's happened",
        blank=True,
        help_text="Plain text. Also the page's description for search engines.",
    )
    papers_overview = RichTextField("What the papers say", blank=True)
    background = RichTextField("How we got here", blank=True)
    hero_image = models.ImageField(upload_to="heroes/%Y/%m/", blank=True)
    hero_image_alt = models.CharField(
        "alt text",
        max_length=300,
        blank=True,
        help_text="What the image shows, for readers who cannot see it. "
        "Required with an image.",
    )
    hero_image_caption = models.CharField("caption", max_length=500, blank=True)
    hero_image_credit = models.CharField("credit", max_length=200, blank=True)
    authors = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="stories"
    )
    entities = models.ManyToManyField(
        Entity, through="StoryEntity", blank=True, related_name="stories"
    )
    faqs = models.ManyToManyField(FAQ, blank=True, related_name="stories")
    tags = TaggableManager(blank=True)

    status = models.CharField(
        max_length=20, choices=Status, default=Status.DRAFT, editable=False
    )
    live_revision = models.OneToOneField(
        "StoryRevision",
        null=True,
        blank=True,
        editable=False,
        on_delete=models.PROTECT,
        related_name="live_for_story",
    )
    # The address readers use: the slug as last published, so renaming a
    # working copy moves nothing until an editor publishes it.
    public_slug = models.SlugField(
        max_length=200, unique=True, null=True, blank=True, editable=False
    )
    # Every write bumps it; a write carrying an older number is refused, so
    # no one saves over a change they have not seen.
    version = models.PositiveIntegerField(default=1, editable=False)
    scheduled_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Names one schedule: a queued publish task carrying another id is stale
    # (the story was rescheduled or the schedule cancelled) and does nothing.
    schedule_id = models.UUIDField(null=True, blank=True, editable=False)
    embargo_until = models.DateTimeField(
        "embargoed until",
        null=True,
        blank=True,
        help_text="Nothing publishes the story before this time, not even "
        "“Publish”. In the newsroom's time zone.",
    )
    expires_at = models.DateTimeField(
        "expires at",
        null=True,
        blank=True,
        help_text="The story is withdrawn and archived at this time (never "
        "deleted). In the newsroom's time zone.",
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True, editable=False)
    headline_needs_review = models.BooleanField(
        default=False,
        help_text="The importer derived the headline from the summary.",
    )
    # sha256 of an imported document, so importing it again is recognised.
    import_checksum = models.CharField(
        max_length=64, unique=True, null=True, blank=True, editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    first_published_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_published_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = StoryQuerySet.as_manager()

    class Meta:
        ordering = ["-updated_at"]
        verbose_name_plural = "stories"
        permissions = [
            ("publish_story", "Can review, approve, publish and withdraw stories"),
            ("edit_any_story", "Can edit stories without being an author"),
        ]
        indexes = [
            models.Index(fields=["status", "-last_published_at"]),
            # The archive pages: a month or year newest first.
            models.Index(fields=["-first_published_at", "-id"]),
            # Home and the feed newest first, and their pagination's bounded
            # count read from the index alone: counting 200 stories read
            # their wide rows (about 40 pages) on every home page.
            models.Index(
                fields=["-last_published_at", "-id"],
                condition=models.Q(
                    status="published",
                    live_revision__isnull=False,
                    public_slug__isnull=False,
                ),
                name="stories_story_published_newest",
            ),
        ]

    def __str__(self):
        return self.headline or f"Untitled story {self.pk}"

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = unique_slug(
                Story, self.headline or "untitled", exclude_pk=self.pk
            )
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return address("stories:detail", self.public_slug or self.slug)

    @property
    def is_live(self) -> bool:
        return (
            self.status == self.Status.PUBLISHED and self.live_revision_id is not None
        )

    @property
    def is_withdrawn(self) -> bool:
        """Readers once saw it and it was taken down: its URL answers 410."""
        return self.withdrawn_at is not None and not self.is_live


class Section(models.Model):
    """A titled part of a story's analysis ("What's behind the headline?")."""

    story = models.ForeignKey(Story, on_delete=models.CASCADE, related_name="sections")
    position = models.PositiveIntegerField(default=0)
    heading = models.CharField(max_length=300)
    body = RichTextField()

    class Meta:
        ordering = ["position", "id"]

    def __str__(self):
        return self.heading


class SourceSummary(models.Model):
    """How one outlet covered the story ("What the papers say")."""

    story = models.ForeignKey(
        Story, on_delete=models.CASCADE, related_name="source_summaries"
    )
    position = models.PositiveIntegerField(default=0)
    outlet = models.ForeignKey(
        Outlet, on_delete=models.PROTECT, related_name="source_summaries"
    )
    summary = models.TextField()
    url = models.URLField("link to the article", max_length=1000, blank=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name_plural = "source summaries"

    def __str__(self):
        return f"{self.outlet}: {self.summary[:60]}"


class LiveTopic(models.Model):
    """A topic or tag of a published story's live revision, stamped with the
    story's publication time: "the newest stories about this" then reads a
    few index entries, not every revision ever saved. Rewritten by
    services.take_action whenever a story's live revision changes."""

    ENTITY_PREFIX = "entity:"
    # Outlet rows serve the outlet pages only: keys_of() leaves them out, so
    # a shared outlet makes no story related and no outlet a topic.
    OUTLET_PREFIX = "outlet:"
    TAG_PREFIX = "tag:"

    story = models.ForeignKey(Story, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=150)
    last_published_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["story", "key"], name="unique_live_topic")
        ]
        indexes = [
            models.Index(fields=["key", "-last_published_at", "-story"]),
            # The home page's most active topics: the recent topics' rows
            # only, read from the index alone.
            models.Index(
                fields=["-last_published_at", "key"],
                condition=models.Q(key__startswith="entity:"),
                name="stories_live_topic_recent",
            ),
        ]

    def __str__(self):
        return self.key

    @classmethod
    def keys_of_story(cls, story_id):
        """The topic and tag keys story_id is live under now."""
        return list(
            cls.objects.filter(story_id=story_id)
            .exclude(key__startswith=cls.OUTLET_PREFIX)
            .values_list("key", flat=True)
        )

    @classmethod
    def keys_of(cls, content):
        """The topic and tag keys of a revision's content: what related
        stories share."""
        return [
            f"{cls.ENTITY_PREFIX}{e['id']}" for e in content.get("entities", [])
        ] + [cls.tag_key(t["slug"]) for t in content.get("tags", [])]

    @classmethod
    def tag_key(cls, slug) -> str:
        return f"{cls.TAG_PREFIX}{slug}"

    @staticmethod
    def key_of_row(prefix: str):
        """The key of the outer row (an entity, an outlet) as an expression:
        keys are compared as text, so nothing casts a tag's key."""
        return Concat(
            Value(prefix),
            Cast("pk", models.CharField()),
            output_field=models.CharField(),
        )

    @classmethod
    def outlet_key(cls, outlet_id) -> str:
        return f"{cls.OUTLET_PREFIX}{outlet_id}"

    @classmethod
    def outlet_keys_of(cls, content, ids_by_slug=None):
        """The keys of the outlets a revision's source summaries cite.
        Snapshots older than outlet ids name the outlet by slug only, which
        ids_by_slug maps to an id; an outlet it does not know is left out."""
        keys = []
        for source in content.get("source_summaries", []):
            outlet = source["outlet"]
            outlet_id = outlet.get("id") or (ids_by_slug or {}).get(outlet["slug"])
            if outlet_id is not None:
                keys.append(cls.outlet_key(outlet_id))
        return keys


class LiveTopicVersion(models.Model):
    """One row naming the current state of the LiveTopic rows: a new random
    token whenever they change (services.index_live_topics and every bulk
    writer call bump()), in the same transaction. A web process keeps what
    it derived from them (the home page's most active topics) under the
    token it read, so a withdrawal makes it stale as the withdrawal
    commits. Random rather than counted: a rolled-back change must never
    leave a token meaning two different states."""

    token = models.CharField(max_length=32)

    def __str__(self):
        return self.token

    @classmethod
    def bump(cls) -> None:
        cls.objects.update_or_create(pk=1, defaults={"token": uuid.uuid4().hex})

    @classmethod
    def current(cls):
        """The token as an expression (NULL before the first change)."""
        return Subquery(cls.objects.filter(pk=1).values("token")[:1])


class StorySlugRedirect(models.Model):
    """An address a story was published under before its slug changed."""

    slug = models.SlugField(max_length=200, unique=True)
    story = models.ForeignKey(Story, on_delete=models.CASCADE, related_name="old_slugs")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.slug


class StoryEntity(models.Model):
    """An ordered link from a story to a topic card ("More on these topics")."""

    story = models.ForeignKey(Story, on_delete=models.CASCADE)
    entity = models.ForeignKey(
        Entity, on_delete=models.PROTECT, related_name="story_links"
    )
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["story", "entity"], name="unique_entity_per_story"
            )
        ]
        verbose_name = "topic"

    def __str__(self):
        return str(self.entity)


class StoryRevision(models.Model):
    """A frozen copy of a story and all its parts.

    One is written for every saved change and every publication; public pages
    render only the published one. The linked entities and FAQs are also kept
    as relations so topic and FAQ pages find live stories with one query.
    """

    class Kind(models.TextChoices):
        SAVE = "save", "Saved"
        PUBLISH = "publish", "Published"
        RESTORE = "restore", "Restored"
        IMPORT = "import", "Imported"

    story = models.ForeignKey(Story, on_delete=models.CASCADE, related_name="revisions")
    kind = models.CharField(max_length=10, choices=Kind, default=Kind.SAVE)
    # The story's version this revision records.
    version = models.PositiveIntegerField(default=1)
    note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    content = models.JSONField()
    entities = models.ManyToManyField(
        Entity, blank=True, related_name="story_revisions"
    )
    faqs = models.ManyToManyField(FAQ, blank=True, related_name="story_revisions")
    tags = models.ManyToManyField(Tag, blank=True, related_name="story_revisions")
    authors = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="story_revisions"
    )
    # Plain text of the revision by weight, for search: headline over summary
    # over everything else. PostgreSQL also keeps a weighted tsvector.
    search_headline = models.TextField(blank=True, default="")
    search_summary = models.TextField(blank=True, default="")
    search_body = models.TextField(blank=True, default="")
    search_vector = SearchVectorField(null=True, editable=False)
    # What a search result's snippet is cut from, for live revisions (those
    # with a vector): kept in the row by PostgreSQL, where reading the
    # body's first characters from TOAST for 20 results took 0.4 ms.
    search_snippet = models.GeneratedField(
        expression=models.Case(
            models.When(
                search_vector__isnull=False,
                then=Concat(
                    "search_summary",
                    Value(" "),
                    Left("search_body", SNIPPET_BODY_CHARS),
                    output_field=models.TextField(),
                ),
            ),
            default=None,
        ),
        output_field=models.TextField(null=True),
        db_persist=True,
    )

    class Meta:
        ordering = ["-id"]
        get_latest_by = "id"
        indexes = [models.Index(fields=["story", "-id"])]

    def __str__(self):
        kind = self.get_kind_display().lower()
        return f"Revision {self.pk} ({kind}, version {self.version})"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Story revisions are immutable once written.")
        super().save(*args, **kwargs)

    @property
    def hero_image_url(self) -> str:
        return hero_image_url(self.content)


def hero_image_url(content: dict) -> str:
    """The URL of a snapshot's hero image, or ""."""
    hero = content.get("hero_image")
    return default_storage.url(hero["name"]) if hero else ""


class StoryTransition(models.Model):
    """One workflow move: who took which action, when, from and to what."""

    story = models.ForeignKey(
        Story, on_delete=models.CASCADE, related_name="transitions"
    )
    action = models.CharField(max_length=30)
    from_status = models.CharField(max_length=20, choices=Story.Status)
    to_status = models.CharField(max_length=20, choices=Story.Status)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    comment = models.TextField(blank=True)
    # The story's version after the move.
    version = models.PositiveIntegerField()
    # How far past its scheduled time the system published or expired the
    # story, when it was late enough that editors must hear about it.
    late_by = models.DurationField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Set by the task that emails about it, so a redelivered task sends nothing.
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["story", "-id"])]

    def __str__(self):
        return f"{self.action}: {self.from_status} \u2192 {self.to_status}"


class CorrectionQuerySet(models.QuerySet):
    def notes_on(self, story):
        """The corrections, clarifications and updates readers see on story,
        oldest first: one query, split by kind by whoever shows them."""
        return self.filter(story=story).only("kind", "text", "created_at")

    def latest_update_time(self, story):
        """A subquery: when the newest update line of story (an OuterRef)
        was published, or NULL."""
        return Subquery(
            self.updates()
            .filter(story=story)
            .order_by("-created_at", "-id")
            .values("created_at")[:1]
        )

    def updates(self):
        """Dated update lines ("Added Tokyo's response"): news added to a
        live story, listed apart from what it got wrong."""
        return self.filter(kind=Correction.Kind.UPDATE)

    def corrections(self):
        """Corrections and clarifications: what an earlier version got wrong
        or left unclear, the /corrections/ page's list."""
        return self.exclude(kind=Correction.Kind.UPDATE)

    def public_updates_for(self, story):
        """story's update lines, newest first; none unless readers may see
        story. The one definition the story page's "Updated" list, the
        "What changed since you last read" box and the API share."""
        # published() narrowed to the story: one primary-key probe, not a
        # scan of every published story.
        visible = Story.objects.published().filter(pk=story.pk)
        return (
            self.updates()
            .filter(story=story, story__in=visible)
            .order_by("-created_at", "-id")
        )


class Correction(models.Model):
    """A public note attached when a live story is republished. Records of
    their own: restoring an old revision never removes one. Kind "update" is
    an update line, shown under "Updated" rather than with the corrections.
    """

    class Kind(models.TextChoices):
        CORRECTION = "correction", "Correction"
        CLARIFICATION = "clarification", "Clarification"
        UPDATE = "update", "Update"

    story = models.ForeignKey(
        Story, on_delete=models.PROTECT, related_name="corrections"
    )
    revision = models.ForeignKey(
        StoryRevision, on_delete=models.PROTECT, related_name="corrections"
    )
    kind = models.CharField(max_length=20, choices=Kind)
    text = models.TextField()
    # Set by the republication to its own time, so that a note, the story's
    # "updated" time, dateModified and a feed's <updated> all agree.
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = CorrectionQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.text[:60]}"


class PreviewLinkQuerySet(models.QuerySet):
    def usable(self):
        """Links that still open their preview."""
        return self.filter(revoked_at__isnull=True, expires_at__gt=timezone.now())


class PreviewLink(models.Model):
    """A signed link that shows one revision to someone without an account."""

    story = models.ForeignKey(
        Story, on_delete=models.CASCADE, related_name="preview_links"
    )
    revision = models.ForeignKey(
        StoryRevision, on_delete=models.CASCADE, related_name="+"
    )
    key = models.CharField(max_length=32, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = PreviewLinkQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"Preview of {self.story} until {self.expires_at:%Y-%m-%d %H:%M}"


class AutosaveDraft(models.Model):
    """The latest unsaved state of one user's change form for one story.

    Kept apart from the story so autosaving has no side effects: nothing is
    published, versioned or purged until the user saves."""

    story = models.ForeignKey(Story, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    data = models.JSONField()
    base_version = models.PositiveIntegerField()
    saved_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["story", "user"], name="one_autosave_per_user"
            )
        ]

    def __str__(self):
        return f"Autosave of story {self.story_id} by user {self.user_id}"


class FailedTask(models.Model):
    """A background task that kept failing after its retries, shown to
    editors in the admin until someone deals with it."""

    task_name = models.CharField(max_length=200)
    task_id = models.CharField(max_length=200, unique=True)
    args = models.JSONField(default=list)
    error = models.TextField()
    failed_at = models.DateTimeField(auto_now=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-failed_at"]

    def __str__(self):
        return f"{self.task_name} {self.args}: {self.error[:80]}"


class Heartbeat(models.Model):
    """When a periodic process last ran (the beat sweep), kept in the
    database so any process can tell whether it is alive."""

    name = models.CharField(max_length=50, primary_key=True)
    beat_at = models.DateTimeField()

    def __str__(self):
        return f"{self.name} at {self.beat_at:%Y-%m-%d %H:%M:%S}"


class WebhookDelivery(models.Model):
    """One publication event sent to one configured webhook URL; the row makes
    a redelivered task send nothing twice."""

    transition = models.ForeignKey(
        StoryTransition, on_delete=models.CASCADE, related_name="webhook_deliveries"
    )
    url = models.URLField(max_length=500)
    attempts = models.PositiveIntegerField(default=0)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["transition", "url"], name="one_delivery_per_url"
            )
        ]

    def __str__(self):
        return f"{self.transition} -> {self.url}"


class EntitySuggestion(models.Model):
    """A topic the story's text names, offered to the editor: a known entity
    or a new name. Nothing is linked until someone accepts it; a dismissed
    one stays dismissed when the text is read again."""

    class Status(models.TextChoices):
        PENDING = "pending", "Suggested"
        ACCEPTED = "accepted", "Accepted"
        DISMISSED = "dismissed", "Dismissed"

    story = models.ForeignKey(
        Story, on_delete=models.CASCADE, related_name="entity_suggestions"
    )
    # Set for a known entity; empty for a name no entity has yet.
    entity = models.ForeignKey(
        Entity, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    name = models.CharField(max_length=200)
    # name_key() of the name, or "entity:<id>": what a dismissal remembers.
    key = models.CharField(max_length=220)
    kind = models.CharField(max_length=20, choices=Entity.Kind)
    mentions = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=10, choices=Status, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-mentions", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["story", "key"], name="one_suggestion_per_name"
            )
        ]

    def __str__(self):
        return f"{self.name} ({self.get_status_display().lower()})"

    @property
    def is_new(self) -> bool:
        return self.entity_id is None


class SourceLinkQuerySet(models.QuerySet):
    def broken(self):
        return self.filter(is_broken=True)

    def for_urls(self, urls):
        """The rows of urls, found by their indexed hash."""
        return self.filter(url_hash__in={SourceLink.hash_of(url) for url in urls})

    def due(self, *, checked_before, limit: int) -> list[tuple[int, str]]:
        """(pk, url) of up to limit links never checked or last checked
        before checked_before, least recently checked first.

        Two queries, never-checked first, each in the order of the index on
        checked_at: one ordered NULLS FIRST would need an index SQLite
        cannot build."""
        due = list(
            self.filter(checked_at__isnull=True)
            .order_by("id")
            .values_list("pk", "url")[:limit]
        )
        if len(due) < limit:
            due += (
                self.filter(checked_at__lt=checked_before)
                .order_by("checked_at", "id")
                .values_list("pk", "url")[: limit - len(due)]
            )
        return due


class SourceLink(models.Model):
    """What the link checker last found at one distinct source article URL
    (SourceSummary.url), however many summaries share it."""

    url = models.URLField(max_length=1000)
    # sha256 of url: unique instead of url itself, as a PostgreSQL index
    # entry cannot hold every 1,000-character (up to 4,000-byte) URL.
    url_hash = models.CharField(max_length=64, editable=False)
    checked_at = models.DateTimeField(null=True, blank=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    is_broken = models.BooleanField(default=False)
    # Kept while the link stays broken, so editors see how long it has been.
    broken_since = models.DateTimeField(null=True, blank=True)

    objects = SourceLinkQuerySet.as_manager()

    class Meta:
        # A constraint, not unique=True, which on PostgreSQL adds a second
        # index for LIKE that nothing uses.
        constraints = [
            models.UniqueConstraint(fields=["url_hash"], name="unique_source_link")
        ]
        indexes = [models.Index(fields=["checked_at", "id"])]

    def __str__(self):
        return self.url

    def save(self, *args, **kwargs):
        self.url_hash = self.hash_of(self.url)
        super().save(*args, **kwargs)

    @staticmethod
    def hash_of(url: str) -> str:
        return hashlib.sha256(url.encode()).hexdigest()

    @property
    def problem(self) -> str:
        """What went wrong, for editors."""
        if self.status_code is not None and not self.error:
            return f"HTTP {self.status_code}"
        return self.error
