"""Fixtures the stories tests share."""

import pytest

from stories import services
from stories.models import SourceSummary
from tests.entities.factories import EntityFactory
from tests.stories.factories import FAQFactory, OutletFactory, StoryFactory


@pytest.fixture
def live(editor, reporter):
    """A published story with every part readers see: a topic, a question, a
    tag, an author and a source summary linking to its outlet's article."""
    japan = EntityFactory(name="Japan", kind="place", wikidata_id="Q17")
    faq = FAQFactory(question="Why is Japan spending more?")
    story = StoryFactory(
        headline="Japan raises defence spending", entities=[japan], faqs=[faq]
    )
    story.tags.add("Defence")
    story.authors.add(reporter)
    SourceSummary.objects.create(
        story=story,
        outlet=OutletFactory(
            name="Example Gazette", homepage="https://gazette.example"
        ),
        summary="The Gazette counted the ships.",
        url="https://gazette.example/ships",
    )
    services.publish_story(story=story, by=editor)
    story.refresh_from_db()
    return story
