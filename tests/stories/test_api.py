"""The Content API: what each endpoint shows, filters, cursors, errors,
caching, CORS, rate limits, query budgets and the OpenAPI schema."""

import json
from datetime import timedelta

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from drf_spectacular.validation import validate_schema
from jsonschema import Draft202012Validator

from stories import services
from stories.models import SourceSummary, Story
from tests.entities.factories import EntityFactory
from tests.stories.factories import (
    FAQFactory,
    OutletFactory,
    StoryFactory,
)

pytestmark = pytest.mark.django_db
API = "/api/v1"
LISTS = ["stories", "topics", "faqs", "outlets", "tags"]


@pytest.fixture
def schema(client):
    return client.get(f"{API}/schema/").json()


def get_json(client, url, **extra):
    response = client.get(url, **extra)
    assert response["Content-Type"].startswith("application/json"), url
    return response.status_code, response.json()


def publish_some(count, **fields):
    return [StoryFactory(published=True, **fields) for _ in range(count)]


def test_story_list_shows_what_readers_see_not_the_working_copy(client, live):
    live.headline = "An unpublished rewrite"
    live.save()
    status, body = get_json(client, f"{API}/stories/")
    assert status == 200
    [item] = body["results"]
    assert item["headline"] == "Japan raises defence spending"
    assert item["slug"] == live.public_slug
    assert item["url"] == f"http://127.0.0.1:8000/stories/{live.public_slug}/"
    assert item["tags"][0]["slug"] == "defence"
    assert item["authors"][0]["username"] == "reporter"
    assert item["topics"][0]["slug"] == "japan"
    assert body["next"] is None


def test_story_list_is_newest_publication_first(client, live):
    older, newer = publish_some(2)
    Story.objects.filter(pk=older.pk).update(
        last_published_at=timezone.now() - timedelta(days=3)
    )
    _, body = get_json(client, f"{API}/stories/")
    assert [item["id"] for item in body["results"]] == [newer.pk, live.pk, older.pk]


def test_story_detail_has_every_structured_part(client, live, editor):
    services.publish_story(
        story=live, by=editor, correction_kind="correction", correction_text="Fixed."
    )
    services.publish_story(
        story=live, by=editor, correction_kind="update", correction_text="Added."
    )
    status, story = get_json(client, f"{API}/stories/{live.public_slug}/")
    assert status == 200
    assert story["summary"] == live.summary
    assert story["sections"] == [{"heading": "Angle 1", "body": "<p>Analysis 1.</p>"}]
    assert story["papers_overview"] == "<p>The papers disagreed.</p>"
    [source] = story["source_summaries"]
    assert source["summary"] == "The Gazette counted the ships."
    assert source["url"] == "https://gazette.example/ships"
    assert source["outlet"]["homepage"] == "https://gazette.example"
    assert source["outlet"]["api_url"].endswith("/api/v1/outlets/example-gazette/")
    assert story["background"] == "<p>It started long ago.</p>"
    [faq] = story["faqs"]
    assert faq["question"] == "Why is Japan spending more?"
    assert faq["answer"] == "<p>Because it does.</p>"
    [topic] = story["topics"]
    assert (topic["kind"], topic["wikidata_id"]) == ("place", "Q17")
    assert [(c["kind"], c["text"]) for c in story["corrections"]] == [
        ("correction", "Fixed.")
    ]
    assert [u["text"] for u in story["updates"]] == ["Added."]


def test_story_rich_text_arrives_sanitised(client, live, editor):
    section = live.sections.get()
    section.body = '<p onclick="x()">Text<script>alert(1)</script></p>'
    section.save()
    services.publish_story(story=live, by=editor)
    _, story = get_json(client, f"{API}/stories/{live.public_slug}/")
    assert story["sections"][0]["body"] == "<p>Text</p>"


@pytest.mark.parametrize(
    "query",
    [
        "tag=defence",
        "topic=japan",
        "outlet=example-gazette",
        "author=reporter",
    ],
)
def test_story_list_filters_keep_only_matching_stories(client, live, query):
    publish_some(2)
    _, body = get_json(client, f"{API}/stories/?{query}")
    assert [item["id"] for item in body["results"]] == [live.pk], query


def test_date_filters_bound_first_and_last_publication(client, live):
    Story.objects.filter(pk=live.pk).update(
        first_published_at=timezone.now() - timedelta(days=10),
        last_published_at=timezone.now() - timedelta(days=10),
    )
    [recent] = publish_some(1)
    Story.objects.filter(pk=recent.pk).update(
        first_published_at=timezone.now() - timedelta(days=20)
    )
    [new] = publish_some(1)
    since = (timezone.now() - timedelta(days=15)).date().isoformat()
    _, after = get_json(client, f"{API}/stories/?published_after={since}")
    _, before = get_json(client, f"{API}/stories/?published_before={since}")
    updated = (timezone.now() - timedelta(days=1)).isoformat().replace("+00:00", "Z")
    _, changed = get_json(client, f"{API}/stories/?updated_after={updated}")
    assert [item["id"] for item in after["results"]] == [new.pk, live.pk]
    assert [item["id"] for item in before["results"]] == [recent.pk]
    assert [item["id"] for item in changed["results"]] == [new.pk, recent.pk]


def test_filters_combine_and_unknown_slugs_give_an_empty_list(client, live):
    _, both = get_json(client, f"{API}/stories/?tag=defence&topic=japan")
    _, none = get_json(client, f"{API}/stories/?tag=defence&topic=korea")
    assert len(both["results"]) == 1 and none["results"] == []


@pytest.mark.parametrize(
    "query",
    [
        "published_after=yesterday",
        "updated_after=2026-13-01",
        "tag=not%20a%20slug",
        "page_size=0",
        "page_size=1000",
        "cursor=not-a-cursor",
        # Well-formed base64 JSON with values of the wrong type.
        "cursor=WyJub3QtYS1kYXRlIiwieCJd",
        "page_size=%C2%B2",  # a superscript two: a digit, not a number
    ],
)
def test_bad_filter_and_cursor_values_answer_400_in_json(client, live, query):
    status, body = get_json(client, f"{API}/stories/?{query}")
    assert status == 400
    assert set(body) <= {
        "published_after",
        "updated_after",
        "tag",
        "page_size",
        "cursor",
    }


def test_a_cursor_holding_a_nul_character_answers_400(client, live):
    # ["\u0000", 1]: PostgreSQL text cannot hold it.
    status, _ = get_json(client, f"{API}/topics/?cursor=WyJcdTAwMDAiLCAxXQ")
    assert status == 400


def test_cursor_pages_visit_every_story_once_even_when_times_tie(client):
    stories = publish_some(7)
    same_time = timezone.now() - timedelta(hours=1)
    # Ties on last_published_at are broken by id, so none is skipped.
    Story.objects.filter(pk__in=[s.pk for s in stories[:5]]).update(
        last_published_at=same_time
    )
    seen, url, pages = [], f"{API}/stories/?page_size=3", 0
    while url:
        _, body = get_json(client, url)
        seen += [item["id"] for item in body["results"]]
        url, pages = body["next"], pages + 1
    assert pages == 3
    assert sorted(seen) == sorted(s.pk for s in stories)
    assert seen[2:] == sorted((s.pk for s in stories[:5]), reverse=True)


def test_cursor_keeps_the_filters(client, live):
    publish_some(2, headline="Untagged")
    tagged = publish_some(2)
    for story in tagged:
        story.tags.add("Defence")
        services.publish_story(story=story, by=live.live_revision.created_by)
    _, first = get_json(client, f"{API}/stories/?tag=defence&page_size=2")
    _, second = get_json(client, first["next"].removeprefix("http://127.0.0.1:8000"))
    assert "tag=defence" in first["next"]
    assert [item["id"] for item in second["results"]] == [live.pk]


def test_topic_faq_outlet_and_tag_endpoints(client, live):
    _, topics = get_json(client, f"{API}/topics/")
    _, topic = get_json(client, f"{API}/topics/japan/")
    _, faqs = get_json(client, f"{API}/faqs/")
    faq_slug = faqs["results"][0]["slug"]
    _, faq = get_json(client, f"{API}/faqs/{faq_slug}/")
    _, outlets = get_json(client, f"{API}/outlets/")
    _, outlet = get_json(client, f"{API}/outlets/example-gazette/")
    _, tags = get_json(client, f"{API}/tags/")
    assert [t["slug"] for t in topics["results"]] == ["japan"]
    assert topic["biography"] == "<p>A longer account of their life.</p>"
    assert topic["stories_url"].endswith("/api/v1/stories/?topic=japan")
    assert faq["answer"] == "<p>Because it does.</p>"
    assert [o["slug"] for o in outlets["results"]] == ["example-gazette"]
    assert outlet["homepage"] == "https://gazette.example"
    assert tags["results"] == [
        {
            "name": "Defence",
            "slug": "defence",
            "url": "http://127.0.0.1:8000/tags/defence/",
            "stories_url": "http://127.0.0.1:8000/api/v1/stories/?tag=defence",
        }
    ]


def test_things_no_published_story_shows_are_not_listed(client, live):
    EntityFactory(name="Korea")
    FAQFactory(question="Unlinked?")
    OutletFactory(name="Uncited Times")
    for name in ("topics", "faqs", "outlets"):
        _, body = get_json(client, f"{API}/{name}/")
        assert len(body["results"]) == 1, name
    assert client.get(f"{API}/topics/korea/").status_code == 404
    assert client.get(f"{API}/outlets/uncited-times/").status_code == 404


@pytest.mark.parametrize(
    "state", ["draft", "in_review", "approved", "scheduled", "withdrawn", "archived"]
)
def test_unpublished_story_is_a_404_indistinguishable_from_none(
    client, live, editor, state
):
    hidden = StoryFactory(headline="Hidden headline")
    if state in ("withdrawn", "archived"):
        services.publish_story(story=hidden, by=editor)
        services.unpublish_story(story=hidden, by=editor, reason="x")
        if state == "archived":
            services.take_action(story=hidden, action="archive", by=editor)
    elif state != "draft":
        Story.objects.filter(pk=hidden.pk).update(
            status=state, scheduled_at=timezone.now()
        )
    hidden_response = client.get(f"{API}/stories/{hidden.slug}/")
    nothing_response = client.get(f"{API}/stories/no-such-story/")
    assert hidden_response.status_code == nothing_response.status_code == 404
    assert hidden_response.content == nothing_response.content
    _, body = get_json(client, f"{API}/stories/")
    assert [item["id"] for item in body["results"]] == [live.pk]


def test_other_addresses_and_methods_answer_in_json(client, live):
    status, body = get_json(client, f"{API}/no-such-endpoint/")
    assert (status, body) == (404, {"detail": "Not found."})
    assert client.get(f"{API}/stories").url == f"{API}/stories/"
    response = client.post(f"{API}/stories/")
    assert response.status_code == 405
    assert response.json()["detail"]


def test_responses_carry_page_caching_and_answer_conditional_requests(client, live):
    for url in (f"{API}/stories/{live.public_slug}/", f"{API}/stories/?tag=defence"):
        response = client.get(url)
        control = response["Cache-Control"]
        assert "public" in control and "max-age=60" in control, url
        assert "s-maxage=300" in control and "stale-while-revalidate=600" in control
        again = client.get(url, HTTP_IF_NONE_MATCH=response["ETag"])
        assert again.status_code == 304, url


def test_story_detail_has_last_modified(client, live):
    response = client.get(f"{API}/stories/{live.public_slug}/")
    assert response["Last-Modified"]


def test_any_origin_may_read_the_api_without_credentials(client, live):
    response = client.get(f"{API}/stories/", HTTP_ORIGIN="https://app.example")
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "ETag" in response["Access-Control-Expose-Headers"]
    assert not response.has_header("Access-Control-Allow-Credentials")
    preflight = client.options(
        f"{API}/stories/",
        HTTP_ORIGIN="https://app.example",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="if-none-match",
    )
    assert preflight.status_code == 204
    assert preflight["Access-Control-Allow-Methods"] == "GET, HEAD, OPTIONS"
    assert "If-None-Match" in preflight["Access-Control-Allow-Headers"]


def test_cors_is_for_reading_the_api_only(client, live):
    page = client.get(live.get_absolute_url(), HTTP_ORIGIN="https://app.example")
    post = client.post(f"{API}/stories/", HTTP_ORIGIN="https://app.example")
    assert not page.has_header("Access-Control-Allow-Origin")
    assert not post.has_header("Access-Control-Allow-Origin")


def test_a_client_over_the_rate_limit_gets_429_with_retry_after(client, live, settings):
    settings.API_RATE_LIMIT = 3
    for _ in range(3):
        assert client.get(f"{API}/tags/").status_code == 200
    response = client.get(f"{API}/stories/")
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert response.json()["detail"]
    assert response["Cache-Control"] == "no-store"
    other = client.get(f"{API}/stories/", REMOTE_ADDR="192.0.2.7")
    assert other.status_code == 200


def test_rate_limit_counts_the_address_the_tls_proxy_saw(client, live, settings):
    settings.API_RATE_LIMIT = 1
    settings.BEHIND_TLS_PROXY = True
    first = client.get(f"{API}/tags/", HTTP_X_FORWARDED_FOR="198.51.100.1")
    # A forged left-hand entry does not make a new client.
    second = client.get(
        f"{API}/tags/", HTTP_X_FORWARDED_FOR="203.0.113.9, 198.51.100.1"
    )
    third = client.get(f"{API}/tags/", HTTP_X_FORWARDED_FOR="198.51.100.2")
    assert [r.status_code for r in (first, second, third)] == [200, 429, 200]


def test_requests_are_served_uncounted_when_redis_fails(
    client, live, settings, monkeypatch
):
    import redis

    from stories.api import throttling

    def fail(key):
        raise redis.ConnectionError("down")

    settings.API_RATE_LIMIT = 1
    monkeypatch.setattr(throttling, "_count", fail)
    for _ in range(3):
        assert client.get(f"{API}/tags/").status_code == 200


def test_rate_limit_zero_means_none(client, live, settings):
    settings.API_RATE_LIMIT = 0
    for _ in range(5):
        assert client.get(f"{API}/tags/").status_code == 200


def _api_urls(story, faq):
    return [
        f"{API}/stories/",
        f"{API}/stories/?tag=defence&topic=japan&outlet=example-gazette"
        "&author=reporter&published_after=2000-01-01",
        f"{API}/stories/{story.public_slug}/",
        f"{API}/topics/",
        f"{API}/topics/japan/",
        f"{API}/faqs/",
        f"{API}/faqs/{faq.slug}/",
        f"{API}/outlets/",
        f"{API}/outlets/example-gazette/",
        f"{API}/tags/",
    ]


# Each list: one query for its page. The story: the story with its live
# revision, its corrections and updates, its questions' answers.
BUDGETS = {"/stories/": 1, "/topics/": 1, "/faqs/": 1, "/outlets/": 1, "/tags/": 1}


def test_query_counts_do_not_grow_with_content(
    client, live, editor, reporter, django_assert_max_num_queries
):
    faq = live.faqs.get()
    japan = live.live_revision.entities.get()
    gazette = live.source_summaries.get().outlet

    def publish_more(n):
        for _ in range(n):
            story = StoryFactory(entities=[japan, EntityFactory()], faqs=[faq])
            story.tags.add("Defence", f"tag-{story.pk}")
            story.authors.add(reporter)
            SourceSummary.objects.create(story=story, outlet=gazette, summary="x")
            SourceSummary.objects.create(
                story=story, outlet=OutletFactory(), summary="y"
            )
            services.publish_story(story=story, by=editor)
            services.publish_story(
                story=story, by=editor, correction_kind="update", correction_text="z"
            )

    publish_more(2)
    counts = {}
    for url in _api_urls(live, faq):
        with django_assert_max_num_queries(10) as few:
            assert client.get(url).status_code == 200, url
        counts[url] = len(few)
    publish_more(27)
    for url in _api_urls(live, faq):
        budget = 3 if url.endswith(f"/{live.public_slug}/") else 1
        with django_assert_max_num_queries(budget) as many:
            assert client.get(url).status_code == 200, url
        assert len(many) == counts[url], url


def test_schema_is_valid_openapi_and_lists_every_endpoint(schema):
    validate_schema(schema)
    routed = {
        f"/api/v1/{pattern.pattern}".replace("<slug:slug>", "{slug}")
        for pattern in _api_patterns()
        if "slug" in str(pattern.pattern) or str(pattern.pattern).endswith("/")
    } - {"/api/v1/schema/"}
    assert set(schema["paths"]) == routed
    assert all(set(operations) == {"get"} for operations in schema["paths"].values())


def _api_patterns():
    resolver = get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver) and str(entry.pattern) == "api/v1/":
            return [p for p in entry.url_patterns if isinstance(p, URLPattern)]
    raise AssertionError("no api/v1/ in the URLconf")


def test_schema_documents_rich_text_as_sanitised_html(schema):
    body = schema["components"]["schemas"]["Section"]["properties"]["body"]
    assert "sanitised" in body["description"] and "HTML" in body["description"]


def test_every_response_matches_its_schema(client, live, editor, schema):
    services.publish_story(
        story=live, by=editor, correction_kind="clarification", correction_text="c"
    )
    for url in _api_urls(live, live.faqs.get()):
        response = client.get(url)
        path = url.split("?")[0]
        template = _template_for(schema, path)
        described = schema["paths"][template]["get"]["responses"]["200"]
        body_schema = described["content"]["application/json"]["schema"]
        validator = Draft202012Validator(
            {**body_schema, "components": schema["components"]}
        )
        errors = [e.message for e in validator.iter_errors(response.json())]
        assert errors == [], url


def test_error_responses_match_their_schema(client, schema):
    response = client.get(f"{API}/stories/no-such-story/")
    described = schema["paths"]["/api/v1/stories/{slug}/"]["get"]["responses"]["404"]
    body_schema = described["content"]["application/json"]["schema"]
    validator = Draft202012Validator(
        {**body_schema, "components": schema["components"]}
    )
    assert list(validator.iter_errors(response.json())) == []


def _template_for(schema, path):
    for template in schema["paths"]:
        prefix, _, suffix = template.partition("{slug}")
        if template == path or (
            suffix
            and path.startswith(prefix)
            and path.endswith(suffix)
            and "/" not in path[len(prefix) : -len(suffix)]
        ):
            return template
    raise AssertionError(f"{path} is not in the schema")


def test_schema_is_json_at_a_stable_address(client):
    response = client.get(f"{API}/schema/")
    assert response.status_code == 200
    assert json.loads(response.content)["openapi"].startswith("3.1")
