"""Update lines, and the "What changed since you last read" box."""

import re
import xml.etree.ElementTree as ET
from datetime import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from stories import services
from stories.models import Correction, Section, Story, StoryRevision
from stories.since_last_read import COOKIE_NAME, SEEN_STORIES
from tests.newsroom.test_pagecache import get, redis_cache  # noqa: F401
from tests.stories.factories import StoryFactory
from tests.stories.test_preview_and_corrections import json_ld

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def live(editor):
    story = StoryFactory(headline="Japan raises defence spending", sections=3)
    services.publish_story(story=story, by=editor)
    story.refresh_from_db()
    return story


def republish(story, editor, **notes):
    services.publish_story(story=Story.objects.get(pk=story.pk), by=editor, **notes)
    story.refresh_from_db()
    return story.live_revision_id


def box_url(story, shown=None):
    """The box's address on story's page, showing revision shown (the live
    one unless given)."""
    return reverse(
        "stories:since_last_read",
        args=[story.public_slug, story.pk, shown or story.live_revision_id],
    )


def box(client, story, seen=None):
    """The box's response for a reader whose cookie says they last saw
    revision seen of story (no cookie when seen is None)."""
    if seen is not None:
        client.cookies[COOKIE_NAME] = seen
    else:
        client.cookies.pop(COOKIE_NAME, None)
    return client.get(box_url(story))


def edit_section(story, position, **fields):
    Section.objects.filter(story=story, position=position).update(**fields)


# Update lines


def test_republishing_with_an_update_line_records_it_dated_with_the_republication(
    live, editor
):
    republish(live, editor, update_text="  Added Tokyo's\nresponse. ")
    update = Correction.objects.updates().get(story=live)
    assert update.text == "Added Tokyo's response."
    assert update.revision_id == live.live_revision_id
    assert update.created_at == live.last_published_at


def test_a_republication_can_carry_an_update_line_and_a_correction_at_once(
    live, editor
):
    republish(
        live,
        editor,
        update_text="Added Tokyo's response.",
        correction_kind="correction",
        correction_text="The budget is for 2027.",
    )
    notes = {c.kind: c.text for c in Correction.objects.filter(story=live)}
    assert notes == {
        "update": "Added Tokyo's response.",
        "correction": "The budget is for 2027.",
    }


def test_an_update_line_needs_a_live_story_being_republished(editor):
    story = StoryFactory()
    with pytest.raises(ValidationError):
        services.publish_story(story=story, by=editor, update_text="Too early.")
    assert not Correction.objects.exists()


def test_an_update_line_is_one_line_of_bounded_length(live, editor):
    with pytest.raises(ValidationError):
        republish(live, editor, update_text="x" * 301)


def test_the_republish_form_takes_an_update_line_and_a_correction(client, editor, live):
    client.force_login(editor)
    url = reverse("admin:stories_story_action", args=[live.pk, "republish"])
    form = client.get(url).content.decode()
    assert 'name="update_text"' in form
    # Updates have their own line: the correction menu no longer offers one.
    assert 'value="update"' not in form
    response = client.post(
        url,
        {
            "version": live.version,
            "update_text": "Added Tokyo's response.",
            "correction_kind": "clarification",
            "correction_text": "The figure is in yen.",
        },
    )
    assert response.status_code == 302
    kinds = sorted(Correction.objects.filter(story=live).values_list("kind", flat=True))
    assert kinds == ["clarification", "update"]


def test_story_page_lists_updates_newest_first_apart_from_corrections(
    client, live, editor
):
    republish(live, editor, update_text="First update: the cabinet met.")
    republish(
        live,
        editor,
        update_text="Second update: Tokyo responded.",
        correction_kind="correction",
        correction_text="The minister's name was misspelt.",
    )
    html = client.get(live.get_absolute_url()).content.decode()
    updates = html[html.index('<h2 id="updates">Updated</h2>') :]
    updates = updates[: updates.index("</section>")]
    assert updates.index("Second update") < updates.index("First update")
    assert "misspelt" not in updates
    assert f'<time datetime="{live.last_published_at.isoformat()}' in updates
    corrections = html[html.index('<h2 id="corrections">Corrections</h2>') :]
    assert "misspelt" in corrections and "Tokyo responded" not in corrections
    assert '<a href="#updates">what was added</a>' in html


def test_corrections_page_lists_corrections_and_clarifications_only(
    client, live, editor
):
    republish(
        live,
        editor,
        update_text="Added Tokyo's response.",
        correction_kind="clarification",
        correction_text="The figure is in yen.",
    )
    html = client.get("/corrections/").content.decode()
    assert "The figure is in yen." in html
    assert "Added Tokyo" not in html


def test_public_updates_for_a_story_are_newest_first_and_gone_once_withdrawn(
    live, editor
):
    republish(live, editor, update_text="Older.")
    republish(live, editor, update_text="Newer.")
    updates = Correction.objects.public_updates_for(live)
    assert [u.text for u in updates] == ["Newer.", "Older."]
    services.unpublish_story(story=live, by=editor, reason="Legal")
    assert not Correction.objects.public_updates_for(live).exists()


def test_json_ld_date_modified_is_the_latest_update(client, live, editor):
    republish(live, editor, update_text="Added Tokyo's response.")
    update = Correction.objects.public_updates_for(live).get()
    data = json_ld(client.get(live.get_absolute_url()).content.decode(), "NewsArticle")
    assert data["dateModified"] == update.created_at.isoformat()
    assert data["datePublished"] == live.first_published_at.isoformat()


def test_feed_entries_are_updated_when_an_update_line_is_published(
    client, live, editor
):
    def updated():
        atom = ET.fromstring(client.get("/feeds/atom/").content)
        text = atom.find(f"{ATOM}entry").findtext(f"{ATOM}updated")
        return datetime.fromisoformat(text)

    assert updated() == live.first_published_at
    republish(live, editor)  # a tidy-up: nothing new for feed readers
    assert updated() == live.first_published_at
    republish(live, editor, update_text="Added Tokyo's response.")
    assert updated() == Correction.objects.public_updates_for(live).get().created_at


# What changed since you last read


def test_returning_reader_sees_updates_and_changed_sections_since_their_revision(
    client, live, editor
):
    republish(live, editor, update_text="Before the reader's visit.")
    seen = live.live_revision_id
    edit_section(live, 0, body="<p>Analysis 1, now with Tokyo's response.</p>")
    edit_section(live, 2, heading="A new angle")
    republish(live, editor, update_text="Added Tokyo's response.")
    Story.objects.filter(pk=live.pk).update(summary="Tokyo has now responded.")
    republish(live, editor, update_text="Rewrote the summary.")

    response = box(client, live, f"{live.pk}:{seen}")
    html = response.content.decode()
    assert "What changed since you last read" in html
    assert html.index("Rewrote the summary.") < html.index("Added Tokyo")
    assert "Before the reader" not in html
    changed = re.findall(r"<li>(?:<a [^>]*>)?([^<]+)(?:</a>)? \((\w+)\)</li>", html)
    assert changed == [
        ("What\u2019s happened", "changed"),
        ("Angle 1", "changed"),
        ("A new angle", "added"),
        ("Angle 3", "removed"),
    ]
    assert f'href="{live.get_absolute_url()}#analysis-1" target="_top"' in html
    cookie = response.cookies[COOKIE_NAME]
    assert cookie.value == f"{live.pk}:{live.live_revision_id}"


def test_first_time_and_up_to_date_readers_see_no_box(client, live, editor):
    first = box(client, live)
    assert first.status_code == 200
    assert "since-last-read-heading" not in first.content.decode()
    assert first.cookies[COOKIE_NAME].value == f"{live.pk}:{live.live_revision_id}"
    again = box(client, live, f"{live.pk}:{live.live_revision_id}")
    assert "since-last-read-heading" not in again.content.decode()


def test_a_republication_without_changes_shows_no_box(client, live, editor):
    seen = live.live_revision_id
    republish(live, editor)
    html = box(client, live, f"{live.pk}:{seen}").content.decode()
    assert "since-last-read-heading" not in html


@pytest.mark.parametrize(
    "value",
    [
        "garbage",
        "caf\xe9",
        "1:2:3-abc:def--",
        "-1:-5",
        "99999999999999999999:1",
        "1:1-" * 500,
        '"<script>alert(1)</script>"',
    ],
)
def test_a_forged_or_garbage_cookie_is_harmless(client, live, editor, value):
    response = box(client, live, value)
    assert response.status_code == 200
    assert "since-last-read-heading" not in response.content.decode()
    assert response.cookies[COOKIE_NAME].value.endswith(
        f"{live.pk}:{live.live_revision_id}"
    )


def test_a_cookie_naming_a_draft_or_another_storys_revision_shows_nothing(
    client, live, editor, reporter
):
    # A working copy saved between two publications, with text readers never
    # saw; then the edit is undone and the story republished.
    edit_section(live, 0, heading="Unpublished draft heading")
    draft = services.record_save(story=Story.objects.get(pk=live.pk), by=editor)
    edit_section(live, 0, heading="Angle 1")
    other = StoryFactory(headline="Another story", published=True)
    republish(live, editor, update_text="Added Tokyo's response.")
    assert draft.kind == StoryRevision.Kind.SAVE and draft.pk < live.live_revision_id
    for seen in (draft.pk, other.live_revision_id):
        html = box(client, live, f"{live.pk}:{seen}").content.decode()
        assert "since-last-read-heading" not in html
        assert "Unpublished draft heading" not in html


def test_the_cookie_is_first_party_http_only_lax_bounded_and_secure_off_debug(
    client, editor, settings
):
    settings.SESSION_COOKIE_SECURE = True
    stories = [StoryFactory(published=True) for _ in range(SEEN_STORIES + 5)]
    for story in stories:
        response = client.get(box_url(story))
    cookie = response.cookies[COOKIE_NAME]
    assert cookie["httponly"] and cookie["secure"] and cookie["samesite"] == "Lax"
    assert cookie["path"] == "/stories/" and not cookie["domain"]
    pairs = cookie.value.split("-")
    assert len(pairs) == SEEN_STORIES
    assert pairs[-1] == f"{stories[-1].pk}:{stories[-1].live_revision_id}"
    assert f"{stories[0].pk}:{stories[0].live_revision_id}" not in pairs
    assert len(cookie.OutputString()) < 1000


def test_the_box_is_private_and_frameable_by_this_site_only(client, live):
    response = client.get(box_url(live))
    assert "private" in response["Cache-Control"]
    assert "no-store" in response["Cache-Control"]
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in response["Content-Security-Policy"]
    page = client.get(live.get_absolute_url())
    assert page["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in page["Content-Security-Policy"]


def test_an_address_with_ids_no_row_can_have_is_refused(client, live):
    client.cookies[COOKIE_NAME] = f"{live.pk}:{live.live_revision_id}"
    url = f"/stories/{live.slug}/since-you-last-read/{live.pk}/{10**20}/"
    assert client.get(url).status_code == 404


def test_the_box_of_a_story_readers_cannot_see_shows_nothing(client, live, editor):
    seen = live.live_revision_id
    republish(live, editor, update_text="Added Tokyo's response.")
    services.unpublish_story(story=live, by=editor, reason="Legal")
    html = box(client, live, f"{live.pk}:{seen}").content.decode()
    assert "since-last-read-heading" not in html and "Tokyo" not in html


def test_the_box_compares_the_revision_the_page_shows(client, live, editor):
    """A page a cache served from before the latest republication asks for
    the changes up to the revision it shows, and the cookie records that."""
    first = live.live_revision_id
    republish(live, editor, update_text="Second version.")
    second = live.live_revision_id
    republish(live, editor, update_text="Third version.")
    client.cookies[COOKIE_NAME] = f"{live.pk}:{first}"
    response = client.get(box_url(live, shown=second))
    html = response.content.decode()
    assert "Second version." in html and "Third version." not in html
    assert response.cookies[COOKIE_NAME].value == f"{live.pk}:{second}"


def test_a_reader_who_saw_a_later_revision_keeps_it(client, live, editor):
    first = live.live_revision_id
    republish(live, editor, update_text="Second version.")
    client.cookies[COOKIE_NAME] = f"{live.pk}:{live.live_revision_id}"
    response = client.get(box_url(live, shown=first))
    assert "since-last-read-heading" not in response.content.decode()
    assert response.cookies[COOKIE_NAME].value == f"{live.pk}:{live.live_revision_id}"


def test_story_page_embeds_the_box_in_a_titled_frame_that_works_without_javascript(
    client, live
):
    html = client.get(live.get_absolute_url()).content.decode()
    assert (
        f'<noscript><iframe class="since-last-read-frame" src="{box_url(live)}" '
        'title="What changed since you last read"></iframe></noscript>'
    ) in html
    assert "/static/stories/since_last_read.js" in html


def test_story_page_is_the_same_bytes_for_readers_with_different_cookies(
    client, live, editor
):
    seen = live.live_revision_id
    republish(live, editor, update_text="Added Tokyo's response.")
    client.cookies[COOKIE_NAME] = f"{live.pk}:{seen}"
    returning = client.get(live.get_absolute_url())
    client.cookies[COOKIE_NAME] = f"{live.pk}:{live.live_revision_id}"
    up_to_date = client.get(live.get_absolute_url())
    assert returning.content == up_to_date.content
    assert not returning.cookies and not up_to_date.cookies


def test_cached_story_page_never_mixes_readers(
    redis_cache,  # noqa: F811
    live,
    editor,
    django_capture_on_commit_callbacks,
):
    seen = live.live_revision_id
    with django_capture_on_commit_callbacks(execute=True):
        republish(live, editor, update_text="Added Tokyo's response.")
    url = live.get_absolute_url()
    _, first_headers, first = get(url, HTTP_COOKIE=f"{COOKIE_NAME}={live.pk}:{seen}")
    _, headers, second = get(url, HTTP_COOKIE=f"{COOKIE_NAME}={live.pk}:1")
    assert headers["X-Cache"] == "HIT"
    assert first == second
    assert "Set-Cookie" not in first_headers and "Set-Cookie" not in headers
    # The box itself is never stored: each reader gets their own.
    box_path = box_url(live)
    _, box_headers, returning = get(
        box_path, HTTP_COOKIE=f"{COOKIE_NAME}={live.pk}:{seen}"
    )
    _, again_headers, fresh = get(box_path)
    assert "X-Cache" not in box_headers and "X-Cache" not in again_headers
    assert "Added Tokyo" in returning and "Added Tokyo" not in fresh


def test_box_query_count_is_flat(client, live, editor, django_assert_max_num_queries):
    seen = live.live_revision_id
    for n in range(10):
        Section.objects.create(
            story=live, position=10 + n, heading=f"Extra {n}", body="<p>x</p>"
        )
        republish(live, editor, update_text=f"Update {n}.")
    client.cookies[COOKIE_NAME] = f"{live.pk}:{seen}"
    # the story, the two revisions compared, the updates between them
    with django_assert_max_num_queries(3):
        html = client.get(box_url(live)).content.decode()
    assert "Update 9." in html and "Extra 9" in html


def test_first_and_up_to_date_visits_to_the_box_cost_no_query(
    client, live, django_assert_num_queries
):
    with django_assert_num_queries(0):
        box(client, live)
        box(client, live, f"{live.pk}:{live.live_revision_id}")
