from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Exists, OuterRef

from newsroom.addresses import address
from stories.fields import RichTextField
from stories.text import match_keys, name_key, unique_slug


class EntityQuerySet(models.QuerySet):
    def matching_name(self, name: str):
        """Entities whose name or one of whose aliases has the same matching key
        (folded, without a leading "the")."""
        key = name_key(name)
        if not key:
            return self.none()
        return self.filter(match_keys__contains=f"|{key}|")

    def public(self):
        """Entities that at least one story readers can see is about. Read
        from the live-topic index: one index probe per entity, where joining
        revisions read every revision about it."""
        from stories.models import LiveTopic, Story

        about = LiveTopic.objects.filter(
            key=OuterRef("live_topic_key"), story__in=Story.objects.published()
        )
        own_key = LiveTopic.key_of_row(LiveTopic.ENTITY_PREFIX)
        return self.alias(live_topic_key=own_key).filter(Exists(about))

    def most_active(self, *, since, limit=None):
        """Entities with the most published stories last published since
        then, each with its story_count. Counted from the live-topic index
        in one pass over the recent rows, however large the archive grows:
        counting per entity instead probed the index once for each of the
        hundreds of recently active ones."""
        from stories.models import LiveTopic

        entities = self.model._meta.db_table
        live_topics = LiveTopic._meta.db_table
        sql = f"""
            SELECT entity.*, recent.story_count FROM {entities} entity
            INNER JOIN (
                SELECT key, COUNT(*) AS story_count FROM {live_topics}
                WHERE last_published_at >= %s AND key LIKE %s
                GROUP BY key
            ) recent ON recent.key = %s || CAST(entity.id AS TEXT)
            ORDER BY recent.story_count DESC, entity.name
        """  # noqa: S608 - the table names are ours
        params = [since, f"{LiveTopic.ENTITY_PREFIX}%", LiveTopic.ENTITY_PREFIX]
        if limit is not None:
            sql += " LIMIT %s"
            params.append(limit)
        return self.raw(sql, params)


class Entity(models.Model):
    class Kind(models.TextChoices):
        PERSON = "person", "Person"
        PLACE = "place", "Place"
        ORGANISATION = "organisation", "Organisation"
        TOPIC = "topic", "Topic"

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True, blank=True)
    kind = models.CharField(max_length=20, choices=Kind, default=Kind.TOPIC)
    short_description = models.CharField(
        max_length=500,
        blank=True,
        help_text="One or two sentences, shown on topic cards under stories.",
    )
    biography = RichTextField(blank=True)
    aliases = models.TextField(
        blank=True,
        help_text="Other names, one per line (e.g. a full legal name). "
        "The importer matches names against these.",
    )
    wikidata_id = models.CharField(
        "Wikidata id",
        max_length=20,
        blank=True,
        validators=[
            RegexValidator(r"^Q[1-9][0-9]*$", "Use a Wikidata id such as Q17.")
        ],
    )
    # Folded name and aliases as "|a|b|", so a name lookup is one indexed-ish
    # LIKE query on every database instead of a scan in Python.
    match_keys = models.TextField(editable=False, default="")
    needs_review = models.BooleanField(
        default=False,
        help_text="Created by the importer; an editor should check kind and text.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = EntityQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "entities"

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = unique_slug(Entity, self.name, exclude_pk=self.pk)
        self.match_keys = match_keys([self.name, *self.alias_list], name_key)
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return address("entities:detail", self.slug)

    @property
    def alias_list(self) -> list[str]:
        return [line.strip() for line in self.aliases.splitlines() if line.strip()]

    @property
    def schema_type(self) -> str:
        """The schema.org type for structured data about this entity."""
        return {
            self.Kind.PERSON: "Person",
            self.Kind.PLACE: "Place",
            self.Kind.ORGANISATION: "Organization",
        }.get(self.kind, "Thing")

    @property
    def wikidata_url(self) -> str:
        return (
            f"https://www.wikidata.org/wiki/{self.wikidata_id}"
            if self.wikidata_id
            else ""
        )
