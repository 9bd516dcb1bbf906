import json

import pytest
from django.core.management import CommandError, call_command

from stories import services
from stories.models import Correction, LiveTopic, Story, StoryRevision
from tests.entities.factories import EntityFactory
from tests.stories.factories import FAQFactory, StoryFactory

pytestmark = pytest.mark.django_db


def snapshot():
    """Everything export_content covers, as comparable data."""
    from django.apps import apps

    from stories.management.commands.export_content import CONTENT_MODELS

    data = {}
    for label in CONTENT_MODELS:
        model = apps.get_model(label)
        data[label] = sorted(
            json.dumps(row, sort_keys=True, default=str)
            for row in model.objects.values()
        )
    return data


def live_topics():
    return sorted(
        (t.story.headline, t.key, t.last_published_at)
        for t in LiveTopic.objects.select_related("story")
    )


def wipe():
    """Empty every exported table, as a new database would be."""
    from django.apps import apps

    from stories.management.commands.export_content import CONTENT_MODELS

    Story.objects.update(live_revision=None)
    Correction.objects.all().delete()
    StoryRevision.objects.all().delete()
    for label in reversed(CONTENT_MODELS):
        apps.get_model(label).objects.all().delete()


def test_export_then_import_into_an_empty_database_loses_nothing(
    tmp_path, editor, reporter
):
    japan = EntityFactory(name="Japan", aliases="Nippon")
    story = StoryFactory(
        headline="Round trip",
        sections=3,
        sources=2,
        entities=[japan],
        faqs=[FAQFactory()],
    )
    story.tags.add("defence")
    story.authors.add(reporter)
    services.publish_story(story=story, by=editor)
    services.publish_story(
        story=story,
        by=editor,
        correction_kind="update",
        correction_text="Added detail.",
    )
    StoryFactory(headline="A draft")
    before = snapshot()
    topics_before = live_topics()
    path = tmp_path / "content.json"

    call_command("export_content", str(path))
    wipe()
    call_command("import_content", str(path))

    assert snapshot() == before
    assert live_topics() == topics_before  # rebuilt: they are not in the file
    restored = Story.objects.get(headline="Round trip")
    assert (
        restored.is_live and restored.live_revision.content["headline"] == "Round trip"
    )


def test_import_refuses_a_database_that_has_stories(tmp_path):
    StoryFactory()
    path = tmp_path / "content.json"
    call_command("export_content", str(path))
    with pytest.raises(CommandError, match="already has stories"):
        call_command("import_content", str(path))


def test_a_broken_file_imports_nothing(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text(
        '[{"model": "entities.entity", "pk": 1, "fields": {"name": "X", '
        '"slug": "x", "kind": "topic"}}, {"model": "stories.story", "pk": 1, '
        '"fields": {"headline": 5, "status": "nonsense", "live_revision": 99}}]'
    )
    with pytest.raises(CommandError, match="Nothing was imported"):
        call_command("import_content", str(path))
    from entities.models import Entity

    assert not Entity.objects.exists()
