"""The shapes of Content API responses, for the OpenAPI schema, and the
story list's filters.

Responses are built as plain dicts (views.py), which costs a fraction of
running serializers over nested lists; these serializers only describe
them, and tests/stories/test_api.py validates real responses against the
generated schema so the two cannot drift apart.
"""

from rest_framework import serializers

from entities.models import Entity

HTML = (
    "HTML, already sanitised against the site's allow-list (p, br, h3, h4, "
    "strong, b, em, i, u, s, sub, sup, a, ul, ol, li, blockquote, figure, "
    "figcaption, img, code, pre). Safe to insert as HTML."
)
PLAIN = "Plain text (not HTML); paragraphs are separated by blank lines."


class TagSerializer(serializers.Serializer):
    name = serializers.CharField()
    slug = serializers.SlugField()
    url = serializers.URLField(help_text="The tag's page on the site.")


class AuthorSerializer(serializers.Serializer):
    name = serializers.CharField()
    username = serializers.CharField()
    url = serializers.URLField(help_text="The author's page on the site.")


class TopicCardSerializer(serializers.Serializer):
    name = serializers.CharField()
    slug = serializers.SlugField()
    kind = serializers.ChoiceField(choices=Entity.Kind.choices)
    short_description = serializers.CharField(help_text="Plain text.")
    wikidata_id = serializers.CharField(help_text='e.g. "Q17", or "".')
    url = serializers.URLField(help_text="The topic's page on the site.")
    api_url = serializers.URLField()


class RenditionSerializer(serializers.Serializer):
    url = serializers.URLField()
    width = serializers.IntegerField()


class ImageSourceSerializer(serializers.Serializer):
    type = serializers.CharField(help_text='A MIME type, e.g. "image/avif".')
    srcset = RenditionSerializer(many=True)


class HeroImageSerializer(serializers.Serializer):
    url = serializers.URLField(help_text="The original upload.")
    alt = serializers.CharField(help_text="What the image shows.")
    caption = serializers.CharField()
    credit = serializers.CharField()
    width = serializers.IntegerField(allow_null=True)
    height = serializers.IntegerField(allow_null=True)
    sources = ImageSourceSerializer(
        many=True, help_text="Resized copies by format, best first (AVIF, WebP)."
    )
    fallback = RenditionSerializer(
        many=True, help_text="Resized copies in the original's format."
    )


class StoryListItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.SlugField()
    url = serializers.URLField(help_text="The story's page on the site.")
    api_url = serializers.URLField()
    headline = serializers.CharField()
    summary = serializers.CharField(help_text=f"What's happened. {PLAIN}")
    first_published_at = serializers.DateTimeField()
    last_published_at = serializers.DateTimeField(
        help_text="The latest publication; lists are ordered by it, newest first."
    )
    tags = TagSerializer(many=True)
    authors = AuthorSerializer(many=True)
    topics = TopicCardSerializer(many=True)
    hero_image = HeroImageSerializer(allow_null=True)


class SectionSerializer(serializers.Serializer):
    heading = serializers.CharField(help_text="Plain text.")
    body = serializers.CharField(help_text=HTML)


class OutletRefSerializer(serializers.Serializer):
    name = serializers.CharField()
    slug = serializers.SlugField()
    homepage = serializers.CharField(help_text='The outlet\'s own site, or "".')
    url = serializers.URLField(help_text="The outlet's page on the site.")
    api_url = serializers.URLField()


class SourceSummarySerializer(serializers.Serializer):
    outlet = OutletRefSerializer()
    summary = serializers.CharField(help_text=f"How the outlet covered it. {PLAIN}")
    url = serializers.CharField(help_text='The outlet\'s report, or "".')


class StoryFAQSerializer(serializers.Serializer):
    question = serializers.CharField()
    slug = serializers.SlugField()
    answer = serializers.CharField(help_text=HTML)
    url = serializers.URLField(help_text="The question's page on the site.")
    api_url = serializers.URLField()


class CorrectionSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["correction", "clarification"])
    text = serializers.CharField(help_text=PLAIN)
    created_at = serializers.DateTimeField()


class UpdateSerializer(serializers.Serializer):
    text = serializers.CharField(help_text=PLAIN)
    created_at = serializers.DateTimeField()


class StoryDetailSerializer(StoryListItemSerializer):
    sections = SectionSerializer(
        many=True, help_text="What's behind the headline?, in order."
    )
    papers_overview = serializers.CharField(help_text=f"What the papers say. {HTML}")
    source_summaries = SourceSummarySerializer(many=True)
    background = serializers.CharField(help_text=f"How we got here. {HTML}")
    faqs = StoryFAQSerializer(many=True, help_text="Go deeper.")
    corrections = CorrectionSerializer(many=True, help_text="Oldest first.")
    updates = UpdateSerializer(many=True, help_text="Oldest first.")


class TopicSerializer(TopicCardSerializer):
    stories_url = serializers.URLField(help_text="Its stories in this API.")


class TopicDetailSerializer(TopicSerializer):
    biography = serializers.CharField(help_text=HTML)


class FAQSerializer(serializers.Serializer):
    question = serializers.CharField()
    slug = serializers.SlugField()
    answer = serializers.CharField(help_text=HTML)
    url = serializers.URLField(help_text="The question's page on the site.")
    api_url = serializers.URLField()


class OutletSerializer(OutletRefSerializer):
    country = serializers.CharField(help_text='ISO 3166 two-letter code, or "".')
    language = serializers.CharField(help_text='A language code, or "".')
    stories_url = serializers.URLField(help_text="Stories citing it in this API.")


class APITagSerializer(TagSerializer):
    stories_url = serializers.URLField(help_text="Its stories in this API.")


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


class StoryFilterSerializer(serializers.Serializer):
    """The story list's filters; together they narrow the list (AND)."""

    tag = serializers.SlugField(required=False, help_text="A tag's slug.")
    topic = serializers.SlugField(required=False, help_text="A topic's slug.")
    outlet = serializers.SlugField(
        required=False, help_text="An outlet's slug: stories citing it."
    )
    author = serializers.CharField(
        required=False, max_length=150, help_text="An author's username."
    )
    published_after = serializers.DateTimeField(
        required=False,
        help_text="First published at or after this ISO 8601 time "
        "(a date alone means its midnight in the newsroom's time zone).",
    )
    published_before = serializers.DateTimeField(
        required=False, help_text="First published before this ISO 8601 time."
    )
    updated_after = serializers.DateTimeField(
        required=False,
        help_text="Last published at or after this ISO 8601 time: what changed "
        "since a client last looked.",
    )
