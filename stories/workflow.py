"""Who may take which workflow action from which state: the one table every
route (admin page, bulk action, task) consults."""

from dataclasses import dataclass

from .models import Story

S = Story.Status


@dataclass(frozen=True)
class Action:
    name: str
    label: str
    sources: frozenset
    target: str
    editors_only: bool
    # Requires a comment: the reason for a withdrawal, the changes wanted.
    needs_comment: bool = False
    # Runs the strict completeness checks before moving.
    checks_completeness: bool = False


ACTIONS = {
    action.name: action
    for action in [
        Action(
            "submit",
            "Submit for review",
            frozenset({S.DRAFT, S.CHANGES_REQUESTED}),
            S.IN_REVIEW,
            editors_only=False,
            checks_completeness=True,
        ),
        Action(
            "withdraw_submission",
            "Withdraw from review",
            frozenset({S.IN_REVIEW}),
            S.DRAFT,
            editors_only=False,
        ),
        Action(
            "request_changes",
            "Request changes",
            frozenset({S.IN_REVIEW, S.APPROVED}),
            S.CHANGES_REQUESTED,
            editors_only=True,
            needs_comment=True,
        ),
        Action(
            "approve",
            "Approve",
            frozenset({S.DRAFT, S.IN_REVIEW}),
            S.APPROVED,
            editors_only=True,
            checks_completeness=True,
        ),
        Action(
            "schedule",
            "Schedule",
            frozenset({S.APPROVED}),
            S.SCHEDULED,
            editors_only=True,
            checks_completeness=True,
        ),
        Action(
            "reschedule",
            "Reschedule",
            frozenset({S.SCHEDULED}),
            S.SCHEDULED,
            editors_only=True,
            checks_completeness=True,
        ),
        Action(
            "unschedule",
            "Cancel schedule",
            frozenset({S.SCHEDULED}),
            S.APPROVED,
            editors_only=True,
        ),
        Action(
            "publish",
            "Publish",
            frozenset({S.APPROVED, S.SCHEDULED}),
            S.PUBLISHED,
            editors_only=True,
            checks_completeness=True,
        ),
        Action(
            "republish",
            "Republish",
            frozenset({S.PUBLISHED, S.UNPUBLISHED}),
            S.PUBLISHED,
            editors_only=True,
            checks_completeness=True,
        ),
        Action(
            "unpublish",
            "Unpublish",
            frozenset({S.PUBLISHED}),
            S.UNPUBLISHED,
            editors_only=True,
            needs_comment=True,
        ),
        # Taken by the system when a story's expiry time comes.
        Action(
            "expire", "Expire", frozenset({S.PUBLISHED}), S.ARCHIVED, editors_only=True
        ),
        Action(
            "archive",
            "Archive",
            frozenset({S.DRAFT, S.UNPUBLISHED}),
            S.ARCHIVED,
            editors_only=True,
        ),
        Action(
            "unarchive",
            "Return to drafts",
            frozenset({S.ARCHIVED}),
            S.DRAFT,
            editors_only=True,
        ),
    ]
}

# Actions that put a revision in front of readers, and that take it away.
PUBLISHING_ACTIONS = {"publish", "republish"}
WITHDRAWING_ACTIONS = {"unpublish", "expire"}
SCHEDULING_ACTIONS = {"schedule", "reschedule"}
# Stories whose text an editor has signed off: what they link to is frozen
# into what readers see.
REVIEWED_STATUSES = {S.APPROVED, S.SCHEDULED, S.PUBLISHED}
# Only the system takes these; they are not offered as buttons.
SYSTEM_ACTIONS = {"expire"}


def is_editor(user) -> bool:
    return user.is_active and user.has_perm("stories.publish_story")


def can_edit(user, story: Story, *, author_ids=None) -> bool:
    """Journalists edit stories they (co-)author; editors edit any. Archived
    stories are read-only until returned to drafts."""
    if not (user.is_active and user.has_perm("stories.change_story")):
        return False
    if story.pk is not None and story.status == S.ARCHIVED:
        return False
    if user.has_perm("stories.edit_any_story") or story.pk is None:
        return True
    if author_ids is None:
        author_ids = {u.pk for u in story.authors.all()}
    return user.pk in author_ids


def may_take(user, story: Story, action: Action) -> bool:
    """Whether user may take action on story as it stands (state and role)."""
    if story.status not in action.sources:
        return False
    if action.editors_only:
        return is_editor(user)
    return is_editor(user) or can_edit(user, story)


def available_actions(user, story: Story) -> list[Action]:
    return [
        action
        for action in ACTIONS.values()
        if action.name not in SYSTEM_ACTIONS and may_take(user, story, action)
    ]
