import pytest

from stories.models import Story
from tests.entities.factories import EntityFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def log_in(page, live_server, username):
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "correct-horse-battery-staple")
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")


def test_journalist_writes_a_draft_in_ckeditor_with_a_section_and_a_topic(
    browser_page, live_server, reporter
):
    page = browser_page
    EntityFactory(name="Japan", kind="place")
    log_in(page, live_server, "reporter")
    page.goto(f"{live_server.url}/admin/stories/story/add/")

    page.fill("#id_headline", "Japan brings forward its defence budget")
    page.fill("#id_summary", "Japan will reach its spending goal two years early.")

    papers = page.locator(".field-papers_overview .ck-editor__editable")
    papers.click()
    page.keyboard.type("Tokyo papers welcomed the plan.")

    page.click("#sections-group .add-row a")
    page.fill("#id_sections-0-heading", "Why now")
    section_body = page.locator("#sections-0 .ck-editor__editable")
    section_body.click()
    page.keyboard.type("Regional threats have grown.")

    page.click("#storyentity_set-group .add-row a")
    page.locator("#storyentity_set-0 .select2-selection").click()
    page.locator(".select2-container--open .select2-search__field").fill("Jap")
    page.locator(".select2-results__option", has_text="Japan").click()

    page.click("input[name=_save]")
    page.wait_for_url(f"{live_server.url}/admin/stories/story/")

    story = Story.objects.get()
    assert story.status == Story.Status.DRAFT
    assert story.headline == "Japan brings forward its defence budget"
    assert "Tokyo papers welcomed the plan." in story.papers_overview
    section = story.sections.get()
    assert section.heading == "Why now"
    assert "Regional threats have grown." in section.body
    assert [e.name for e in story.entities.all()] == ["Japan"]
