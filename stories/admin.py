from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from . import services
from .forms import StoryAdminForm
from .models import FAQ, Outlet, Section, SourceSummary, Story, StoryEntity


# A link typed without a scheme means https (Django 6's default, chosen now).
HTTPS_URLS = {models.URLField: {"assume_scheme": "https"}}


class StoryPartInline:
    """Sections, sources and topic links are parts of a story: whoever may
    write the story may write them, without separate model permissions."""

    def _may_write_story(self, request, obj):
        codename = "change_story" if obj is not None else "add_story"
        return request.user.has_perm(f"stories.{codename}")

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


@admin.register(Story)
class StoryAdmin(admin.ModelAdmin):
    form = StoryAdminForm
    change_form_template = "admin/stories/story/change_form.html"
    list_display = [
        "headline", "status", "author_names", "updated_at", "last_published_at",
    ]
    list_filter = ["status", "headline_needs_review", "authors", "tags"]
    search_fields = ["headline", "summary", "slug"]
    prepopulated_fields = {"slug": ["headline"]}
    autocomplete_fields = ["faqs"]
    # Not an autocomplete: that would need journalists to have view access to
    # every user account.
    filter_horizontal = ["authors"]
    readonly_fields = [
        "status", "public_link", "first_published_at", "last_published_at",
        "created_at", "updated_at",
    ]
    inlines = [SectionInline, SourceSummaryInline, StoryEntityInline]
    actions = ["publish_selected", "unpublish_selected"]
    date_hierarchy = "updated_at"
    fieldsets = [
        (None, {"fields": ["headline", "slug", "headline_needs_review", "authors", "tags"]}),
        ("What\u2019s happened", {"fields": ["summary"]}),
        (
            "Hero image",
            {"fields": ["hero_image", "hero_image_alt", "hero_image_caption", "hero_image_credit"]},
        ),
        ("What the papers say", {"fields": ["papers_overview"]}),
        ("How we got here", {"fields": ["background"]}),
        ("Go deeper", {"fields": ["faqs"]}),
        (
            "Publication",
            {"fields": [
                "status", "public_link", "first_published_at", "last_published_at",
                "created_at", "updated_at",
            ]},
        ),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("authors")

    def get_changeform_initial_data(self, request):
        return {"authors": [request.user.pk], **super().get_changeform_initial_data(request)}

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "authors":
            kwargs["queryset"] = get_user_model().objects.filter(
                is_staff=True, is_active=True
            ).order_by("last_name", "first_name", "username")
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    @admin.display(description="Authors")
    def author_names(self, story):
        return ", ".join(u.get_full_name() or u.get_username() for u in story.authors.all())

    @admin.display(description="Public page")
    def public_link(self, story):
        if not story.is_live:
            return "Not visible to readers"
        return format_html('<a href="{0}">{0}</a>', story.get_absolute_url())

    def get_urls(self):
        return [
            path(
                "<int:object_id>/publish/",
                self.admin_site.admin_view(self.publish_view),
                name="stories_story_publish",
            ),
            path(
                "<int:object_id>/unpublish/",
                self.admin_site.admin_view(self.unpublish_view),
                name="stories_story_unpublish",
            ),
            *super().get_urls(),
        ]

    def render_change_form(self, request, context, *args, **kwargs):
        context["can_publish"] = request.user.has_perm("stories.publish_story")
        return super().render_change_form(request, context, *args, **kwargs)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not request.user.has_perm("stories.publish_story"):
            actions.pop("publish_selected", None)
            actions.pop("unpublish_selected", None)
        return actions

    def _apply(self, request, story, service, done):
        try:
            service(story=story, by=request.user)
        except PermissionDenied as error:
            self.message_user(request, f"{story}: {error}", messages.ERROR)
            return False
        except ValidationError as error:
            self.message_user(
                request, f"{story} was not published: {' '.join(error.messages)}",
                messages.ERROR,
            )
            return False
        self.message_user(request, f"{story} {done}.", messages.SUCCESS)
        return True

    @admin.action(description="Publish selected stories")
    def publish_selected(self, request, queryset):
        for story in queryset:
            self._apply(request, story, services.publish_story, "is live")

    @admin.action(description="Unpublish selected stories")
    def unpublish_selected(self, request, queryset):
        for story in queryset:
            self._apply(request, story, services.unpublish_story, "was unpublished")

    def _transition_view(self, request, object_id, service, done):
        story = get_object_or_404(Story, pk=object_id)
        if not self.has_change_permission(request, story):
            raise PermissionDenied
        self._apply(request, story, service, done)
        return redirect(reverse("admin:stories_story_change", args=[story.pk]))

    @method_decorator(require_POST)
    def publish_view(self, request, object_id):
        return self._transition_view(
            request, object_id, services.publish_story, "is live"
        )

    @method_decorator(require_POST)
    def unpublish_view(self, request, object_id):
        return self._transition_view(
            request, object_id, services.unpublish_story, "was unpublished"
        )


@admin.register(Outlet)
class OutletAdmin(admin.ModelAdmin):
    list_display = ["name", "short_forms_display", "country", "language", "homepage"]
    list_filter = ["country", "language"]
    search_fields = ["name", "short_forms", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    formfield_overrides = HTTPS_URLS

    @admin.display(description="Short forms")
    def short_forms_display(self, outlet):
        return ", ".join(outlet.short_form_list)


@admin.register(FAQ)
class FAQAdmin(admin.ModelAdmin):
    list_display = ["question", "story_count", "updated_at"]
    search_fields = ["question", "answer"]
    prepopulated_fields = {"slug": ["question"]}
    autocomplete_fields = ["entities"]

    def get_queryset(self, request):
        # GROUP BY drops Meta.ordering, so order explicitly for stable pages.
        return (
            super().get_queryset(request)
            .annotate(story_count=Count("stories"))
            .order_by(*self.model._meta.ordering)
        )

    @admin.display(description="Stories", ordering="story_count")
    def story_count(self, faq):
        return faq.story_count
