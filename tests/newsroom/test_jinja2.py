"""The reader site's Jinja2 environment behaves as Django's templates did."""

from datetime import UTC, datetime

import jinja2
import pytest
from django.template import engines
from django.urls import set_script_prefix
from django.utils import timezone, translation

from newsroom.jinja2 import environment


def render(source, **context):
    return engines["jinja2"].from_string(source).render(context)


def test_a_missing_value_renders_as_nothing_even_with_debug_undefined():
    # Django passes DebugUndefined when DEBUG is on; pages must not change.
    env = environment(undefined=jinja2.DebugUndefined)
    assert env.from_string("[{{ story.missing.deeper }}]").render() == "[]"


def test_remembered_urls_follow_the_script_prefix():
    assert render("{{ url('stories:home') }}") == "/"
    set_script_prefix("/news/")
    try:
        assert render("{{ url('stories:home') }}") == "/news/"
    finally:
        set_script_prefix("/")


def test_a_pages_urls_follow_its_requests_script_prefix(rf):
    """With a request, url() is bound to its prefix once per render."""
    page = engines["jinja2"].from_string("{{ url('stories:home') }}")
    assert page.render({}, rf.get("/")) == "/"
    set_script_prefix("/news/")
    try:
        assert page.render({}, rf.get("/")) == "/news/"
    finally:
        set_script_prefix("/")
    assert page.render({}, rf.get("/")) == "/"


def test_dates_show_in_the_newsrooms_time_zone():
    moment = datetime(2026, 11, 27, 23, 30, tzinfo=UTC)
    with timezone.override("Asia/Tokyo"):
        assert render('{{ d|date("j F Y, H:i T") }}', d=moment) == (
            "28 November 2026, 08:30 JST"
        )


def test_remembered_dates_follow_the_time_zone_format_and_language():
    moment = datetime(2026, 11, 27, 23, 30, tzinfo=UTC)
    template = '{{ d|date("j F Y, H:i T") }}'
    with timezone.override("UTC"):
        assert render(template, d=moment) == "27 November 2026, 23:30 UTC"
    with timezone.override("America/New_York"):
        assert render(template, d=moment) == "27 November 2026, 18:30 EST"
        assert render('{{ d|date("j F Y") }}', d=moment) == "27 November 2026"
    with timezone.override("UTC"):
        assert render(template, d=moment) == "27 November 2026, 23:30 UTC"
    march = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    assert render('{{ d|date("j F") }}', d=march) == "2 March"
    with translation.override("de"):
        assert render('{{ d|date("j F") }}', d=march) == "2 März"


def test_output_is_escaped():
    assert render("{{ text }}", text="<script>") == "&lt;script&gt;"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Short.",
        "x" * 30,
        "x" * 31,
        "Cafe\u0301 au lait " * 3,  # combining accents count as nothing
        "Cafe\u0301",  # fits once composed
        "  spaced\n out\t words  ",
        "one two three four five six seven",
        "<b>Tags</b> & ampersands",
        "It’s the “long” one — " * 3,  # past U+0300, none combining
        "e\u0301" * 40,  # combining marks only past the cut
        "Cafe\u0301 " + "x" * 40,  # decomposed: composed before counting
        "x" * 28 + "a\u0308\u0301 yz",  # two marks, one composable
    ],
)
@pytest.mark.parametrize("length", [0, 1, 5, 30])
def test_truncation_is_djangos(text, length):
    from django.template import defaultfilters

    from newsroom import jinja2 as filters

    assert filters.truncatechars(text, length) == defaultfilters.truncatechars(
        text, length
    )
    assert filters.truncatewords(text, length) == defaultfilters.truncatewords(
        text, length
    )


def test_remembered_static_addresses_follow_the_static_settings(settings):
    from newsroom.addresses import static_address

    first = static_address("css/site.css")
    settings.STATIC_URL = "/assets-elsewhere/"
    moved = static_address("css/site.css")
    assert moved.startswith("/assets-elsewhere/") and moved != first
