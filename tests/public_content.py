"""A site with every kind of public page filled in, for page-quality tests."""

from django.core.files.storage import default_storage

from stories import services
from stories.models import SourceSummary
from tests.entities.factories import EntityFactory
from tests.images import png_upload
from tests.stories.factories import FAQFactory, StoryFactory


def build_site(editor, reporter):
    japan = EntityFactory(
        name="Japan",
        kind="place",
        wikidata_id="Q17",
        short_description="An island country in East Asia.",
    )
    person = EntityFactory(
        name="Sanae Takaichi", short_description="A Japanese politician."
    )
    faq = FAQFactory(
        question="Why is Japan spending more on defence?",
        answer="<p>Because <strong>regional threats</strong> grew.</p>",
    )
    faq.entities.add(japan)
    hero = default_storage.save(
        "heroes/harbour.png", png_upload("harbour.png", (900, 450))
    )
    story = StoryFactory(
        headline="Japan brings forward its defence budget",
        sections=3,
        sources=2,
        entities=[japan, person],
        faqs=[faq],
        hero_image=hero,
        hero_image_alt="Warships in a harbour",
        hero_image_caption="Yokosuka harbour",
        hero_image_credit="Newsroom",
    )
    story.tags.add("Defence", "Asia-Pacific")
    story.authors.add(reporter)
    SourceSummary.objects.filter(story=story, position=0).update(
        url="https://news.example.com/japan-defence-budget"
    )
    outlet = story.source_summaries.get(position=0).outlet
    outlet.homepage = "https://news.example.com/"
    outlet.country = "JP"
    outlet.language = "en"
    outlet.save()
    services.publish_story(story=story, by=editor)
    services.publish_story(
        story=story,
        by=editor,
        correction_kind="correction",
        correction_text="An earlier version gave the wrong year.",
        update_text="Added the cabinet’s approval.",
    )
    other = StoryFactory(headline="A second explainer on defence", entities=[japan])
    other.tags.add("Defence")
    services.publish_story(story=other, by=editor)
    withdrawn = StoryFactory(headline="Withdrawn explainer")
    services.publish_story(story=withdrawn, by=editor)
    services.unpublish_story(story=withdrawn, by=editor, reason="Legal")
    story.refresh_from_db()
    withdrawn.refresh_from_db()
    _, token = services.create_preview_link(story=other, by=editor, hours=1)
    year = story.first_published_at.year
    return {
        "home": "/",
        "story": story.get_absolute_url(),
        # Empty for a first visit; test_html_quality also renders it full.
        "since-last-read": f"{story.get_absolute_url()}since-you-last-read/"
        f"{story.pk}/{story.live_revision_id}/",
        "entity": japan.get_absolute_url(),
        "faq": faq.get_absolute_url(),
        "outlet": outlet.get_absolute_url(),
        "tag": "/tags/defence/",
        "author": f"/authors/{reporter.username}/",
        "archive": f"/archive/{year}/",
        "search": "/search/?q=defence",
        "search-empty": "/search/?q=zzzzzz",
        "search-form": "/search/",
        "corrections": "/corrections/",
        "not-found": "/stories/no-such-story/",
        "withdrawn": withdrawn.get_absolute_url(),
        "preview": f"/preview/{token}/",
        "preview-expired": "/preview/not-a-token/",
    }
