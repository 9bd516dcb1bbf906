import json
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from stories import services
from stories.models import PreviewLink, Story
from tests.stories.factories import StoryFactory

pytestmark = pytest.mark.django_db


def json_ld(html, schema_type):
    """The structured-data item of schema_type on a page."""
    block = re.search(
        r'<script type="application/ld\+json">(.*?)</script>', html, re.S
    ).group(1)
    data = json.loads(block)
    items = data if isinstance(data, list) else [data]
    return next(item for item in items if item["@type"] == schema_type)


@pytest.fixture
def draft(reporter):
    story = StoryFactory(headline="Embargoed draft headline")
    story.authors.add(reporter)
    services.record_save(story=story, by=reporter)
    return story


def share(client, story, hours=24):
    response = client.post(
        reverse("admin:stories_story_share", args=[story.pk]), {"hours": hours}
    )
    return re.search(
        r'value="(http://testserver/preview/[^"]+)"', response.content.decode()
    ).group(1)


def test_preview_button_renders_the_working_copy_in_the_public_template(
    client, reporter, draft
):
    Story.objects.filter(pk=draft.pk).update(headline="Unsaved-to-revision headline")
    client.force_login(reporter)
    response = client.get(reverse("admin:stories_story_preview", args=[draft.pk]))
    html = response.content.decode()
    assert "Unsaved-to-revision headline" in html
    assert "What’s behind the headline?" in html
    assert "no-store" in response["Cache-Control"]


def test_share_link_shows_the_draft_to_someone_without_an_account(
    client, reporter, draft
):
    client.force_login(reporter)
    url = share(client, draft)
    client.logout()
    response = client.get(url)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Embargoed draft headline" in html
    assert '<meta name="robots" content="noindex, nofollow">' in html
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert (
        "no-store" in response["Cache-Control"]
        and "private" in response["Cache-Control"]
    )


def test_share_link_is_pinned_to_the_revision_it_was_made_from(client, reporter, draft):
    client.force_login(reporter)
    url = share(client, draft)
    Story.objects.filter(pk=draft.pk).update(headline="Later rewrite")
    locked = services.lock_story(story_id=draft.pk)
    services.record_save(story=locked, by=reporter)
    html = client.get(url).content.decode()
    assert "Embargoed draft headline" in html and "Later rewrite" not in html


def test_expired_link_shows_nothing(client, reporter, draft):
    client.force_login(reporter)
    url = share(client, draft)
    PreviewLink.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client.get(url)
    assert response.status_code == 404
    assert "Embargoed draft headline" not in response.content.decode()


def test_revoked_link_shows_nothing(client, reporter, draft):
    client.force_login(reporter)
    url = share(client, draft)
    link = PreviewLink.objects.get()
    client.post(reverse("admin:stories_story_revoke_link", args=[draft.pk, link.pk]))
    response = client.get(url)
    assert response.status_code == 404
    assert "Embargoed draft headline" not in response.content.decode()


@pytest.mark.parametrize(
    "tamper",
    [
        lambda token: token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        lambda token: token.replace(":", "x", 1),
        lambda token: "not-a-token",
    ],
)
def test_tampered_link_shows_nothing(client, reporter, draft, tamper):
    client.force_login(reporter)
    url = share(client, draft)
    token = url.rsplit("/preview/", 1)[1].rstrip("/")
    response = client.get(reverse("stories:preview", args=[tamper(token)]))
    assert response.status_code == 404
    assert "Embargoed draft headline" not in response.content.decode()


def test_a_link_for_another_key_cannot_be_forged_without_the_secret(
    client, draft, settings
):
    from django.core import signing

    PreviewLink.objects.create(
        story=draft,
        revision=draft.revisions.first(),
        key="k" * 32,
        expires_at=timezone.now() + timedelta(hours=1),
    )
    forged = signing.dumps(
        {"k": "k" * 32}, key="not-the-secret", salt=services.PREVIEW_SALT
    )
    assert client.get(reverse("stories:preview", args=[forged])).status_code == 404


def test_journalist_who_is_not_an_author_cannot_share(client, draft):
    from tests.stories.test_workflow import _journalist

    client.force_login(_journalist("outsider"))
    response = client.post(
        reverse("admin:stories_story_share", args=[draft.pk]), {"hours": 24}
    )
    assert response.status_code == 403


def test_republishing_with_a_correction_shows_it_to_readers_in_order(client, editor):
    story = StoryFactory(published=True)
    first_published = story.first_published_at
    services.publish_story(
        story=story,
        by=editor,
        correction_kind="correction",
        correction_text="The budget figure was for 2027, not 2026.",
    )
    services.publish_story(
        story=story,
        by=editor,
        correction_kind="clarification",
        correction_text="The cabinet's approval is provisional.",
    )
    html = client.get(story.get_absolute_url()).content.decode()
    assert html.index("The budget figure was for 2027") < html.index("provisional")
    assert '<h2 id="corrections">Corrections</h2>' in html
    story.refresh_from_db()
    assert story.first_published_at == first_published
    data = json_ld(html, "NewsArticle")
    assert data["dateModified"] == story.last_published_at.isoformat()
    assert data["datePublished"] == first_published.isoformat()


def test_corrections_page_lists_all_newest_first_with_links(client, editor):
    older = StoryFactory(published=True)
    newer = StoryFactory(published=True)
    services.publish_story(
        story=older,
        by=editor,
        correction_kind="clarification",
        correction_text="Older note.",
    )
    services.publish_story(
        story=newer,
        by=editor,
        correction_kind="correction",
        correction_text="Newer note.",
    )
    html = client.get(reverse("stories:corrections")).content.decode()
    assert html.index("Newer note.") < html.index("Older note.")
    assert f'href="{newer.get_absolute_url()}"' in html


def test_corrections_of_withdrawn_stories_leave_the_public_list(client, editor):
    story = StoryFactory(published=True)
    services.publish_story(
        story=story,
        by=editor,
        correction_kind="correction",
        correction_text="Withdrawn story's note.",
    )
    services.unpublish_story(story=story, by=editor, reason="Legal")
    assert (
        "Withdrawn story's note."
        not in client.get(reverse("stories:corrections")).content.decode()
    )


def test_a_correction_needs_a_live_story_and_text(editor):
    from django.core.exceptions import ValidationError

    story = StoryFactory()
    with pytest.raises(ValidationError):
        services.publish_story(
            story=story,
            by=editor,
            correction_kind="correction",
            correction_text="First publication cannot carry one.",
        )
    live = StoryFactory(published=True)
    with pytest.raises(ValidationError):
        services.publish_story(story=live, by=editor, correction_kind="correction")


def test_headline_with_script_tag_cannot_break_out_of_json_ld(client):
    story = StoryFactory(headline="</script><script>alert(1)</script>", published=True)
    html = client.get(story.get_absolute_url()).content.decode()
    assert json_ld(html, "NewsArticle")["headline"].startswith("</script>")
    assert "<script>alert(1)" not in html


def test_renamed_story_redirects_from_its_old_address(client, editor):
    story = StoryFactory(published=True)
    old_url = story.get_absolute_url()
    Story.objects.filter(pk=story.pk).update(slug="a-better-address")
    assert client.get(old_url).status_code == 200  # not moved until published
    services.publish_story(story=story, by=editor)
    response = client.get(old_url)
    assert response.status_code == 301
    assert response["Location"] == "/stories/a-better-address/"


def test_preview_links_stop_working_when_the_story_is_withdrawn(
    client, editor, reporter
):
    story = StoryFactory(headline="Soon withdrawn draft")
    story.authors.add(reporter)
    services.publish_story(story=story, by=editor)
    _link, token = services.create_preview_link(story=story, by=editor, hours=24)
    assert client.get(reverse("stories:preview", args=[token])).status_code == 200
    services.unpublish_story(story=story, by=editor, reason="Legal")
    response = client.get(reverse("stories:preview", args=[token]))
    assert (
        response.status_code == 404
        and "Soon withdrawn draft" not in response.content.decode()
    )
