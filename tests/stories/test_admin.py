import pytest
from django.urls import reverse

from stories.models import Outlet, Story
from tests.entities.factories import EntityFactory
from tests.stories.factories import FAQFactory, StoryFactory

pytestmark = pytest.mark.django_db

ADD_URL = reverse("admin:stories_story_add")


def management(prefix, total):
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def full_story_form(**overrides):
    outlet = Outlet.objects.get(slug="japan-times")
    entity = EntityFactory(name="Japan")
    faq = FAQFactory()
    data = {
        "headline": "Japan raises defence spending",
        "slug": "",
        "summary": "Japan will spend more on defence, sooner.",
        "tags": "defence, japan",
        "papers_overview": "<p>Papers agreed.</p>",
        "background": "<p>It began in 2022.</p>",
        "faqs": [faq.pk],
        "hero_image_alt": "",
        "hero_image_caption": "",
        "hero_image_credit": "",
        **management("sections", 2),
        "sections-0-position": "1",
        "sections-0-heading": "Second angle",
        "sections-0-body": "<p>Later.</p>",
        "sections-1-position": "0",
        "sections-1-heading": "First angle",
        "sections-1-body": (
            '<p onclick="steal()">Safe <script>alert(1)</script>text</p>'
        ),
        **management("source_summaries", 1),
        "source_summaries-0-position": "0",
        "source_summaries-0-outlet": str(outlet.pk),
        "source_summaries-0-summary": "It welcomed the move.",
        "source_summaries-0-url": "https://www.japantimes.co.jp/",
        **management("storyentity_set", 1),
        "storyentity_set-0-position": "0",
        "storyentity_set-0-entity": str(entity.pk),
    }
    data.update(overrides)
    return data


def test_journalist_creates_a_draft_with_every_part_on_one_page(client, reporter):
    client.force_login(reporter)
    response = client.post(ADD_URL, full_story_form())
    assert response.status_code == 302, response.context["adminform"].form.errors
    story = Story.objects.get()
    assert story.status == Story.Status.DRAFT
    assert story.slug == "japan-raises-defence-spending"
    assert [s.heading for s in story.sections.all()] == ["First angle", "Second angle"]
    assert story.source_summaries.get().outlet.name == "The Japan Times"
    assert story.entities.get().name == "Japan"
    assert story.faqs.count() == 1
    assert set(story.tags.names()) == {"defence", "japan"}


def test_rich_text_is_sanitised_whatever_the_browser_sent(client, reporter):
    client.force_login(reporter)
    client.post(ADD_URL, full_story_form())
    body = Story.objects.get().sections.get(heading="First angle").body
    assert body == "<p>Safe text</p>"


def test_a_status_field_in_a_crafted_post_is_ignored(client, reporter):
    client.force_login(reporter)
    client.post(ADD_URL, full_story_form(status="published", live_revision="1"))
    story = Story.objects.get()
    assert story.status == Story.Status.DRAFT
    assert story.live_revision is None


def test_hero_image_needs_alt_text(client, reporter):
    from tests.images import png_upload

    client.force_login(reporter)
    response = client.post(ADD_URL, full_story_form(hero_image=png_upload()))
    assert response.status_code == 200
    assert "hero_image_alt" in response.context["adminform"].form.errors
    assert not Story.objects.exists()


def test_hero_image_is_re_encoded_under_a_random_name(client, reporter):
    from tests.images import png_upload

    client.force_login(reporter)
    client.post(
        ADD_URL,
        full_story_form(
            hero_image=png_upload("holiday-photo.png"), hero_image_alt="A harbour"
        ),
    )
    name = Story.objects.get().hero_image.name
    assert name.startswith("heroes/") and "holiday-photo" not in name


def test_a_file_that_is_not_an_image_is_refused(client, reporter):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(reporter)
    fake = SimpleUploadedFile("photo.png", b"<script>alert(1)</script>", "image/png")
    response = client.post(
        ADD_URL, full_story_form(hero_image=fake, hero_image_alt="x")
    )
    assert response.status_code == 200
    assert not Story.objects.exists()


def action_url(story, action):
    return reverse("admin:stories_story_action", args=[story.pk, action])


def test_editor_publishes_from_the_change_page(client, editor):
    story = StoryFactory(status=Story.Status.APPROVED)
    client.force_login(editor)
    page = client.get(reverse("admin:stories_story_change", args=[story.pk]))
    assert action_url(story, "publish") in page.content.decode()
    client.post(action_url(story, "publish"), {"version": story.version})
    story.refresh_from_db()
    assert story.is_live


def test_editor_bulk_publish_reports_stories_that_are_not_ready(client, editor):
    ready = StoryFactory(status=Story.Status.APPROVED)
    incomplete = StoryFactory(summary="", status=Story.Status.APPROVED)
    client.force_login(editor)
    response = client.post(
        reverse("admin:stories_story_changelist"),
        {"action": "publish_selected", "_selected_action": [ready.pk, incomplete.pk]},
        follow=True,
    )
    ready.refresh_from_db()
    incomplete.refresh_from_db()
    assert ready.is_live and not incomplete.is_live
    assert "was not changed: Add a summary" in response.content.decode()


def test_admin_responses_are_never_stored(client, editor):
    client.force_login(editor)
    response = client.get(reverse("admin:stories_story_changelist"))
    assert "no-store" in response["Cache-Control"]


def test_changelist_query_count_is_flat(client, editor, django_assert_max_num_queries):
    for _ in range(25):
        StoryFactory().authors.add(editor)
    client.force_login(editor)
    # session, user, groups and permissions, whether a two-factor app is set
    # up, counts, one page of stories with their authors, filters, and the
    # alerts banner
    with django_assert_max_num_queries(15):
        assert client.get(reverse("admin:stories_story_changelist")).status_code == 200


def test_editor_image_upload_needs_permission_and_a_real_image(client, reporter):
    from tests.images import png_upload

    url = reverse("stories:editor_image_upload")
    assert client.post(url, {"upload": png_upload()}).status_code in (302, 403)
    client.force_login(reporter)
    response = client.post(url, {"upload": png_upload()})
    assert response.status_code == 200
    assert response.json()["url"].endswith(".png")
    from django.core.files.uploadedfile import SimpleUploadedFile

    bad = SimpleUploadedFile("x.png", b"not an image", "image/png")
    assert client.post(url, {"upload": bad}).status_code == 400


def test_new_story_form_credits_the_journalist_and_offers_only_staff(
    client, reporter, django_user_model
):
    django_user_model.objects.create_user(username="outsider")
    client.force_login(reporter)
    form = client.get(ADD_URL).context["adminform"].form
    assert form.initial["authors"] == [reporter.pk]
    assert list(form.fields["authors"].queryset) == [reporter]


def test_journalist_can_search_entities_faqs_and_outlets(client, reporter):
    EntityFactory(name="Japan")
    client.force_login(reporter)
    for model, field in [
        ("storyentity", "entity"),
        ("story", "faqs"),
        ("sourcesummary", "outlet"),
    ]:
        response = client.get(
            reverse("admin:autocomplete"),
            {
                "term": "Jap",
                "app_label": "stories",
                "model_name": model,
                "field_name": field,
            },
        )
        assert response.status_code == 200, (model, field)
