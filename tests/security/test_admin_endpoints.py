"""Admin endpoints check permissions on the server, whatever a crafted
request asks for: autocompletes, uploads, and the media they produce."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from tests.entities.factories import EntityFactory
from tests.images import png_upload
from tests.stories.factories import FAQFactory, StoryFactory

pytestmark = pytest.mark.django_db
AUTOCOMPLETE = "/admin/autocomplete/"


def autocomplete(client, model_name, field_name, term="", app_label="stories"):
    return client.get(
        AUTOCOMPLETE,
        {
            "term": term,
            "app_label": app_label,
            "model_name": model_name,
            "field_name": field_name,
        },
    )


@pytest.fixture
def librarian(django_user_model):
    """Staff who look after the outlet registry and nothing else."""
    user = django_user_model.objects.create_user(
        "librarian", password="correct-horse-battery-staple", is_staff=True
    )
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_outlet", "change_outlet"])
    )
    return user


@pytest.fixture
def draft():
    return StoryFactory(headline="Unannounced merger of two ministries")


# Every foreign key that leads to a story, none of which a form searches.
STORY_KEYS = [
    ("correction", "story"),
    ("storyrevision", "story"),
    ("previewlink", "story"),
    ("storytransition", "story"),
    ("section", "story"),
]


@pytest.mark.parametrize(("model_name", "field_name"), STORY_KEYS)
def test_no_crafted_autocomplete_lists_story_headlines(
    client, librarian, reporter, draft, model_name, field_name
):
    for user in (librarian, reporter):
        client.force_login(user)
        response = autocomplete(client, model_name, field_name, "merger")
        assert response.status_code == 403, (user, model_name)
        assert "merger" not in response.content.decode()


def test_anonymous_autocomplete_is_sent_to_sign_in(client, draft):
    response = autocomplete(client, "storyentity", "entity")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_a_declared_autocomplete_needs_the_form_it_belongs_to(client, librarian):
    """Topic search is part of the story form: staff who may not open
    stories may not use it, even with topic permissions."""
    EntityFactory(name="Japan")
    librarian.user_permissions.add(Permission.objects.get(codename="view_entity"))
    client.force_login(librarian)
    assert autocomplete(client, "storyentity", "entity", "Jap").status_code == 403
    # The outlet search belongs to the story form too, not to outlets' pages.
    response = autocomplete(client, "sourcesummary", "outlet", "Times")
    assert response.status_code == 403


def test_declared_autocompletes_work_for_those_who_write_stories(client, reporter):
    EntityFactory(name="Japan")
    client.force_login(reporter)
    response = autocomplete(client, "storyentity", "entity", "Jap")
    assert response.status_code == 200
    assert [r["text"] for r in response.json()["results"]] == ["Japan"]
    # A field the story admin declares itself, not through an inline.
    FAQFactory(question="Why is Japan spending more?")
    response = autocomplete(client, "story", "faqs", "Japan")
    assert response.status_code == 200
    assert len(response.json()["results"]) == 1


def test_uploaded_images_are_served_with_their_type_and_nosniff(
    client, reporter, settings
):
    settings.SERVE_MEDIA = True
    client.force_login(reporter)
    url = client.post(
        reverse("stories:editor_image_upload"), {"upload": png_upload()}
    ).json()["url"]
    client.logout()
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "default-src" in response["Content-Security-Policy"]
    assert "immutable" in response["Cache-Control"]  # names are never reused
    settings.SERVE_MEDIA = False  # a web server in front serves them instead
    assert client.get(url).status_code == 404


def test_viewing_stories_is_not_enough_to_use_their_searches(client, django_user_model):
    """A read-only account sees stories without the form's search widgets."""
    EntityFactory(name="Japan")
    auditor = django_user_model.objects.create_user("auditor", is_staff=True)
    auditor.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_story", "view_entity"])
    )
    client.force_login(auditor)
    assert autocomplete(client, "storyentity", "entity", "Jap").status_code == 403
