"""Remembered addresses are the addresses Django's reverse() gives."""

import pytest
from django.test import override_settings
from django.urls import reverse, set_script_prefix

from newsroom.addresses import address
from tests.stories.factories import StoryFactory

urlpatterns = []  # an URLconf of this module: nothing routes here


def test_address_is_reverse():
    assert address("stories:detail", "a-slug") == reverse(
        "stories:detail", kwargs={"slug": "a-slug"}
    )


def test_address_follows_the_script_prefix():
    before = address("stories:detail", "a-slug")
    set_script_prefix("/news/")
    try:
        assert address("stories:detail", "a-slug") == "/news" + before
    finally:
        set_script_prefix("/")


def test_address_follows_the_urlconf():
    from django.urls import NoReverseMatch

    assert address("stories:detail", "a-slug")  # remembered for this URLconf
    with override_settings(ROOT_URLCONF=__name__), pytest.raises(NoReverseMatch):
        address("stories:detail", "a-slug")


@pytest.mark.django_db
def test_story_address_follows_its_public_slug():
    story = StoryFactory(published=True)
    first = story.get_absolute_url()
    story.public_slug = "renamed"
    assert story.get_absolute_url() == first.replace(story.slug, "renamed")
