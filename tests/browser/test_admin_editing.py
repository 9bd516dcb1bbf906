import pytest

from stories.models import AutosaveDraft, Story
from tests.browser.conftest import new_page
from tests.browser.test_admin_authoring import log_in
from tests.stories.factories import StoryFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_second_editor_sees_the_conflict_and_keeps_their_typing(
    browser, live_server, reporter, editor
):
    story = StoryFactory(headline="Shared story")
    story.authors.add(reporter)
    url = f"{live_server.url}/admin/stories/story/{story.pk}/change/"
    journalist_page, editor_page = new_page(browser), new_page(browser)
    log_in(journalist_page, live_server, "reporter")
    log_in(editor_page, live_server, "editor")
    journalist_page.goto(url)
    editor_page.goto(url)

    editor_page.fill("#id_headline", "Editor's version")
    editor_page.click("input[name=_continue]")
    editor_page.wait_for_selector(".messagelist .success")

    journalist_page.fill("#id_headline", "Journalist's version")
    background = journalist_page.locator(".field-background .ck-editor__editable")
    background.click()
    journalist_page.keyboard.type("Paragraph the journalist must not lose.")
    journalist_page.click("input[name=_continue]")

    alert = journalist_page.locator(".story-conflict")
    alert.wait_for()
    assert "someone else changed this story" in alert.inner_text().lower()
    assert "Editor" in alert.inner_text()
    assert journalist_page.input_value("#id_headline") == "Journalist's version"
    assert (
        "Paragraph the journalist must not lose."
        in journalist_page.locator(
            ".field-background .ck-editor__editable"
        ).inner_text()
    )
    assert Story.objects.get(pk=story.pk).headline == "Editor's version"


def test_autosave_keeps_typing_and_restores_it_after_the_tab_is_closed(
    browser, live_server, reporter
):
    story = StoryFactory(headline="Autosaved story")
    story.authors.add(reporter)
    url = f"{live_server.url}/admin/stories/story/{story.pk}/change/"
    page = new_page(browser)
    log_in(page, live_server, "reporter")
    page.goto(url)
    page.fill("#id_summary", "Typed, never saved.")
    page.locator(".story-autosave-status").filter(has_text="kept at").wait_for(
        timeout=15_000
    )
    cookies = page.context.cookies()
    page.close()

    assert AutosaveDraft.objects.filter(story=story).exists()
    again = new_page(browser)
    again.context.add_cookies(cookies)
    again.goto(url)
    again.click("#story-autosave-restore")
    again.locator(".story-autosave-status").filter(
        has_text="back in the form"
    ).wait_for()
    assert again.input_value("#id_summary") == "Typed, never saved."
    assert Story.objects.get(pk=story.pk).summary != "Typed, never saved."
