"""Content API views: parse the query, pick a public queryset, answer with
dicts built from live revisions (see stories/api/__init__.py).

Query budgets (tests/stories/test_api.py): a list is one query whatever its
filters; a story is three (the story with its live revision, its
corrections and updates, the answers of its questions).
"""

from django.conf import settings
from django.core.files.storage import default_storage
from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from django.utils.http import http_date
from drf_spectacular.utils import OpenApiResponse, extend_schema
from drf_spectacular.views import SpectacularJSONAPIView
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import exception_handler
from taggit.models import Tag

from newsroom import pagecache
from newsroom.addresses import address

from .. import cache_tags
from ..models import API_LIST_PARTS, FAQ, Correction, Outlet, Story
from . import schemas
from .pagination import KeysetPagination

FILTERS = frozenset(schemas.StoryFilterSerializer._declared_fields)
NOT_FOUND = OpenApiResponse(schemas.ErrorSerializer, description="Not found.")
BAD_REQUEST = OpenApiResponse(
    schemas.ErrorSerializer, description="A filter or cursor is not valid."
)


PLACEHOLDER = "api-link-placeholder"


class Links:
    """Absolute addresses for one response. reverse() costs about 20 us a
    call even remembered (newsroom/addresses.py reads the script prefix and
    URLconf from thread-locals each time), and a page of 20 stories holds
    some 300 links, so each route is reversed once with a placeholder and
    filled in after. Only for slugs and usernames: characters that need no
    quoting in a path."""

    def __init__(self):
        self.templates = {}

    def __call__(self, name: str, *args: str) -> str:
        key = (name, len(args))
        template = self.templates.get(key)
        if template is None:
            path = address(name, *(PLACEHOLDER for _ in args))
            template = self.templates[key] = settings.SITE_URL + path
        return template.replace(PLACEHOLDER, args[0]) if args else template


def absolute_url(url: str) -> str:
    """A media URL as storage gives it, made absolute with SITE_URL unless it
    already is (media on another host)."""
    return url if url.startswith(("http://", "https://")) else settings.SITE_URL + url


def tag_item(link, tag: dict) -> dict:
    return {
        "name": tag["name"],
        "slug": tag["slug"],
        "url": link("stories:tag", tag["slug"]),
    }


def author_item(link, author: dict) -> dict:
    return {
        "name": author["name"],
        "username": author["username"],
        "url": link("stories:author", author["username"]),
    }


def topic_card(link, entity: dict) -> dict:
    """A topic as a revision froze it: the card the story shows."""
    return {
        "name": entity["name"],
        "slug": entity["slug"],
        "kind": entity.get("kind", "topic"),
        "short_description": entity.get("short_description", ""),
        "wikidata_id": entity.get("wikidata_id", ""),
        "url": link("entities:detail", entity["slug"]),
        "api_url": link("api:topic", entity["slug"]),
    }


def hero_item(hero: dict | None) -> dict | None:
    if not hero:
        return None

    def renditions(entries):
        return [
            {"url": absolute_url(entry["url"]), "width": entry["width"]}
            for entry in entries
        ]

    return {
        "url": absolute_url(default_storage.url(hero["name"])),
        "alt": hero.get("alt", ""),
        "caption": hero.get("caption", ""),
        "credit": hero.get("credit", ""),
        "width": hero.get("width"),
        "height": hero.get("height"),
        "sources": [
            {"type": source["type"], "srcset": renditions(source["srcset"])}
            for source in hero.get("sources", [])
        ],
        "fallback": renditions(hero.get("fallback", [])),
    }


def story_item(link, story, parts: dict) -> dict:
    """What a list shows of a story; parts are its live revision's."""
    slug = story.public_slug
    return {
        "id": story.pk,
        "slug": slug,
        "url": link("stories:detail", slug),
        "api_url": link("api:story", slug),
        "headline": parts["headline"],
        "summary": parts["summary"],
        "first_published_at": story.first_published_at,
        "last_published_at": story.last_published_at,
        "tags": [tag_item(link, tag) for tag in parts.get("tags") or []],
        "authors": [author_item(link, author) for author in parts.get("authors") or []],
        "topics": [topic_card(link, entity) for entity in parts.get("entities") or []],
        "hero_image": hero_item(parts.get("hero_image")),
    }


def outlet_ref(link, outlet: dict) -> dict:
    return {
        "name": outlet["name"],
        "slug": outlet["slug"],
        "homepage": outlet.get("homepage", ""),
        "url": link("stories:outlet", outlet["slug"]),
        "api_url": link("api:outlet", outlet["slug"]),
    }


def story_detail_item(link, story, notes, answers) -> dict:
    """Every structured part of a published story, from its live revision;
    notes are its Correction rows, answers its questions' answers by id."""
    content = story.live_revision.content
    return {
        **story_item(link, story, content),
        "sections": [
            {"heading": section["heading"], "body": section["body"]}
            for section in content.get("sections", [])
        ],
        "papers_overview": content.get("papers_overview", ""),
        "source_summaries": [
            {
                "outlet": outlet_ref(link, source["outlet"]),
                "summary": source["summary"],
                "url": source.get("url", ""),
            }
            for source in content.get("source_summaries", [])
        ],
        "background": content.get("background", ""),
        "faqs": [
            {
                "question": faq["question"],
                "slug": faq["slug"],
                "answer": answers[faq["id"]],
                "url": link("stories:faq_detail", faq["slug"]),
                "api_url": link("api:faq", faq["slug"]),
            }
            for faq in content.get("faqs", [])
            if faq.get("id") in answers
        ],
        "corrections": [
            {"kind": note.kind, "text": note.text, "created_at": note.created_at}
            for note in notes
            if note.kind != Correction.Kind.UPDATE
        ],
        "updates": [
            {"text": note.text, "created_at": note.created_at}
            for note in notes
            if note.kind == Correction.Kind.UPDATE
        ],
    }


def faq_item(link, faq) -> dict:
    return {
        "question": faq.question,
        "slug": faq.slug,
        "answer": faq.answer,
        "url": link("stories:faq_detail", faq.slug),
        "api_url": link("api:faq", faq.slug),
    }


def outlet_item(link, outlet) -> dict:
    return {
        "name": outlet.name,
        "slug": outlet.slug,
        "homepage": outlet.homepage,
        "url": link("stories:outlet", outlet.slug),
        "api_url": link("api:outlet", outlet.slug),
        "country": outlet.country,
        "language": outlet.language,
        "stories_url": link("api:stories") + f"?outlet={outlet.slug}",
    }


def cache_like_pages(response):
    """The pages' Cache-Control. The page cache's middleware adds it only to
    addresses it stores, and API lists take filters and cursors."""
    return pagecache.mark_public(response)


def tag_page(request, *tags, stories=()):
    """cache_tags.page() for a DRF request: the page cache reads the tags
    from the Django request it wraps."""
    cache_tags.page(request._request, *tags, stories=stories)


class PublicMixin:
    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if request.method in ("GET", "HEAD") and response.status_code in (200, 404):
            cache_like_pages(response)
        return response


class PublicView(PublicMixin, GenericAPIView):
    pass


# A comment, not a docstring: the schema shows view docstrings to clients.
# A list answers cursor pages of item(link, row) for each row of
# get_queryset().
class ListView(PublicView):
    pagination_class = KeysetPagination

    def item(self, link, row) -> dict:
        raise NotImplementedError

    def tag_page(self, request, rows):
        # Topics, questions, outlets and tags are listed when the sitemap
        # lists them: it changes with every publication and every edit.
        tag_page(request, cache_tags.SITEMAP)

    def get(self, request, *args, **kwargs):
        rows = self.paginate_queryset(self.get_queryset())
        self.tag_page(request, rows)
        link = Links()
        return self.get_paginated_response([self.item(link, row) for row in rows])


class StoryList(ListView):
    """Published stories, newest publication first, with the parts a list
    shows. Filters combine (AND); an unknown slug gives an empty list."""

    ordering = ("-last_published_at", "-pk")

    def get_queryset(self):
        wanted = {}
        # Building a serializer costs more than the rest of a list: only
        # when there is something to validate.
        if not FILTERS.isdisjoint(self.request.query_params):
            filters = schemas.StoryFilterSerializer(data=self.request.query_params)
            filters.is_valid(raise_exception=True)
            wanted = filters.validated_data
        stories = Story.objects.published().for_api_list()
        if "tag" in wanted:
            stories = stories.filter(live_revision__tags__slug=wanted["tag"])
        if "topic" in wanted:
            stories = stories.about(wanted["topic"])
        if "outlet" in wanted:
            stories = stories.citing_slug(wanted["outlet"])
        if "author" in wanted:
            stories = stories.by_username(wanted["author"])
        if "published_after" in wanted:
            stories = stories.filter(first_published_at__gte=wanted["published_after"])
        if "published_before" in wanted:
            stories = stories.filter(first_published_at__lt=wanted["published_before"])
        if "updated_after" in wanted:
            stories = stories.filter(last_published_at__gte=wanted["updated_after"])
        return stories

    def item(self, link, story):
        parts = {part: getattr(story, f"live_{part}") for part in API_LIST_PARTS}
        return story_item(link, story, parts)

    def tag_page(self, request, rows):
        # The newest stories, as on the home page.
        tag_page(request, cache_tags.HOME, stories=rows)

    @extend_schema(
        summary="Published stories, newest first",
        parameters=[schemas.StoryFilterSerializer],
        responses={200: schemas.StoryListItemSerializer(many=True), 400: BAD_REQUEST},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class StoryDetail(PublicView):
    """A published story with every structured part, as readers see it on
    its page. 404 for any other slug, including unpublished stories."""

    @extend_schema(
        summary="A published story with every structured part",
        responses={200: schemas.StoryDetailSerializer, 404: NOT_FOUND},
    )
    def get(self, request, slug):
        story = get_object_or_404(
            Story.objects.published().for_story_page(), public_slug=slug
        )
        notes = list(Correction.objects.notes_on(story))
        faq_ids = [faq["id"] for faq in story.live_revision.content.get("faqs", [])]
        answers = (
            dict(FAQ.objects.filter(pk__in=faq_ids).values_list("pk", "answer"))
            if faq_ids
            else {}
        )
        # The answers are read from the questions themselves, not the
        # revision: an edited answer shows here at once.
        tag_page(
            request, cache_tags.story(story.pk), *(cache_tags.faq(i) for i in faq_ids)
        )
        response = Response(story_detail_item(Links(), story, notes, answers))
        response["Last-Modified"] = http_date(story.last_published_at.timestamp())
        return response


class FAQList(ListView):
    """Questions ("Go deeper") that at least one published story links to."""

    ordering = ("question", "pk")

    def get_queryset(self):
        return FAQ.objects.public().only("question", "slug", "answer")

    def item(self, link, faq):
        return faq_item(link, faq)

    @extend_schema(
        summary="Questions a published story links to, by question",
        responses={200: schemas.FAQSerializer(many=True), 400: BAD_REQUEST},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class FAQDetail(PublicView):
    """A question that a published story links to, with its answer."""

    @extend_schema(
        summary="A question and its answer",
        responses={200: schemas.FAQSerializer, 404: NOT_FOUND},
    )
    def get(self, request, slug):
        faq = get_object_or_404(FAQ.objects.public(), slug=slug)
        tag_page(request, cache_tags.faq(faq.pk))
        return Response(faq_item(Links(), faq))


class OutletList(ListView):
    """News organisations that at least one published story cites."""

    ordering = ("name", "pk")

    def get_queryset(self):
        return Outlet.objects.public().only(
            "name", "slug", "homepage", "country", "language"
        )

    def item(self, link, outlet):
        return outlet_item(link, outlet)

    @extend_schema(
        summary="Outlets a published story cites, by name",
        responses={200: schemas.OutletSerializer(many=True), 400: BAD_REQUEST},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class OutletDetail(PublicView):
    """An outlet that a published story cites."""

    @extend_schema(
        summary="An outlet a published story cites",
        responses={200: schemas.OutletSerializer, 404: NOT_FOUND},
    )
    def get(self, request, slug):
        outlet = get_object_or_404(Outlet.objects.public(), slug=slug)
        tag_page(request, cache_tags.outlet(outlet.pk))
        return Response(outlet_item(Links(), outlet))


class TagList(ListView):
    """Tags of published stories."""

    ordering = ("slug",)

    def get_queryset(self):
        live = Story.objects.published().values("live_revision")
        return Tag.objects.filter(story_revisions__in=live).distinct()

    def item(self, link, tag):
        return {
            "name": tag.name,
            "slug": tag.slug,
            "url": link("stories:tag", tag.slug),
            "stories_url": link("api:stories") + f"?tag={tag.slug}",
        }

    @extend_schema(
        summary="Tags of published stories, by slug",
        responses={200: schemas.APITagSerializer(many=True), 400: BAD_REQUEST},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class SchemaView(PublicMixin, SpectacularJSONAPIView):
    # Generated once per process: it depends only on the code, and
    # generating it takes tens of milliseconds.

    _generated: list = []

    def _get_schema_response(self, request):
        if not self._generated:
            generator = self.generator_class(urlconf=self.urlconf, patterns=None)
            self._generated.append(generator.get_schema(request=None, public=True))
        return Response(self._generated[0])


def not_found(request, *args, **kwargs):
    """Any other address under /api/v1/: a JSON 404 like the endpoints'."""
    return cache_like_pages(JsonResponse({"detail": "Not found."}, status=404))


def handle_exception(exc, context):
    """DRF's error answers, and a throttled client's 429 kept out of shared
    caches (it concerns that client only)."""
    response = exception_handler(exc, context)
    if response is not None and response.status_code == 429:
        response["Cache-Control"] = "no-store"
    return response
