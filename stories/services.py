"""State changes to stories. Every caller (admin, importer, tasks) goes here."""

import logging
import re
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.html import format_html

from entities.models import Entity
from newsroom.celery import enqueue_on_commit

from . import baking, cache_tags, explainer_format, workflow
from .images import make_renditions
from .models import (
    FAQ,
    AutosaveDraft,
    Correction,
    LiveTopic,
    LiveTopicVersion,
    Outlet,
    PreviewLink,
    Section,
    SourceSummary,
    Story,
    StoryEntity,
    StoryRevision,
    StorySlugRedirect,
    StoryTransition,
)
from .search import index_revision
from .tasks import (
    bake_story_pages_task,
    deliver_webhook_task,
    notify_transition_task,
    suggest_entities_task,
)
from .text import OutletIndex

logger = logging.getLogger(__name__)
User = get_user_model()
PREVIEW_SALT = "stories.preview-link"
# An update line is one line of news ("Added Tokyo's response").
UPDATE_LINE_MAX_CHARS = 300


class StoryNotReady(ValidationError):
    """The story lacks something readers must have before it can go further."""


class EditConflict(Exception):
    """Someone changed the story after the caller loaded it."""

    def __init__(self, story: Story, loaded_version: int, changes: list[str]):
        self.story = story
        self.loaded_version = loaded_version
        self.changes = changes
        super().__init__(
            f"{story} changed since version {loaded_version}: " + "; ".join(changes)
        )


class InvalidTransition(ValidationError):
    """The action is not open from the story's current state."""


def publication_problems(story: Story) -> list[str]:
    """What stops story from going to review or to readers, as messages."""
    problems = []
    if not story.headline.strip():
        problems.append("Add a headline.")
    if not story.summary.strip():
        problems.append("Add a summary (\u201cWhat\u2019s happened\u201d).")
    if not story.sections.exists():
        problems.append(
            "Add at least one section (\u201cWhat\u2019s behind the headline?\u201d)."
        )
    if story.hero_image and not story.hero_image_alt.strip():
        problems.append("Describe the hero image in its alt text.")
    return problems


def snapshot_story(story: Story) -> dict:
    """Everything readers see of story, as plain JSON later edits cannot change."""
    hero = None
    if story.hero_image:
        hero = {
            "name": story.hero_image.name,
            "alt": story.hero_image_alt,
            "caption": story.hero_image_caption,
            "credit": story.hero_image_credit,
            **_renditions(story.hero_image.name),
        }
    sources = story.source_summaries.select_related("outlet")
    return {
        "headline": story.headline,
        "slug": story.slug,
        "summary": story.summary,
        "sections": [
            {"heading": s.heading, "body": s.body} for s in story.sections.all()
        ],
        "papers_overview": story.papers_overview,
        "source_summaries": [
            {
                "outlet": {
                    "id": s.outlet.pk,
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
        # Cards and questions are copied, not referenced: editing an entity
        # or FAQ must not change what a published story shows.
        "faqs": [
            {"id": f.pk, "question": f.question, "slug": f.slug}
            for f in story.faqs.order_by("id")
        ],
        "entities": [
            {
                "id": link.entity.pk,
                "name": link.entity.name,
                "slug": link.entity.slug,
                "kind": link.entity.kind,
                "kind_label": link.entity.get_kind_display(),
                "short_description": link.entity.short_description,
                "wikidata_id": link.entity.wikidata_id,
            }
            for link in story.storyentity_set.select_related("entity").order_by(
                "position", "id"
            )
        ],
        "tags": [{"name": t.name, "slug": t.slug} for t in story.tags.order_by("name")],
        "authors": [
            {
                "id": u.pk,
                "name": u.get_full_name() or u.get_username(),
                "username": u.get_username(),
            }
            for u in story.authors.order_by("last_name", "first_name", "username")
        ],
        "hero_image": hero,
    }


def _renditions(name: str) -> dict:
    try:
        return make_renditions(name)
    except (OSError, ValueError):
        # A missing or unreadable file: the page falls back to the original.
        logger.warning("Could not make renditions of %s", name, exc_info=True)
        return {}


def changes_since(story: Story, version: int) -> list[str]:
    """What happened to story after version, as sentences for the person
    whose copy is stale."""
    changes = []
    for transition in (
        story.transitions.filter(version__gt=version)
        .select_related("by")
        .order_by("id")
    ):
        who = _name(transition.by)
        changes.append(
            f"{who} moved it from {transition.get_from_status_display().lower()} to "
            f"{transition.get_to_status_display().lower()} "
            f"({timezone.localtime(transition.created_at):%H:%M})"
        )
    saves = (
        story.revisions.filter(
            version__gt=version,
            kind__in=[
                StoryRevision.Kind.SAVE,
                StoryRevision.Kind.RESTORE,
            ],
        )
        .select_related("created_by")
        .order_by("id")
    )
    baseline = story.revisions.filter(version__lte=version).order_by("-id").first()
    previous = baseline.content if baseline else None
    for revision in saves:
        fields = changed_fields(previous, revision.content) if previous else []
        what = f": {', '.join(fields)}" if fields else ""
        changes.append(
            f"{_name(revision.created_by)} saved changes "
            f"({timezone.localtime(revision.created_at):%H:%M}){what}"
        )
        previous = revision.content
    return changes or ["the story was changed by another process"]


def changed_fields(old: dict, new: dict) -> list[str]:
    from .diff import FIELD_LABELS

    return [
        label for key, label in FIELD_LABELS.items() if old.get(key) != new.get(key)
    ]


def _name(user) -> str:
    if user is None:
        return "The system"
    return user.get_full_name() or user.get_username()


def lock_story(*, story_id: int, expected_version: int | None = None) -> Story:
    """The story row, locked until the transaction ends; raises EditConflict
    if it moved past expected_version (the version the caller loaded).

    Every write to a story starts here, so no path can save over a change
    its author has not seen.
    """
    story = Story.objects.select_for_update().get(pk=story_id)
    if expected_version is not None and story.version != expected_version:
        raise EditConflict(
            story, expected_version, changes_since(story, expected_version)
        )
    return story


def _bump_version(story: Story) -> None:
    story.version += 1
    Story.objects.filter(pk=story.pk).update(
        version=story.version, updated_at=timezone.now()
    )


def _record_revision(story: Story, by, kind: str, note: str = "") -> StoryRevision:
    content = snapshot_story(story)
    revision = StoryRevision.objects.create(
        story=story,
        created_by=by,
        content=content,
        kind=kind,
        version=story.version,
        note=note,
    )
    revision.entities.set([e["id"] for e in content["entities"]])
    revision.faqs.set([f["id"] for f in content["faqs"]])
    if kind == StoryRevision.Kind.PUBLISH:
        # Tag, author and search indexes are only needed for what readers see.
        index_revision(revision)
    return revision


@transaction.atomic
def record_save(
    *, story: Story, by: User, kind: str = StoryRevision.Kind.SAVE, note: str = ""
) -> StoryRevision:
    """Record a saved change: bump the version and keep a revision of the
    whole story. Call with the row locked by lock_story (new stories need no
    lock). A journalist's change to an approved or scheduled story sends it
    back to review, so nothing unreviewed reaches readers."""
    _bump_version(story)
    revision = _record_revision(story, by, kind, note)
    # Topics the new text names are offered on the change page, read after
    # the commit so saving never waits for it.
    enqueue_on_commit(suggest_entities_task, story.pk)
    if by is not None:
        AutosaveDraft.objects.filter(story=story, user=by).delete()
    back_to_review = by is not None and not workflow.is_editor(by)
    if (
        story.status in (Story.Status.APPROVED, Story.Status.SCHEDULED)
        and back_to_review
    ):
        _move(
            story,
            "resubmit_after_edit",
            Story.Status.IN_REVIEW,
            by,
            "Edited after approval; back to review.",
        )
        story.scheduled_at = None
        story.save(update_fields=["status", "scheduled_at"])
    return revision


def _move(
    story: Story, action: str, target: str, by, comment: str = ""
) -> StoryTransition:
    """Change status, bump the version and log the move; the caller saves
    any other fields it changed."""
    from_status = story.status
    story.status = target
    _bump_version(story)
    Story.objects.filter(pk=story.pk).update(status=target)
    transition = StoryTransition.objects.create(
        story=story,
        action=action,
        from_status=from_status,
        to_status=target,
        by=by,
        comment=comment,
        version=story.version,
    )
    enqueue_on_commit(notify_transition_task, transition.pk)
    return transition


@transaction.atomic
def take_action(
    *,
    story: Story,
    action: str,
    by: User | None,
    expected_version: int | None = None,
    comment: str = "",
    scheduled_at=None,
    correction_kind: str = "",
    correction_text: str = "",
    update_text: str = "",
    late_by: timedelta | None = None,
) -> Story:
    """Move story through the workflow by a named action.

    by=None is the system (a schedule an editor set); every other caller is
    checked against the workflow table. Raises PermissionDenied,
    InvalidTransition, StoryNotReady or EditConflict and changes nothing then.
    A republication of a live story may carry an update line (update_text)
    and a correction or clarification at once.
    """
    spec = workflow.ACTIONS.get(action)
    if spec is None:
        raise InvalidTransition(f"There is no action called {action!r}.")
    # Lock the row: two editors can press Publish in the same second.
    story = lock_story(story_id=story.pk, expected_version=expected_version)
    if story.status not in spec.sources:
        raise InvalidTransition(
            f"\u201c{spec.label}\u201d is not possible for a story that is "
            f"{story.get_status_display().lower()}."
        )
    if by is not None and not workflow.may_take(by, story, spec):
        raise PermissionDenied(f"You may not {spec.label.lower()} this story.")
    comment = comment.strip()
    if spec.needs_comment and not comment:
        raise ValidationError("Say why: a comment is required for this action.")
    if spec.checks_completeness:
        problems = publication_problems(story)
        if problems:
            raise StoryNotReady(problems)
    now = timezone.now()
    if action in workflow.SCHEDULING_ACTIONS:
        if scheduled_at is None or scheduled_at <= now:
            raise ValidationError("Choose a publication time in the future.")
        if story.embargo_until and scheduled_at < story.embargo_until:
            raise ValidationError(
                "The story is embargoed until "
                f"{timezone.localtime(story.embargo_until):%d %B %Y, %H:%M %Z}; "
                "schedule it for then or later."
            )
        story.scheduled_at = scheduled_at
        story.schedule_id = uuid.uuid4()
    elif action == "unschedule":
        story.scheduled_at = None
        story.schedule_id = None
    goes_live_at = story.scheduled_at if action in workflow.SCHEDULING_ACTIONS else now
    if (
        action in workflow.PUBLISHING_ACTIONS | workflow.SCHEDULING_ACTIONS
        and story.expires_at
        and story.expires_at <= goes_live_at
    ):
        raise ValidationError(
            "The story's expiry time comes before it would go live; change the expiry "
            "first."
        )
    if (
        action in workflow.PUBLISHING_ACTIONS
        and story.embargo_until
        and story.embargo_until > now
    ):
        raise ValidationError(
            "Embargoed: nothing may publish this story before "
            f"{timezone.localtime(story.embargo_until):%d %B %Y, %H:%M %Z}."
        )
    correction_text = correction_text.strip()
    update_text = " ".join(update_text.split())
    if (correction_kind or update_text) and (
        action != "republish" or not story.live_revision_id
    ):
        raise ValidationError(
            "Corrections and updates are attached when republishing a live story."
        )
    if correction_kind and not correction_text:
        raise ValidationError("Write the text of the correction.")
    if len(update_text) > UPDATE_LINE_MAX_CHARS:
        raise ValidationError(
            f"Keep the update line to {UPDATE_LINE_MAX_CHARS} characters."
        )

    if action in workflow.PUBLISHING_ACTIONS and (
        Story.objects.exclude(pk=story.pk).filter(public_slug=story.slug).exists()
    ):
        raise ValidationError(
            f"Another story is published at /stories/{story.slug}/; change the slug."
        )

    changes_readers_view = (
        action in workflow.PUBLISHING_ACTIONS | workflow.WITHDRAWING_ACTIONS
    )
    if changes_readers_view:
        # What the story shows readers before the move: the pages it leaves.
        tags_before = cache_tags.of_live_story(story.pk)
        paths_before = baking.story_paths(story.pk)
    transition = _move(story, action, spec.target, by, comment)
    if late_by is not None:
        StoryTransition.objects.filter(pk=transition.pk).update(late_by=late_by)
    fields = ["scheduled_at", "schedule_id"]
    if action in workflow.SCHEDULING_ACTIONS:
        schedule = (story.pk, str(story.schedule_id))
        eta = story.scheduled_at
        transaction.on_commit(lambda: _enqueue_scheduled_publication(schedule, eta))
    if action in workflow.PUBLISHING_ACTIONS:
        revision = _record_revision(story, by, StoryRevision.Kind.PUBLISH)
        # Whole seconds: HTML <time datetime> allows at most three decimals.
        now = timezone.now().replace(microsecond=0)
        story.live_revision = revision
        if story.public_slug and story.public_slug != story.slug:
            StorySlugRedirect.objects.filter(slug=story.slug).delete()
            StorySlugRedirect.objects.update_or_create(
                slug=story.public_slug, defaults={"story": story}
            )
        story.public_slug = story.slug
        fields.append("public_slug")
        story.first_published_at = story.first_published_at or now
        story.last_published_at = now
        story.scheduled_at = None
        story.schedule_id = None
        story.withdrawn_at = None
        fields += [
            "live_revision",
            "first_published_at",
            "last_published_at",
            "withdrawn_at",
        ]
        notes = [(correction_kind, correction_text)] if correction_kind else []
        if update_text:
            notes.append((Correction.Kind.UPDATE, update_text))
        Correction.objects.bulk_create(
            Correction(
                story=story,
                revision=revision,
                kind=kind,
                text=text,
                created_at=now,
                created_by=by,
            )
            for kind, text in notes
        )
    elif action in workflow.WITHDRAWING_ACTIONS:
        story.live_revision = None
        story.withdrawn_at = timezone.now().replace(microsecond=0)
        fields += ["live_revision", "withdrawn_at"]
    story.save(update_fields=fields)
    if changes_readers_view:
        index_live_topics(story)
        has_corrections = Correction.objects.filter(story=story).exists()
        cache_tags.invalidate_on_commit(
            cache_tags.story_changed(story.pk, tags_before, has_corrections)
        )
        # Enqueued after the invalidation above, which runs first on commit.
        enqueue_on_commit(bake_story_pages_task, story.pk, paths_before)
        for url in settings.WEBHOOK_URLS:
            enqueue_on_commit(deliver_webhook_task, transition.pk, url)
    return story


def index_live_topics(story: Story) -> None:
    """Make story's LiveTopic rows match its live revision (none once it is
    withdrawn): its topics and tags, and the outlets it cites."""
    LiveTopic.objects.filter(story=story).delete()
    LiveTopicVersion.bump()
    # Only the live revision keeps its search vector, so the search index
    # holds what readers may find and grows with the stories, not the edits.
    StoryRevision.objects.filter(story=story, search_vector__isnull=False).exclude(
        pk=story.live_revision_id
    ).update(search_vector=None)
    if story.live_revision_id is not None:
        content = story.live_revision.content
        ids_by_slug = Outlet.objects.ids_by_slug(_slugs_without_ids(content))
        LiveTopic.objects.bulk_create(_live_topics(story, ids_by_slug))


def rebuild_live_topics() -> None:
    """Rebuild every story's LiveTopic rows from the live revisions (after a
    bulk load, which does not carry them), in batches."""
    LiveTopic.objects.all().delete()
    LiveTopicVersion.bump()
    # For revisions written before snapshots carried outlet ids.
    ids_by_slug = dict(Outlet.objects.values_list("slug", "pk"))
    published = Story.objects.published().select_related("live_revision")
    batch = []
    for story in published.iterator(chunk_size=500):
        batch.extend(_live_topics(story, ids_by_slug))
        if len(batch) >= 5000:
            LiveTopic.objects.bulk_create(batch)
            batch = []
    LiveTopic.objects.bulk_create(batch)


def _slugs_without_ids(content) -> list[str]:
    return [
        s["outlet"]["slug"]
        for s in content.get("source_summaries", [])
        if "id" not in s["outlet"]
    ]


def _live_topics(story, ids_by_slug):
    content = story.live_revision.content
    keys = LiveTopic.keys_of(content) + LiveTopic.outlet_keys_of(content, ids_by_slug)
    return [
        LiveTopic(story=story, key=key, last_published_at=story.last_published_at)
        for key in dict.fromkeys(keys)
    ]


def publish_story(
    *,
    story: Story,
    by: User,
    expected_version: int | None = None,
    correction_kind: str = "",
    correction_text: str = "",
    update_text: str = "",
) -> StoryRevision:
    """Freeze story's working copy into a revision and show it to readers,
    approving it first when an editor publishes a draft of their own."""
    with transaction.atomic():
        current = Story.objects.get(pk=story.pk)
        if current.status in (Story.Status.DRAFT, Story.Status.IN_REVIEW):
            take_action(
                story=current,
                action="approve",
                by=by,
                expected_version=expected_version,
            )
            expected_version = None
            current.refresh_from_db()
        action = (
            "publish"
            if current.status in (Story.Status.APPROVED, Story.Status.SCHEDULED)
            else "republish"
        )
        story = take_action(
            story=current,
            action=action,
            by=by,
            expected_version=expected_version,
            correction_kind=correction_kind,
            correction_text=correction_text,
            update_text=update_text,
        )
        return story.live_revision


def unpublish_story(
    *, story: Story, by: User, reason: str, expected_version: int | None = None
) -> Story:
    """Withdraw story from every public surface; its URL then answers 410."""
    return take_action(
        story=story,
        action="unpublish",
        by=by,
        comment=reason,
        expected_version=expected_version,
    )


@transaction.atomic
def restore_revision(
    *,
    story: Story,
    revision: StoryRevision,
    by: User,
    expected_version: int | None = None,
) -> StoryRevision:
    """Make an old revision the working copy again, as a new revision; all
    history and every correction stay."""
    story = lock_story(story_id=story.pk, expected_version=expected_version)
    if revision.story_id != story.pk:
        raise ValidationError("That revision belongs to another story.")
    if not workflow.can_edit(by, story):
        raise PermissionDenied("You may not edit this story.")
    content = revision.content
    story.headline = content["headline"]
    story.summary = content["summary"]
    story.papers_overview = content["papers_overview"]
    story.background = content["background"]
    hero = content.get("hero_image")
    story.hero_image = hero["name"] if hero else ""
    story.hero_image_alt = hero["alt"] if hero else ""
    story.hero_image_caption = hero["caption"] if hero else ""
    story.hero_image_credit = hero["credit"] if hero else ""
    story.save()
    story.sections.all().delete()
    Section.objects.bulk_create(
        Section(story=story, position=i, heading=s["heading"], body=s["body"])
        for i, s in enumerate(content["sections"])
    )
    story.source_summaries.all().delete()
    outlets = Outlet.objects.in_bulk(
        [s["outlet"]["slug"] for s in content["source_summaries"]], field_name="slug"
    )
    SourceSummary.objects.bulk_create(
        SourceSummary(
            story=story,
            position=i,
            outlet=outlets[s["outlet"]["slug"]],
            summary=s["summary"],
            url=s["url"],
        )
        for i, s in enumerate(content["source_summaries"])
        if s["outlet"]["slug"] in outlets
    )
    story.storyentity_set.all().delete()
    entity_ids = [e["id"] for e in content["entities"]]
    existing_entities = set(
        Entity.objects.filter(pk__in=entity_ids).values_list("pk", flat=True)
    )
    StoryEntity.objects.bulk_create(
        StoryEntity(story=story, entity_id=entity_id, position=i)
        for i, entity_id in enumerate(entity_ids)
        if entity_id in existing_entities
    )
    story.faqs.set(FAQ.objects.filter(pk__in=[f["id"] for f in content["faqs"]]))
    story.tags.set([t["name"] for t in content["tags"]])
    author_ids = [a["id"] for a in content["authors"] if "id" in a]
    story.authors.set(User.objects.filter(pk__in=author_ids))
    return record_save(
        story=story,
        by=by,
        kind=StoryRevision.Kind.RESTORE,
        note=f"Restored from revision {revision.pk} (version {revision.version})",
    )


@transaction.atomic
def save_reference(*, obj, by: User) -> None:
    """Save an entity, FAQ, outlet or tag edited in the admin. Published
    stories show their pages and cards, so the cached pages showing it are
    invalidated on commit (after the admin has saved its links too)."""
    # What the row shows readers as stored, not as edited: an FAQ's old
    # topics, a tag's old slug.
    stored = type(obj).objects.filter(pk=obj.pk).first() if obj.pk else None
    before = cache_tags.reference_tags(stored) if stored is not None else set()
    obj.save()
    _topics_changed(obj)
    transaction.on_commit(
        lambda: cache_tags.invalidate(cache_tags.reference_changed(obj, before))
    )


def delete_references(*, objs, by: User) -> None:
    """Invalidate, on commit, the cached pages showing entities, FAQs,
    outlets or tags about to be deleted (call before deleting them)."""
    tags = set()
    for obj in objs:
        tags |= cache_tags.reference_changed(obj)
        _topics_changed(obj)
    cache_tags.invalidate_on_commit(tags)


def _topics_changed(obj) -> None:
    # Web processes keep the home page's most active topics, names and
    # addresses included, under the LiveTopicVersion token
    # (listings.active_topics): a new one shows an edited topic at once.
    if isinstance(obj, Entity):
        LiveTopicVersion.bump()


def autosave_story(*, story: Story, by: User, data: dict, base_version: int) -> dict:
    """Keep by's unsaved form for story; touches nothing else. Says whether
    the story has moved on since the form was loaded."""
    if not workflow.can_edit(by, story):
        raise PermissionDenied("You may not edit this story.")
    draft, _ = AutosaveDraft.objects.update_or_create(
        story=story, user=by, defaults={"data": data, "base_version": base_version}
    )
    current = Story.objects.filter(pk=story.pk).values_list("version", flat=True).get()
    return {
        "saved_at": draft.saved_at.isoformat(),
        "stale": current != base_version,
        "version": current,
    }


def create_preview_link(
    *, story: Story, by: User, hours: int
) -> tuple[PreviewLink, str]:
    """A link to story's latest revision that works for hours without an
    account; returns the link and its signed token."""
    if not workflow.can_edit(by, story) and not workflow.is_editor(by):
        raise PermissionDenied("You may not share this story.")
    if not 1 <= hours <= 24 * 14:
        raise ValidationError("Links last between an hour and two weeks.")
    revision = story.revisions.order_by("-id").first()
    if revision is None:
        with transaction.atomic():
            locked = lock_story(story_id=story.pk)
            revision = record_save(story=locked, by=by)
    link = PreviewLink.objects.create(
        story=story,
        revision=revision,
        created_by=by,
        key=secrets.token_hex(16),
        expires_at=timezone.now() + timedelta(hours=hours),
    )
    return link, preview_token(link)


def preview_token(link: PreviewLink) -> str:
    return signing.dumps({"k": link.key}, salt=PREVIEW_SALT, compress=True)


def preview_link_from_token(token: str) -> PreviewLink | None:
    """The usable link a token names, or None when it is tampered with,
    expired or revoked."""
    try:
        payload = signing.loads(token, salt=PREVIEW_SALT, max_age=timedelta(days=14))
    except signing.BadSignature:
        return None
    return (
        PreviewLink.objects.usable()
        .select_related("revision", "story")
        .filter(key=payload.get("k"))
        # Withdrawn text stays withdrawn, previews included.
        .exclude(story__status__in=[Story.Status.UNPUBLISHED, Story.Status.ARCHIVED])
        .first()
    )


def revoke_preview_link(*, link: PreviewLink, by: User) -> None:
    if not workflow.can_edit(by, link.story) and not workflow.is_editor(by):
        raise PermissionDenied("You may not revoke this link.")
    PreviewLink.objects.filter(pk=link.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )


def _enqueue_scheduled_publication(schedule: tuple[int, str], eta) -> None:
    from .tasks import publish_scheduled_story_task

    try:
        publish_scheduled_story_task.apply_async(args=schedule, eta=eta)
    except Exception:
        # The sweep publishes it anyway; a broker outage must not fail the
        # editor's request after the schedule was saved.
        logger.exception("Could not queue the publication of story %s", schedule[0])


def publish_scheduled_story(*, story_id: int, schedule_id: str | None = None) -> bool:
    """Publish a scheduled story whose time has come, once.

    Safe to call any number of times, from any number of workers: the row
    lock serialises them, and a story that is no longer scheduled under
    schedule_id (published, rescheduled, cancelled) is left alone. Returns
    whether this call published it.
    """
    with transaction.atomic():
        try:
            story = Story.objects.select_for_update().get(pk=story_id)
        except Story.DoesNotExist:
            return False
        now = timezone.now()
        if (
            story.status != Story.Status.SCHEDULED
            or (schedule_id is not None and str(story.schedule_id) != str(schedule_id))
            or story.scheduled_at is None
            or story.scheduled_at > now
            or (story.embargo_until and story.embargo_until > now)
        ):
            return False
        lateness = now - story.scheduled_at
        late_by = lateness if lateness > settings.SCHEDULE_LATE_AFTER else None
        try:
            take_action(story=story, action="publish", by=None, late_by=late_by)
        except (ValidationError, EditConflict) as error:
            logger.error(
                "Scheduled story %s could not be published: %s", story_id, error
            )
            return False
    if late_by is not None:
        logger.warning(
            "Story %s published %.1f s after its scheduled time",
            story_id,
            late_by.total_seconds(),
        )
    return True


def expire_story(*, story_id: int) -> bool:
    """Withdraw and archive a live story whose expiry time has passed."""
    with transaction.atomic():
        story = Story.objects.select_for_update().filter(pk=story_id).first()
        now = timezone.now()
        if (
            story is None
            or story.status != Story.Status.PUBLISHED
            or not (story.expires_at and story.expires_at <= now)
        ):
            return False
        lateness = now - story.expires_at
        take_action(
            story=story,
            action="expire",
            by=None,
            comment="Expiry time reached.",
            late_by=lateness if lateness > settings.SCHEDULE_LATE_AFTER else None,
        )
    return True


def sweep_schedules() -> dict:
    """Publish whatever is overdue and expire whatever has expired.

    The safety net under the timed tasks: after a worker or broker outage
    everything overdue goes out at once, and anything late is recorded so
    editors hear of it.
    """
    now = timezone.now()
    due = Story.objects.filter(
        status=Story.Status.SCHEDULED, scheduled_at__lte=now
    ).values_list("pk", flat=True)
    published = [pk for pk in due if publish_scheduled_story(story_id=pk)]
    expired_ids = Story.objects.filter(
        status=Story.Status.PUBLISHED, expires_at__lte=now
    ).values_list("pk", flat=True)
    expired = [pk for pk in expired_ids if expire_story(story_id=pk)]
    return {"published": published, "expired": expired}


@dataclass
class ImportResult:
    story: Story
    created: bool
    warnings: list[str] = field(default_factory=list)
    # Outlets the document named that the registry did not know, added to it
    # flagged for review.
    new_outlets: list[Outlet] = field(default_factory=list)


def _create_outlet(name: str) -> Outlet:
    """A new outlet flagged for review, or the one a concurrent import just
    added under that name."""
    for _ in range(3):
        try:
            # A savepoint: another import may take the name or slug first.
            with transaction.atomic():
                return Outlet.objects.create(name=name, needs_review=True)
        except IntegrityError:
            existing = Outlet.objects.filter(name=name).first()
            if existing is not None:
                return existing
    raise IntegrityError(f"could not add the outlet {name!r}")


def _add_outlets(names: list[str], outlets: OutletIndex, warnings: list[str]):
    """Registry rows, flagged for review, for the outlet names the registry
    does not know; one per name however it is spelled."""
    added: list[Outlet] = []
    limit = Outlet._meta.get_field("name").max_length
    for name in names:
        if OutletIndex(added).lookup(name) is not None:
            continue  # another spelling of an outlet just added
        candidates = outlets.ambiguous(name)
        if candidates:
            warnings.append(
                f"\u201c{name}\u201d could be "
                + " or ".join(f"\u201c{o.name}\u201d" for o in candidates)
                + "; its sentences stay in the overview: link the outlet by hand"
            )
            continue
        if len(name) > limit:
            warnings.append(
                f"\u201c{name[:60]}\u2026\u201d is too long for an outlet's name; "
                "its sentences stay in the overview"
            )
            continue
        added.append(_create_outlet(name))
    return added


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
    outlets = outlets or Outlet.objects.index()

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

    new_outlets = _import_source_summaries(story, parsed, outlets, warnings)

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
    record_save(
        story=story,
        by=by,
        kind=StoryRevision.Kind.IMPORT,
        note="Imported from a document",
    )
    return ImportResult(
        story=story, created=True, warnings=warnings, new_outlets=new_outlets
    )


def _import_source_summaries(story, parsed, outlets: OutletIndex, warnings):
    """A SourceSummary for every outlet "What the papers say" names, adding
    the ones the registry lacks; returns those. Each paragraph naming none
    is reported by line: it stays in the overview, never dropped."""
    elsewhere = "\n".join(
        [
            parsed.summary,
            *(p for section in parsed.sections for p in section.paragraphs),
            *parsed.background,
        ]
    )
    found = explainer_format.find_outlet_mentions(
        parsed.papers, outlets.lookup, elsewhere=elsewhere
    )
    new_outlets = _add_outlets(found.unmatched, outlets, warnings)
    if new_outlets:
        # Again with the new names known, so every sentence about them counts.
        lookup = outlets.with_new(new_outlets).lookup
        found = explainer_format.find_outlet_mentions(
            parsed.papers, lookup, elsewhere=elsewhere
        )
        transaction.on_commit(lambda: [outlets.add(o) for o in new_outlets])
        for outlet in new_outlets:
            if outlet not in found.sentences:
                # Never lose a source: its sentences are those naming it.
                found.sentences[outlet] = [
                    sentence
                    for paragraph in parsed.papers
                    for sentence in explainer_format.split_sentences(paragraph)
                    if outlet.name in sentence
                ] or [outlet.name]
    SourceSummary.objects.bulk_create(
        SourceSummary(
            story=story, position=position, outlet=outlet, summary=" ".join(sentences)
        )
        for position, (outlet, sentences) in enumerate(found.sentences.items())
    )
    for outlet in new_outlets:
        warnings.append(
            f"\u201c{outlet.name}\u201d was not in the outlet registry: it was "
            "added, flagged for review"
        )
    for index in found.without_outlet:
        warnings.append(
            f"line {parsed.paper_lines[index]}: this paragraph of \u201cWhat the "
            "papers say\u201d names no outlet; it is kept in the overview "
            "without a source summary"
        )
    return new_outlets


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
    (
        Entity.Kind.PERSON,
        r"\(born\b|\b(?:politician|official|businessman|businesswoman|"
        r"president|minister|secretary|journalist|actor|actress|singer|athlete|"
        r"personality|diplomat|leader|lawyer|judge|general|author|writer|chancellor)\b",
    ),
    (
        Entity.Kind.PLACE,
        r"\b(?:country|city|island|region|state|province|capital|"
        r"territory|river|continent|town|village|peninsula|sea|ocean|strait)\b",
    ),
    (
        Entity.Kind.ORGANISATION,
        r"\b(?:organi[sz]ation|company|agency|alliance|party|"
        r"union|bank|corporation|group|institution|ministry|department|council|"
        r"court|parliament|association|federation|firm)\b",
    ),
]


def guess_entity_kind(first_paragraph: str) -> str:
    """A first guess at what a blurb describes; editors confirm it."""
    first_sentence = (explainer_format.split_sentences(first_paragraph) or [""])[0]
    for kind, pattern in _KIND_WORDS:
        if re.search(pattern, first_sentence, re.IGNORECASE):
            return kind
    return Entity.Kind.TOPIC
