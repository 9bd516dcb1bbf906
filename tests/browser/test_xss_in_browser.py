"""The XSS corpus in a real browser: no payload runs."""

import pytest

from stories import services
from stories.models import Section
from tests.security.test_xss import PAYLOADS
from tests.stories.factories import StoryFactory

pytestmark = pytest.mark.browser


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_no_payload_runs_in_chromium(browser, live_server, editor):
    story = StoryFactory(headline="Hostile corpus", sections=0)
    for position, payload in enumerate(PAYLOADS):
        Section.objects.create(
            story=story, position=position, heading=payload[:200], body=payload
        )
    story.papers_overview = "".join(PAYLOADS[:40])
    story.save()
    services.publish_story(story=story, by=editor)
    story.refresh_from_db()
    # Without the site's CSP: the sanitiser alone must stop every payload.
    context = browser.new_context(bypass_csp=True)
    context.add_init_script(
        script="""
        window.__ran = [];
        for (const name of ['alert', 'confirm', 'prompt', 'print']) {
            window[name] = function () { window.__ran.push(name); };
        }
    """
    )
    page = context.new_page()
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(live_server.url + story.get_absolute_url())
    page.mouse.move(10, 10)
    page.mouse.move(400, 600)
    page.wait_for_timeout(1500)
    assert page.evaluate("typeof window.__ran") == "object", "the hook did not load"
    assert page.evaluate("window.__ran") == []
    assert dialogs == []
    assert page.url.endswith(story.get_absolute_url())
    context.close()
