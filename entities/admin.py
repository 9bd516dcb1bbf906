from django.contrib import admin
from django.db.models import Count

from stories.admin import PublicContentEditing

from .models import Entity


@admin.register(Entity)
class EntityAdmin(PublicContentEditing, admin.ModelAdmin):
    list_display = ["name", "kind", "wikidata_id", "story_count", "needs_review"]
    list_filter = ["kind", "needs_review"]
    search_fields = ["name", "aliases", "short_description"]
    prepopulated_fields = {"slug": ["name"]}
    fields = [
        "name",
        "slug",
        "kind",
        "short_description",
        "biography",
        "aliases",
        "wikidata_id",
        "needs_review",
    ]

    def get_queryset(self, request):
        # GROUP BY drops Meta.ordering, so order explicitly for stable pages.
        return (
            super()
            .get_queryset(request)
            .annotate(story_count=Count("stories"))
            .order_by(*self.model._meta.ordering)
        )

    @admin.display(description="Stories", ordering="story_count")
    def story_count(self, entity):
        return entity.story_count
