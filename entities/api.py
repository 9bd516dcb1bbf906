"""Topics in the Content API (see stories/api/)."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from stories import cache_tags
from stories.api import schemas
from stories.api.views import (
    BAD_REQUEST,
    NOT_FOUND,
    Links,
    ListView,
    PublicView,
    tag_page,
)

from .models import Entity

TOPIC_FIELDS = ("name", "slug", "kind", "short_description", "wikidata_id")


def topic_item(link, entity) -> dict:
    return {
        "name": entity.name,
        "slug": entity.slug,
        "kind": entity.kind,
        "short_description": entity.short_description,
        "wikidata_id": entity.wikidata_id,
        "url": link("entities:detail", entity.slug),
        "api_url": link("api:topic", entity.slug),
        "stories_url": link("api:stories") + f"?topic={entity.slug}",
    }


class TopicList(ListView):
    """Topics (people, places, organisations, themes) that at least one
    published story is about, with their current name and description."""

    ordering = ("name", "pk")

    def get_queryset(self):
        return Entity.objects.public().only(*TOPIC_FIELDS)

    def item(self, link, entity):
        return topic_item(link, entity)

    @extend_schema(
        summary="Topics a published story is about, by name",
        responses={200: schemas.TopicSerializer(many=True), 400: BAD_REQUEST},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class TopicDetail(PublicView):
    """A topic that a published story is about, with its biography."""

    @extend_schema(
        summary="A topic, with its biography",
        responses={200: schemas.TopicDetailSerializer, 404: NOT_FOUND},
    )
    def get(self, request, slug):
        entity = get_object_or_404(
            Entity.objects.public().only(*TOPIC_FIELDS, "biography"), slug=slug
        )
        tag_page(request, cache_tags.entity(entity.pk))
        return Response({**topic_item(Links(), entity), "biography": entity.biography})
