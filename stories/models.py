from django.conf import settings
from django.core.files.storage import default_storage
from django.db import models
from django.urls import reverse
from taggit.managers import TaggableManager

from entities.models import Entity

from .fields import RichTextField
from .text import match_keys, name_key, unique_slug


class OutletQuerySet(models.QuerySet):
    def matching_name(self, name: str):
        """Outlets called name, or known by it as a short form (case, accents
        and a leading "The" ignored)."""
        key = name_key(name)
        if not key:
            return self.none()
        return self.filter(match_keys__contains=f"|{key}|")


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

    objects = OutletQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = unique_slug(Outlet, name_key(self.name), exclude_pk=self.pk)
        self.country = self.country.upper()
        self.match_keys = match_keys([self.name, *self.short_form_list], name_key)
        super().save(*args, **kwargs)

    @property
    def short_form_list(self) -> list[str]:
        return [line.strip() for line in self.short_forms.splitlines() if line.strip()]


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
        return reverse("stories:faq_detail", kwargs={"slug": self.slug})


class StoryQuerySet(models.QuerySet):
    def published(self):
        """The only definition of "readers may see this"."""
        return self.filter(
            status=Story.Status.PUBLISHED, live_revision__isnull=False
        )

    def for_story_page(self):
        return self.select_related("live_revision")

    def for_listing(self):
        """Cards on the home and topic pages: headline, summary and dates all
        come from the live revision, so nothing unpublished leaks."""
        return self.select_related("live_revision").order_by("-last_published_at", "-pk")


class Story(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"
        UNPUBLISHED = "unpublished", "Unpublished"

    headline = models.CharField(max_length=300)
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
        permissions = [("publish_story", "Can publish and unpublish stories")]
        indexes = [models.Index(fields=["status", "-last_published_at"])]

    def __str__(self):
        return self.headline

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = unique_slug(Story, self.headline, exclude_pk=self.pk)
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("stories:detail", kwargs={"slug": self.slug})

    @property
    def is_live(self) -> bool:
        return self.status == self.Status.PUBLISHED and self.live_revision_id is not None


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
    """A frozen copy of a story and all its parts, as readers were shown it.

    Public pages render only from revisions; the linked entities and FAQs are
    also kept as relations so topic and FAQ pages can find live stories with
    one indexed query.
    """

    story = models.ForeignKey(Story, on_delete=models.CASCADE, related_name="revisions")
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

    class Meta:
        ordering = ["-created_at", "-id"]
        get_latest_by = "created_at"

    def __str__(self):
        return f"{self.content.get('headline', '')} ({self.created_at:%Y-%m-%d %H:%M})"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Story revisions are immutable once written.")
        super().save(*args, **kwargs)

    @property
    def hero_image_url(self) -> str:
        hero = self.content.get("hero_image")
        return default_storage.url(hero["name"]) if hero else ""
