"""Topics a story's text names, offered to its editor to link.

The text is read in a Celery task after each save (suggest_entities_task);
the change page shows what the last reading found. Nothing is linked until
an editor accepts a suggestion, and a dismissed one is never offered again
for that story.
"""

from collections import Counter
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from entities.matching import Candidate, candidates, matcher
from entities.models import Entity

from . import workflow
from .models import EntitySuggestion, Outlet, Story, StoryEntity
from .search import plain_text
from .text import name_key


@dataclass
class StoryText:
    # Running prose only, where new names are looked for: headings and
    # questions are in title case, and the papers section names outlets.
    prose: str
    # Everything a reader reads, where known names are looked for. It starts
    # with prose, so one matcher pass serves both: the words that named an
    # entity have the same positions in each.
    everything: str


def story_text(story: Story) -> StoryText:
    sections = list(story.sections.all())
    prose = "\n".join(
        [
            story.summary,
            *(plain_text(section.body) for section in sections),
            plain_text(story.background),
        ]
    )
    rest = [
        story.headline,
        *(section.heading for section in sections),
        plain_text(story.papers_overview),
    ]
    return StoryText(prose=prose, everything="\n".join([prose, *rest]))


def entity_key(entity_id: int) -> str:
    return f"entity:{entity_id}"


def read_story(story: Story) -> tuple[Counter, list[Candidate]]:
    """What the story's text names: mentions per known entity id, and new
    names. No writes; refresh_entity_suggestions() stores them."""
    text = story_text(story)
    counts, covered = matcher().find(text.everything)
    outlets = Outlet.objects.index()
    new_names = candidates(
        text.prose, covered=covered, is_known=lambda n: outlets.lookup(n) is not None
    )
    return counts, new_names


def refresh_entity_suggestions(*, story_id: int) -> list[EntitySuggestion]:
    """Read the story's text again and store what it suggests: known
    entities by name, alias or surname, and new names with their counts.
    Accepted and dismissed suggestions are kept as decided; pending ones the
    text no longer supports go."""
    story = Story.objects.filter(pk=story_id).first()
    if story is None:
        return []  # deleted since the save that queued this
    # Read and match before taking the lock: editors' saves wait on it.
    counts, new_names = read_story(story)
    entities = Entity.objects.in_bulk(list(counts))
    with transaction.atomic():
        story = Story.objects.select_for_update().filter(pk=story_id).first()
        if story is None:
            return []
        return _store(story, counts, entities, new_names)


def _store(story, counts, entities, new_names) -> list[EntitySuggestion]:
    linked = set(story.storyentity_set.values_list("entity_id", flat=True))
    existing = {s.key: s for s in story.entity_suggestions.all()}
    # A topic dismissed as a new name stays dismissed once it is an entity.
    decided_names = {
        name_key(s.name)
        for s in existing.values()
        if s.status != EntitySuggestion.Status.PENDING
    }
    found: dict[str, EntitySuggestion] = {}
    for entity_id, mentions in counts.most_common():
        entity = entities.get(entity_id)
        if entity is None or entity_id in linked:
            continue
        if name_key(entity.name) in decided_names:
            continue
        found[entity_key(entity_id)] = EntitySuggestion(
            story=story,
            entity=entity,
            name=entity.name,
            key=entity_key(entity_id),
            kind=entity.kind,
            mentions=mentions,
        )
    known_names = {name_key(s.name) for s in found.values()}
    for candidate in new_names:
        if candidate.key in known_names:
            continue
        found.setdefault(
            candidate.key,
            EntitySuggestion(
                story=story,
                name=candidate.name,
                key=candidate.key,
                kind=candidate.kind,
                mentions=candidate.count,
            ),
        )
    stale = [
        s.pk
        for key, s in existing.items()
        if s.status == EntitySuggestion.Status.PENDING and key not in found
    ]
    EntitySuggestion.objects.filter(pk__in=stale).delete()
    for key, suggestion in found.items():
        current = existing.get(key)
        if current is None:
            suggestion.save()
        elif current.mentions != suggestion.mentions:
            current.mentions = suggestion.mentions
            current.save(update_fields=["mentions"])
    return list(story.entity_suggestions.filter(status=EntitySuggestion.Status.PENDING))


class AlreadyDecided(ValidationError):
    """The suggestion was accepted or dismissed already."""


def _decidable(
    suggestion_id: int, by, expected_version: int | None = None
) -> tuple[EntitySuggestion, Story]:
    """The pending suggestion and its story, both locked: the story first,
    in the same order as every other write to it."""
    from .services import lock_story

    story_id = (
        EntitySuggestion.objects.filter(pk=suggestion_id)
        .values_list("story_id", flat=True)
        .get()
    )
    story = lock_story(story_id=story_id, expected_version=expected_version)
    if not workflow.can_edit(by, story):
        raise PermissionDenied
    suggestion = EntitySuggestion.objects.select_for_update().get(pk=suggestion_id)
    if suggestion.status != EntitySuggestion.Status.PENDING:
        raise AlreadyDecided(
            f"\u201c{suggestion.name}\u201d was "
            f"{suggestion.get_status_display().lower()} already."
        )
    return suggestion, story


@transaction.atomic
def accept_entity_suggestion(
    *, suggestion_id: int, by, expected_version: int | None = None
) -> StoryEntity:
    """Link the suggested topic to the story, last among its cards; a new
    name becomes an entity flagged for review. A save of the story, so it is
    versioned and refused over an edit the editor has not seen."""
    from .services import record_save

    suggestion, story = _decidable(suggestion_id, by, expected_version)
    entity = suggestion.entity
    if entity is None:
        entity = Entity.objects.matching_name(suggestion.name).first()
    if entity is None:
        entity = Entity.objects.create(
            name=suggestion.name, kind=suggestion.kind, needs_review=True
        )
    link = StoryEntity.objects.filter(story=story, entity=entity).first()
    if link is None:
        last = story.storyentity_set.order_by("-position").first()
        link = StoryEntity.objects.create(
            story=story, entity=entity, position=last.position + 1 if last else 0
        )
    suggestion.entity = entity
    suggestion.status = EntitySuggestion.Status.ACCEPTED
    suggestion.decided_at = timezone.now()
    suggestion.decided_by = by
    suggestion.save(update_fields=["entity", "status", "decided_at", "decided_by"])
    record_save(story=story, by=by, note=f"Linked the topic \u201c{entity}\u201d")
    return link


@transaction.atomic
def dismiss_entity_suggestion(*, suggestion_id: int, by) -> EntitySuggestion:
    """Never offer this topic for this story again. The story is unchanged."""
    suggestion, _ = _decidable(suggestion_id, by)
    suggestion.status = EntitySuggestion.Status.DISMISSED
    suggestion.decided_at = timezone.now()
    suggestion.decided_by = by
    suggestion.save(update_fields=["status", "decided_at", "decided_by"])
    return suggestion
