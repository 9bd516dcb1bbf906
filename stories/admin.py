import logging

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import models, transaction
from django.db.models import Count
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_POST
from taggit import admin as taggit_admin
from taggit.models import Tag

from . import services, source_links, suggestions, workflow
from .desk import schedule_by_day
from .diff import diff_contents
from .forms import PreviewLinkForm, StoryAdminForm, WorkflowActionForm
from .models import (
    FAQ,
    AutosaveDraft,
    EntitySuggestion,
    FailedTask,
    LiveTopic,
    Outlet,
    Section,
    SourceSummary,
    Story,
    StoryEntity,
    StoryRevision,
    hero_image_url,
)
from .rendering import preview_article

logger = logging.getLogger(__name__)

# A link typed without a scheme means https (Django 6's default, chosen now).
HTTPS_URLS = {models.URLField: {"assume_scheme": "https"}}
PRESENCE_SECONDS = 90
REVISIONS_PER_PAGE = 25


class StoryPartInline:
    """Sections, sources and topic links are parts of a story: whoever may
    write the story may write them, without separate model permissions."""

    def _may_write_story(self, request, obj):
        if obj is None:
            return request.user.has_perm("stories.add_story")
        return workflow.can_edit(request.user, obj)

    def has_add_permission(self, request, obj=None):
        return self._may_write_story(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._may_write_story(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._may_write_story(request, obj)

    def has_view_permission(self, request, obj=None):
        return self._may_write_story(request, obj) or request.user.has_perm(
            "stories.view_story"
        )


class SectionInline(StoryPartInline, admin.StackedInline):
    model = Section
    extra = 0
    fields = ["position", "heading", "body"]
    verbose_name = "section (What\u2019s behind the headline?)"
    verbose_name_plural = "What\u2019s behind the headline?"


class SourceSummaryInline(StoryPartInline, admin.StackedInline):
    model = SourceSummary
    extra = 0
    fields = ["position", "outlet", "summary", "url"]
    autocomplete_fields = ["outlet"]
    formfield_overrides = HTTPS_URLS
    verbose_name_plural = "What the papers say: outlets"


class StoryEntityInline(StoryPartInline, admin.TabularInline):
    model = StoryEntity
    extra = 0
    fields = ["position", "entity"]
    autocomplete_fields = ["entity"]
    verbose_name_plural = "More on these topics"


def _broken_link(link):
    """One broken link for the change page; linked only if it is http(s)."""
    url = link["url"]
    if url.lower().startswith(("http://", "https://")):
        url = format_html(
            '<a href="{0}" rel="noopener noreferrer" target="_blank">{0}</a>', url
        )
    since = link["broken_since"] or link["checked_at"]
    return format_html(
        "<strong>{}</strong>: {} — {}, since {}",
        link["outlet"],
        url,
        link["problem"],
        date_format(timezone.localtime(since), "j M Y, H:i"),
    )


def _presence_key(story_id):
    return f"story-presence:{story_id}"


@admin.register(Story)
class StoryAdmin(admin.ModelAdmin):
    form = StoryAdminForm
    change_form_template = "admin/stories/story/change_form.html"
    list_display = [
        "headline_display",
        "status",
        "author_names",
        "updated_at",
        "last_published_at",
    ]
    list_filter = [
        "status",
        "headline_needs_review",
        ("authors", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["headline", "summary", "slug"]
    prepopulated_fields = {"slug": ["headline"]}
    autocomplete_fields = ["faqs"]
    # Not an autocomplete: that would need journalists to have view access to
    # every user account.
    filter_horizontal = ["authors"]
    readonly_fields = [
        "status",
        "public_link",
        "first_published_at",
        "last_published_at",
        "scheduled_at",
        "created_at",
        "updated_at",
        "broken_source_links",
    ]
    inlines = [SectionInline, SourceSummaryInline, StoryEntityInline]
    actions = ["publish_selected"]
    date_hierarchy = "updated_at"
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "loaded_version",
                    "headline",
                    "slug",
                    "headline_needs_review",
                    "authors",
                    "tags",
                ]
            },
        ),
        ("What\u2019s happened", {"fields": ["summary"]}),
        (
            "Hero image",
            {
                "fields": [
                    "hero_image",
                    "hero_image_alt",
                    "hero_image_caption",
                    "hero_image_credit",
                ]
            },
        ),
        (
            "What the papers say",
            {"fields": ["papers_overview", "broken_source_links"]},
        ),
        ("How we got here", {"fields": ["background"]}),
        ("Go deeper", {"fields": ["faqs"]}),
        (
            "Publication",
            {
                "fields": [
                    "status",
                    "public_link",
                    "scheduled_at",
                    "embargo_until",
                    "expires_at",
                    "first_published_at",
                    "last_published_at",
                    "created_at",
                    "updated_at",
                ]
            },
        ),
    ]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        # Embargo and expiry decide when readers see the story: editors' calls.
        if not workflow.is_editor(request.user):
            fields += ["embargo_until", "expires_at"]
        return fields

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("authors")

    @admin.display(description="Headline", ordering="headline")
    def headline_display(self, story):
        return str(story)

    @admin.display(description="Authors")
    def author_names(self, story):
        return ", ".join(
            u.get_full_name() or u.get_username() for u in story.authors.all()
        )

    @admin.display(description="Public page")
    def public_link(self, story):
        if not story.is_live:
            return "Not visible to readers"
        return format_html('<a href="{0}">{0}</a>', story.get_absolute_url())

    @admin.display(description="Broken links")
    def broken_source_links(self, story):
        if story.pk is None:
            return "Links are checked once the story is saved."
        broken = source_links.broken_links_of(story)
        if not broken:
            return "None found."
        return format_html(
            '<ul class="broken-links">{}</ul>',
            format_html_join("", "<li>{}</li>", ((_broken_link(b),) for b in broken)),
        )

    def has_change_permission(self, request, obj=None):
        if obj is None:
            return super().has_change_permission(request)
        return workflow.can_edit(request.user, obj)

    def get_changeform_initial_data(self, request):
        return {
            "authors": [request.user.pk],
            **super().get_changeform_initial_data(request),
        }

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "authors":
            kwargs["queryset"] = (
                get_user_model()
                .objects.filter(is_staff=True, is_active=True)
                .order_by("last_name", "first_name", "username")
            )
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        services.record_save(story=form.instance, by=request.user)

    # Change page -----------------------------------------------------------

    def render_change_form(
        self, request, context, add=False, change=False, form_url="", obj=None
    ):
        if obj is not None:
            context.update(self._story_context(request, obj, context["adminform"].form))
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _story_context(self, request, story, form):
        """Workflow, history, presence and autosave panels for the change page;
        a fixed number of queries however long the history."""
        others = self._touch_presence(request, story)
        autosave = AutosaveDraft.objects.filter(story=story, user=request.user).first()
        working = services.snapshot_story(story)
        live_diff = None
        if story.live_revision_id:
            live_diff = diff_contents(story.live_revision.content, working)
        return {
            "story_actions": workflow.available_actions(request.user, story),
            "transitions": list(story.transitions.select_related("by")[:15]),
            "recent_revisions": list(story.revisions.select_related("created_by")[:8]),
            "live_diff": live_diff,
            "others_here": others,
            "autosave": autosave if autosave and autosave.data else None,
            "edit_conflict": getattr(form, "conflict", None),
            "can_edit_story": workflow.can_edit(request.user, story),
            "entity_suggestions": list(
                story.entity_suggestions.filter(
                    status=EntitySuggestion.Status.PENDING
                ).select_related("entity")[:12]
            ),
        }

    def _touch_presence(self, request, story) -> list[str]:
        """Record that this user has the story open; return who else has."""
        key = _presence_key(story.pk)
        now = timezone.now().timestamp()
        name = request.user.get_full_name() or request.user.get_username()
        try:
            seen = cache.get(key) or {}
            seen = {
                user: (label, at)
                for user, (label, at) in seen.items()
                if now - at < PRESENCE_SECONDS
            }
            seen[str(request.user.pk)] = (name, now)
            cache.set(key, seen, PRESENCE_SECONDS)
        except Exception:
            # Presence is a courtesy: with Redis down the admin still works.
            logger.warning("Presence is unavailable", exc_info=True)
            return []
        return sorted(
            label for user, (label, _) in seen.items() if user != str(request.user.pk)
        )

    # Extra pages -------------------------------------------------------------

    def get_urls(self):
        pages = [
            ("schedule/", self.schedule_view, "stories_story_schedule"),
            (
                "<int:object_id>/action/<str:action>/",
                self.action_view,
                "stories_story_action",
            ),
            ("<int:object_id>/preview/", self.preview_view, "stories_story_preview"),
            (
                "<int:object_id>/revisions/",
                self.revisions_view,
                "stories_story_revisions",
            ),
            (
                "<int:object_id>/revisions/compare/",
                self.compare_view,
                "stories_story_compare",
            ),
            (
                "<int:object_id>/revisions/<int:revision_id>/restore/",
                self.restore_view,
                "stories_story_restore",
            ),
            ("<int:object_id>/share/", self.share_view, "stories_story_share"),
            (
                "<int:object_id>/share/<int:link_id>/revoke/",
                self.revoke_link_view,
                "stories_story_revoke_link",
            ),
            (
                "<int:object_id>/suggestions/",
                self.suggestions_view,
                "stories_story_suggestions",
            ),
            ("<int:object_id>/autosave/", self.autosave_view, "stories_story_autosave"),
            ("<int:object_id>/presence/", self.presence_view, "stories_story_presence"),
        ]
        return [
            path(route, self.admin_site.admin_view(view), name=name)
            for route, view, name in pages
        ] + super().get_urls()

    def schedule_view(self, request):
        """Upcoming publications and expiries, by day and hour, for editors."""
        if not workflow.is_editor(request.user):
            raise PermissionDenied
        return self._page(
            request,
            None,
            "schedule.html",
            title="Schedule",
            days=schedule_by_day(),
            time_zone=timezone.get_current_timezone_name(),
        )

    def _viewable_story(self, request, object_id) -> Story:
        story = get_object_or_404(Story, pk=object_id)
        if not self.has_view_or_change_permission(request, story):
            raise PermissionDenied
        return story

    def _page(self, request, story, template, **extra):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": story,
            "title": extra.pop("title", str(story)),
            **extra,
        }
        return TemplateResponse(request, f"admin/stories/story/{template}", context)

    def action_view(self, request, object_id, action):
        story = self._viewable_story(request, object_id)
        spec = workflow.ACTIONS.get(action)
        if spec is None:
            raise Http404("No such action.")
        if not workflow.may_take(request.user, story, spec):
            raise PermissionDenied
        # The version of the page the editor decided on, not of this one:
        # an edit saved in between must not be approved or published unseen.
        seen = request.GET.get("version", "")
        form = WorkflowActionForm(
            request.POST or None,
            action=spec,
            story=story,
            initial={"version": int(seen) if seen.isdigit() else story.version},
        )
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                services.take_action(
                    story=story,
                    action=action,
                    by=request.user,
                    expected_version=data["version"],
                    comment=data["comment"],
                    scheduled_at=data.get("scheduled_at"),
                    correction_kind=data.get("correction_kind", ""),
                    correction_text=data.get("correction_text", ""),
                    update_text=data.get("update_text", ""),
                )
            except services.EditConflict as conflict:
                form.add_error(
                    None,
                    "The story changed while you were deciding: "
                    + "; ".join(conflict.changes)
                    + ". Check it again.",
                )
            except (ValidationError, PermissionDenied) as error:
                form.add_error(None, " ".join(getattr(error, "messages", [str(error)])))
            else:
                self.message_user(
                    request, f"{story}: {spec.label.lower()} done.", messages.SUCCESS
                )
                return redirect(reverse("admin:stories_story_change", args=[story.pk]))
        return self._page(
            request,
            story,
            "action_confirm.html",
            form=form,
            action=spec,
            title=f"{spec.label}: {story}",
        )

    def preview_view(self, request, object_id):
        """The working copy in the public story template."""
        story = self._viewable_story(request, object_id)
        content = services.snapshot_story(story)
        response = render(
            request,
            "stories/story_detail.html",
            {
                "story": story,
                "content": content,
                "article": preview_article(content),
                "corrections": [],
                "hero_image_url": hero_image_url(content),
                "is_preview": True,
            },
        )
        response["X-Robots-Tag"] = "noindex, nofollow"
        return response

    def suggestions_view(self, request, object_id):
        """Suggested topics, each to accept (link it) or dismiss."""
        story = self._viewable_story(request, object_id)
        can_edit = workflow.can_edit(request.user, story)
        if request.method == "POST":
            if not can_edit:
                raise PermissionDenied
            self._decide_suggestion(request, story)
            return redirect(reverse("admin:stories_story_suggestions", args=[story.pk]))
        found = story.entity_suggestions.select_related("entity", "decided_by")
        return self._page(
            request,
            story,
            "suggestions.html",
            pending=[s for s in found if s.status == EntitySuggestion.Status.PENDING],
            decided=[s for s in found if s.status != EntitySuggestion.Status.PENDING],
            can_edit_story=can_edit,
            title=f"Suggested topics: {story}",
        )

    def _decide_suggestion(self, request, story):
        decision = request.POST.get("decision")
        raw_id = request.POST.get("suggestion", "")
        if not raw_id.isdigit():
            raise Http404("No such suggestion.")
        suggestion = get_object_or_404(story.entity_suggestions, pk=int(raw_id))
        version = request.POST.get("version", "")
        try:
            if decision == "accept" and not version.isdigit():
                self.message_user(
                    request, "Reload the page and accept again.", messages.ERROR
                )
            elif decision == "accept":
                link = suggestions.accept_entity_suggestion(
                    suggestion_id=suggestion.pk,
                    by=request.user,
                    expected_version=int(version),
                )
                self.message_user(
                    request, f"\u201c{link.entity}\u201d is now a topic of this story."
                )
            elif decision == "dismiss":
                suggestions.dismiss_entity_suggestion(
                    suggestion_id=suggestion.pk, by=request.user
                )
                self.message_user(
                    request,
                    f"\u201c{suggestion.name}\u201d will not be suggested again.",
                )
            else:
                self.message_user(request, "Choose accept or dismiss.", messages.ERROR)
        except suggestions.AlreadyDecided as decided:
            self.message_user(request, " ".join(decided.messages), messages.WARNING)
        except services.EditConflict as conflict:
            self.message_user(
                request,
                "Not linked: the story changed since you opened this page: "
                + "; ".join(conflict.changes)
                + ". Check the suggestion again.",
                messages.ERROR,
            )

    def revisions_view(self, request, object_id):
        story = self._viewable_story(request, object_id)
        revisions = story.revisions.select_related("created_by").defer("content")
        page = Paginator(revisions, REVISIONS_PER_PAGE).get_page(
            request.GET.get("page")
        )
        return self._page(
            request,
            story,
            "revision_list.html",
            page_obj=page,
            transitions=story.transitions.select_related("by")[:50],
            title=f"History: {story}",
            can_edit_story=workflow.can_edit(request.user, story),
        )

    def compare_view(self, request, object_id):
        story = self._viewable_story(request, object_id)
        revisions = story.revisions.all()
        try:
            old = revisions.get(pk=int(request.GET["a"]))
            new = (
                revisions.get(pk=int(request.GET["b"]))
                if request.GET.get("b") not in (None, "", "working")
                else None
            )
        except (KeyError, ValueError, StoryRevision.DoesNotExist):
            raise Http404("Choose two revisions of this story.") from None
        if new is not None and new.pk < old.pk:
            old, new = new, old
        new_content = new.content if new else services.snapshot_story(story)
        return self._page(
            request,
            story,
            "revision_compare.html",
            old=old,
            new=new,
            diffs=diff_contents(old.content, new_content),
            title=f"Compare revisions: {story}",
        )

    @method_decorator(require_POST)
    def restore_view(self, request, object_id, revision_id):
        story = self._viewable_story(request, object_id)
        revision = get_object_or_404(StoryRevision, pk=revision_id, story=story)
        try:
            services.restore_revision(
                story=story,
                revision=revision,
                by=request.user,
                expected_version=int(request.POST.get("version", -1)),
            )
        except services.EditConflict as conflict:
            self.message_user(
                request,
                "Not restored: the story changed meanwhile: "
                + "; ".join(conflict.changes),
                messages.ERROR,
            )
            return redirect(reverse("admin:stories_story_revisions", args=[story.pk]))
        self.message_user(
            request,
            f"Revision {revision.pk} is the working copy again; "
            "nothing changes for readers until it is published.",
            messages.SUCCESS,
        )
        return redirect(reverse("admin:stories_story_change", args=[story.pk]))

    def share_view(self, request, object_id):
        story = self._viewable_story(request, object_id)
        form = PreviewLinkForm(request.POST or None)
        new_url = None
        if request.method == "POST" and form.is_valid():
            try:
                _link, token = services.create_preview_link(
                    story=story, by=request.user, hours=form.cleaned_data["hours"]
                )
            except PermissionDenied:
                raise
            new_url = request.build_absolute_uri(
                reverse("stories:preview", args=[token])
            )
        links = story.preview_links.select_related("created_by", "revision")[:30]
        return self._page(
            request,
            story,
            "share_links.html",
            form=form,
            links=links,
            new_url=new_url,
            now=timezone.now(),
            title=f"Share a preview: {story}",
        )

    @method_decorator(require_POST)
    def revoke_link_view(self, request, object_id, link_id):
        story = self._viewable_story(request, object_id)
        link = get_object_or_404(story.preview_links, pk=link_id)
        services.revoke_preview_link(link=link, by=request.user)
        self.message_user(
            request, "The preview link no longer works.", messages.SUCCESS
        )
        return redirect(reverse("admin:stories_story_share", args=[story.pk]))

    @method_decorator(require_POST)
    def autosave_view(self, request, object_id):
        """Keep the user's unsaved form; no redirects, purges or notifications."""
        story = get_object_or_404(Story, pk=object_id)
        data = {
            key: request.POST.getlist(key)
            for key in request.POST
            if key != "csrfmiddlewaretoken"
        }
        try:
            base_version = int(request.POST.get("loaded_version", ""))
        except ValueError:
            return JsonResponse({"error": "version missing"}, status=400)
        try:
            result = services.autosave_story(
                story=story, by=request.user, data=data, base_version=base_version
            )
        except PermissionDenied:
            return JsonResponse({"error": "You may not edit this story."}, status=403)
        return JsonResponse(result)

    @method_decorator(require_POST)
    def presence_view(self, request, object_id):
        story = self._viewable_story(request, object_id)
        return JsonResponse({"others": self._touch_presence(request, story)})

    # Bulk actions ------------------------------------------------------------

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not workflow.is_editor(request.user):
            actions.pop("publish_selected", None)
        return actions

    def _bulk(self, request, queryset, call, done):
        for story in queryset:
            try:
                call(story)
            except (PermissionDenied, ValidationError) as error:
                reason = " ".join(getattr(error, "messages", [str(error)]))
                self.message_user(
                    request, f"{story} was not changed: {reason}", messages.ERROR
                )
            else:
                self.message_user(request, f"{story} {done}.", messages.SUCCESS)

    @admin.action(description="Publish selected approved stories")
    def publish_selected(self, request, queryset):
        # Only approved text: a list gives no chance to read unreviewed edits.
        self._bulk(
            request,
            queryset,
            lambda story: services.take_action(
                story=story, action="publish", by=request.user
            ),
            "is live",
        )


def stories_showing(objs):
    """Published stories whose live text shows any of objs (topics, FAQs or
    outlets), for refusing their deletion."""
    from .models import Outlet

    live = Story.objects.published().select_related("live_revision")
    found = []
    for obj in objs:
        if isinstance(obj, Outlet):
            shown = live.filter(source_summaries__outlet=obj).distinct()
        else:
            shown = live.filter(live_revision__in=obj.story_revisions.all())
        found += [
            f"{obj}: used by the published story \u201c{story}\u201d"
            for story in shown[:20]
        ]
    return found


class InvalidatePagesOnDelete:
    """Deleting a topic, FAQ, outlet or tag invalidates the cached pages
    showing it."""

    def delete_model(self, request, obj):
        # Atomic: the pages are invalidated once the rows are gone.
        with transaction.atomic():
            services.delete_references(objs=[obj], by=request.user)
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            services.delete_references(objs=list(queryset), by=request.user)
            super().delete_queryset(request, queryset)


class RefuseDeletingWhatReadersSee(InvalidatePagesOnDelete):
    """Deleting a topic, FAQ or outlet that a published story shows is
    refused, naming the stories, instead of silently breaking them."""

    def get_deleted_objects(self, objs, request):
        deleted, counts, perms_needed, protected = super().get_deleted_objects(
            objs, request
        )
        return deleted, counts, perms_needed, [*protected, *stories_showing(objs)]


class PublicContentEditing(RefuseDeletingWhatReadersSee):
    """A topic or FAQ that published stories link to is public: only editors
    change it, so a journalist's edit cannot reach readers unreviewed."""

    def save_model(self, request, obj, form, change):
        # Reads the links (an FAQ's topics) again on commit, after
        # save_related has saved them.
        services.save_reference(obj=obj, by=request.user)

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        if not allowed or obj is None or workflow.is_editor(request.user):
            return allowed
        # Approved and scheduled stories copy it when they go live, so it is
        # as good as public once they are approved.
        reviewed = obj.stories.filter(status__in=workflow.REVIEWED_STATUSES).exists()
        return (
            not reviewed and not type(obj).objects.public().filter(pk=obj.pk).exists()
        )

    def has_delete_permission(self, request, obj=None):
        return self.has_change_permission(
            request, obj
        ) and super().has_delete_permission(request, obj)


@admin.register(Outlet)
class OutletAdmin(RefuseDeletingWhatReadersSee, admin.ModelAdmin):
    list_display = [
        "name",
        "short_forms_display",
        "country",
        "language",
        "homepage",
        "needs_review",
    ]
    list_filter = ["needs_review", "country", "language"]
    search_fields = ["name", "short_forms", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    formfield_overrides = HTTPS_URLS

    def save_model(self, request, obj, form, change):
        services.save_reference(obj=obj, by=request.user)

    @admin.display(description="Short forms")
    def short_forms_display(self, outlet):
        return ", ".join(outlet.short_form_list)


@admin.register(FAQ)
class FAQAdmin(PublicContentEditing, admin.ModelAdmin):
    list_display = ["question", "story_count", "updated_at"]
    search_fields = ["question", "answer"]
    prepopulated_fields = {"slug": ["question"]}
    autocomplete_fields = ["entities"]

    def get_queryset(self, request):
        # GROUP BY drops Meta.ordering, so order explicitly for stable pages.
        return (
            super()
            .get_queryset(request)
            .annotate(story_count=Count("stories"))
            .order_by(*self.model._meta.ordering)
        )

    @admin.display(description="Stories", ordering="story_count")
    def story_count(self, faq):
        return faq.story_count


@admin.register(FailedTask)
class FailedTaskAdmin(admin.ModelAdmin):
    list_display = ["task_name", "args", "error", "failed_at", "resolved_at"]
    list_filter = ["task_name", ("resolved_at", admin.EmptyFieldListFilter)]
    readonly_fields = ["task_name", "task_id", "args", "error", "failed_at"]
    actions = ["mark_resolved"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Mark as dealt with")
    def mark_resolved(self, request, queryset):
        queryset.filter(resolved_at__isnull=True).update(resolved_at=timezone.now())


admin.site.unregister(Tag)


@admin.register(Tag)
class TagAdmin(InvalidatePagesOnDelete, taggit_admin.TagAdmin):
    """taggit's tag admin, invalidating the cached pages showing a tag when
    it is renamed or deleted."""

    def get_readonly_fields(self, request, obj=None):
        # Published stories' frozen revisions, related stories and the tag's
        # page and feeds find the tag by its slug: it is fixed once in use.
        fields = super().get_readonly_fields(request, obj)
        if (
            obj is not None
            and LiveTopic.objects.filter(key=LiveTopic.tag_key(obj.slug)).exists()
        ):
            return (*fields, "slug")
        return fields

    def save_model(self, request, obj, form, change):
        services.save_reference(obj=obj, by=request.user)
