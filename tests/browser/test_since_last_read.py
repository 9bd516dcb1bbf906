"""The "What changed since you last read" box in a real browser, with and
without JavaScript."""

import pytest

from stories import services
from stories.models import Section, Story
from stories.since_last_read import COOKIE_NAME
from tests.browser.test_public_pages import AXE, AXE_TAGS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def live(editor):
    from tests.stories.factories import StoryFactory

    story = StoryFactory(headline="Japan raises defence spending", sections=2)
    services.publish_story(story=story, by=editor)
    return Story.objects.get(pk=story.pk)


def develop(story, editor):
    """The news moves on: a section is rewritten and an update published."""
    Section.objects.filter(story=story, position=1).update(
        body="<p>Tokyo has now responded.</p>"
    )
    services.publish_story(
        story=Story.objects.get(pk=story.pk),
        by=editor,
        update_text="Added Tokyo\u2019s response.",
    )


def come_back(browser, context, **options):
    """The same reader days later: their cookies, none of the story page
    the browser kept (max-age=60), which may still show the old version."""
    cookies = context.cookies()
    context.close()
    context = browser.new_context(**options)
    context.add_cookies(cookies)
    return context, context.new_page()


def test_returning_reader_without_javascript_sees_the_box_in_a_frame(
    browser, live_server, live, editor
):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    url = live_server.url + live.get_absolute_url()
    page.goto(url)
    frame = page.frame_locator("iframe.since-last-read-frame")
    assert frame.locator("body").inner_text() == ""  # a first visit: nothing
    assert [c["name"] for c in context.cookies()] == [COOKIE_NAME]
    develop(live, editor)
    context, page = come_back(browser, context, java_script_enabled=False)
    page.goto(url)
    frame = page.frame_locator("iframe.since-last-read-frame")
    box = frame.locator("#since-last-read")
    assert "What changed since you last read" in box.inner_text()
    assert "Added Tokyo\u2019s response." in box.inner_text()
    assert box.get_by_role("link", name="Angle 2").get_attribute("target") == "_top"
    context, page = come_back(browser, context, java_script_enabled=False)
    page.goto(url)  # now up to date
    assert page.frame_locator("iframe").locator("body").inner_text() == ""
    context.close()


def test_with_javascript_the_box_is_part_of_the_page_or_absent(
    browser, live_server, live, editor
):
    # bypass_csp: axe is the test's script, not the site's.
    options = {"viewport": {"width": 360, "height": 900}, "bypass_csp": True}
    context = browser.new_context(**options)
    page = context.new_page()
    url = live_server.url + live.get_absolute_url()
    page.goto(url)
    page.wait_for_selector(".since-last-read-slot", state="detached")
    assert page.locator("iframe").count() == 0
    assert page.locator("#since-last-read").count() == 0
    develop(live, editor)
    context, page = come_back(browser, context, **options)
    page.goto(url)
    box = page.locator("main #since-last-read")
    box.wait_for()
    assert "Added Tokyo\u2019s response." in box.inner_text()
    assert page.locator("iframe").count() == 0
    if AXE.exists():
        page.add_script_tag(path=str(AXE))
        result = page.evaluate(
            "tags => axe.run('#since-last-read', {runOnly: {type: 'tag', "
            "values: tags}})",
            AXE_TAGS,
        )
        assert result["violations"] == []
    page.get_by_role("link", name="Angle 2").click()
    page.wait_for_url("**#analysis-2")
    context.close()
