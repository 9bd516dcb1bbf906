"""State changes to stories. Every caller (admin, importer, tasks) goes here."""

import re
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.html import format_html

from entities.models import Entity
from newsroom.celery import enqueue_on_commit

from . import explainer_format
from .models import (
    FAQ,
    Outlet,
    Section,
    SourceSummary,
    Story,
    StoryEntity,
    StoryRevision,
)
from .tasks import notify_authors_of_publication_task
from .text import name_key

User = get_user_model()


class StoryNotReady(ValidationError):
    """The story lacks something readers must have before it can go live."""


def publication_problems(story: Story) -> list[str]:
    """What stops story from being published, as messages for an editor."""
    problems = []
    if not story.headline.strip():
        problems.append("Add a headline.")
    if not story.summary.strip():
        problems.append("Add a summary (\u201cWhat\u2019s happened\u201d).")
    if not story.sections.exists():
        problems.append("Add at least one section (\u201cWhat\u2019s behind the headline?\u201d).")
    if story.hero_image and not story.hero_image_alt.strip():
        problems.append("Describe the hero image in its alt text.")
    return problems


def snapshot_story(story: Story) -> dict:
    """Everything readers see of story, as plain JSON that later edits
    cannot change."""
    hero = None
    if story.hero_image:
        hero = {
            "name": story.hero_image.name,
            "alt": story.hero_image_alt,
            "caption": story.hero_image_caption,
            "credit": story.hero_image_credit,
        }
    sources = story.source_summaries.select_related("outlet")
    return {
        "headline": story.headline,
        "summary": story.summary,
        "sections": [
            {"heading": s.heading, "body": s.body} for s in story.sections.all()
        ],
        "papers_overview": story.papers_overview,
        "source_summaries": [
            {
                "outlet": {
                    "name": s.outlet.name,
                    "slug": s.outlet.slug,
                    "homepage": s.outlet.homepage,
                },
                "summary": s.summary,
                "url": s.url,
            }
            for s in sources
        ],
        "background": story.background,
        "faq_ids": list(story.faqs.order_by("id").values_list("id", flat=True)),
        "entity_ids": list(
            story.storyentity_set.order_by("position", "id").values_list(
                "entity_id", flat=True
            )
        ),
        "tags": [
            {"name": t.name, "slug": t.slug} for t in story.tags.order_by("name")
        ],
        "authors": [
            {"name": u.get_full_name() or u.get_username(), "username": u.get_username()}
            for u in story.authors.order_by("last_name", "first_name", "username")
        ],
        "hero_image": hero,
    }


@transaction.atomic
def publish_story(*, story: Story, by: User) -> StoryRevision:
    """Freeze story's current text into a revision and show it to readers."""
    if not by.has_perm("stories.publish_story"):
        raise PermissionDenied("Only editors may publish stories.")
    # Lock the row: two editors can press Publish in the same second.
    story = Story.objects.select_for_update().get(pk=story.pk)
    problems = publication_problems(story)
    if problems:
        raise StoryNotReady(problems)
    content = snapshot_story(story)
    revision = StoryRevision.objects.create(story=story, created_by=by, content=content)
    revision.entities.set(content["entity_ids"])
    revision.faqs.set(content["faq_ids"])
    # Whole seconds: HTML <time datetime> allows at most three decimals.
    now = timezone.now().replace(microsecond=0)
    story.live_revision = revision
    story.status = Story.Status.PUBLISHED
    story.first_published_at = story.first_published_at or now
    story.last_published_at = now
    story.save(
        update_fields=[
            "live_revision", "status", "first_published_at", "last_published_at",
            "updated_at",
        ]
    )
    enqueue_on_commit(notify_authors_of_publication_task, revision.pk)
    return revision


@transaction.atomic
def unpublish_story(*, story: Story, by: User) -> Story:
    """Take story off every public surface; its revisions are kept."""
    if not by.has_perm("stories.publish_story"):
        raise PermissionDenied("Only editors may unpublish stories.")
    story = Story.objects.select_for_update().get(pk=story.pk)
    if story.status != Story.Status.PUBLISHED:
        return story
    story.status = Story.Status.UNPUBLISHED
    story.live_revision = None
    story.save(update_fields=["status", "live_revision", "updated_at"])
    return story


@dataclass
class ImportResult:
    story: Story
    created: bool
    warnings: list[str] = field(default_factory=list)


class OutletIndex:
    """Every outlet by each folded name and short form, loaded once per run."""

    def __init__(self):
        self._by_key = {}
        for outlet in Outlet.objects.all():
            for key in filter(None, outlet.match_keys.split("|")):
                self._by_key.setdefault(key, outlet)

    def lookup(self, name: str):
        return self._by_key.get(name_key(name))


def _paragraphs_html(paragraphs: list[str]) -> str:
    return "".join(format_html("<p>{}</p>", p) for p in paragraphs)


def _derive_headline(summary: str) -> str:
    first = explainer_format.split_sentences(summary.replace("\n", " "))[0]
    first = first.rstrip(".")
    if len(first) <= 110:
        return first
    return first[:110].rsplit(" ", 1)[0] + "\u2026"


@transaction.atomic
def import_explainer(
    *,
    raw: bytes,
    by: User | None = None,
    headline: str = "",
    outlets: OutletIndex | None = None,
) -> ImportResult:
    """Create a draft story from a document in the explainer format.

    The whole document imports in one transaction or not at all; a document
    imported before is recognised by its checksum and not duplicated. Raises
    MalformedDocument (with a line number) for anything not in the format.
    Imports never publish: the result is always a draft.
    """
    parsed = explainer_format.parse(raw)
    existing = Story.objects.filter(import_checksum=parsed.checksum).first()
    if existing is not None:
        return ImportResult(story=existing, created=False)
    warnings = list(parsed.warnings)
    outlets = outlets or OutletIndex()

    headline = " ".join(headline.split())
    story = Story.objects.create(
        headline=headline or _derive_headline(parsed.summary),
        headline_needs_review=not headline,
        summary=parsed.summary,
        papers_overview=_paragraphs_html(parsed.papers),
        background=_paragraphs_html(parsed.background),
        import_checksum=parsed.checksum,
    )
    if by is not None:
        story.authors.add(by)
    Section.objects.bulk_create(
        Section(
            story=story,
            position=position,
            heading=section.heading,
            body=_paragraphs_html(section.paragraphs),
        )
        for position, section in enumerate(parsed.sections)
    )

    mentions = explainer_format.find_outlet_mentions(parsed.papers, outlets.lookup)
    SourceSummary.objects.bulk_create(
        SourceSummary(
            story=story, position=position, outlet=outlet, summary=" ".join(sentences)
        )
        for position, (outlet, sentences) in enumerate(mentions.sentences.items())
    )
    for name in mentions.unmatched:
        warnings.append(
            f"\u201c{name}\u201d reads like a news outlet but is not in the outlet "
            "registry; add it in the admin and re-link it by hand"
        )

    for question in parsed.questions:
        faq = FAQ.objects.filter(question__iexact=question.question).first()
        if faq is None:
            faq = FAQ.objects.create(
                question=question.question, answer=_paragraphs_html(question.paragraphs)
            )
        story.faqs.add(faq)

    linked = set()
    for position, topic in enumerate(parsed.topics):
        entity = Entity.objects.matching_name(topic.name).first()
        if entity is None:
            entity = Entity.objects.create(
                name=topic.name,
                kind=guess_entity_kind(" ".join(topic.paragraphs[:1])),
                short_description=_short_description(topic.paragraphs),
                biography=_paragraphs_html(topic.paragraphs),
                needs_review=True,
            )
        if entity.pk in linked:
            continue
        linked.add(entity.pk)
        StoryEntity.objects.create(story=story, entity=entity, position=position)
    return ImportResult(story=story, created=True, warnings=warnings)


def _short_description(paragraphs: list[str]) -> str:
    """The blurb's first whole sentences that fit the card."""
    limit = Entity._meta.get_field("short_description").max_length
    kept = ""
    for sentence in explainer_format.split_sentences(" ".join(paragraphs[:1])):
        candidate = f"{kept} {sentence}".strip()
        if len(candidate) > limit:
            break
        kept = candidate
    return kept


_KIND_WORDS = [
    (Entity.Kind.PERSON, r"\(born\b|\b(?:politician|official|businessman|businesswoman|"
     r"president|minister|secretary|journalist|actor|actress|singer|athlete|"
     r"personality|diplomat|leader|lawyer|judge|general|author|writer|chancellor)\b"),
    (Entity.Kind.PLACE, r"\b(?:country|city|island|region|state|province|capital|"
     r"territory|river|continent|town|village|peninsula|sea|ocean|strait)\b"),
    (Entity.Kind.ORGANISATION, r"\b(?:organi[sz]ation|company|agency|alliance|party|"
     r"union|bank|corporation|group|institution|ministry|department|council|"
     r"court|parliament|association|federation|firm)\b"),
]


def guess_entity_kind(first_paragraph: str) -> str:
    """A first guess at what a blurb describes; editors confirm it."""
    first_sentence = (explainer_format.split_sentences(first_paragraph) or [""])[0]
    for kind, pattern in _KIND_WORDS:
        if re.search(pattern, first_sentence, re.IGNORECASE):
            return kind
    return Entity.Kind.TOPIC
