import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from entities.models import Entity
from stories.models import Story


def test_demo_set_up_refuses_to_run_with_debug_off(settings, db):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("setup_demo")
    assert not get_user_model().objects.exists()


@pytest.mark.django_db
def test_demo_set_up_is_safe_to_run_twice(settings, capsys):
    settings.DEBUG = True
    call_command("setup_demo")
    call_command("setup_demo")
    out = capsys.readouterr().out
    assert Story.objects.count() == 3
    assert Story.objects.published().count() == 2
    names = set(Entity.objects.values_list("name", flat=True))
    assert {"Pete Hegseth", "Sanae Takaichi", "Donald Trump", "Japan"} <= names
    journalist = get_user_model().objects.get(username="journalist")
    editor = get_user_model().objects.get(username="editor")
    assert not journalist.has_perm("stories.publish_story")
    assert editor.has_perm("stories.publish_story")
    assert "/admin/" in out and "journalist-demo-password" in out


def test_migrations_create_no_accounts_or_stories(db):
    assert not get_user_model().objects.exists()
    assert not Story.objects.exists()
    assert not Entity.objects.exists()


def test_migrations_ship_the_outlet_registry(db):
    from stories.models import Outlet

    assert Outlet.objects.count() >= 300
    assert Outlet.objects.matching_name("scmp").get().name == "South China Morning Post"
    assert Outlet.objects.matching_name("the bloomberg").exists()


@pytest.mark.django_db
def test_demo_content_shows_a_hero_image_on_a_published_story(settings, client):
    settings.DEBUG = True
    call_command("setup_demo")
    story = Story.objects.published().exclude(hero_image="").get()
    hero = story.live_revision.content["hero_image"]
    assert hero["alt"] and hero["credit"]
    html = client.get(story.get_absolute_url()).content.decode()
    assert "<picture" in html and hero["alt"] in html
