"""Public pages in a real browser: WCAG 2.2 AA by axe-core, a 360 px wide
screen, and no JavaScript needed."""

from pathlib import Path

import pytest

from tests.public_content import build_site

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
AXE = (
    Path(__file__).resolve().parents[2]
    / "var"
    / "node"
    / "node_modules"
    / "axe-core"
    / "axe.min.js"
)
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


@pytest.fixture
def site(editor, reporter):
    return build_site(editor, reporter)


@pytest.mark.parametrize("width", [360, 1280])
def test_public_pages_have_no_accessibility_violations(
    browser, live_server, site, width
):
    if not AXE.exists():
        pytest.fail("axe-core is missing: `make test` installs it with npm")
    # The site's CSP forbids injected scripts; axe is the test's, not the site's.
    page = browser.new_page(viewport={"width": width, "height": 900}, bypass_csp=True)
    problems = {}
    for name, url in site.items():
        page.goto(live_server.url + url)
        page.add_script_tag(path=str(AXE))
        result = page.evaluate(
            "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})",
            AXE_TAGS,
        )
        violations = [(v["id"], v["nodes"][0]["target"]) for v in result["violations"]]
        if violations:
            problems[name] = violations
        overflow = page.evaluate("document.documentElement.scrollWidth")
        if overflow > width:
            problems[f"{name} scrolls sideways"] = overflow
    assert problems == {}


def test_public_pages_work_without_javascript(browser, live_server, site):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server.url + site["story"])
    headings = page.locator("h2").all_inner_texts()
    assert headings[:6] == [
        "What’s happened",
        "What’s behind the headline?",
        "What the papers say",
        "How we got here",
        "Go deeper",
        "More on these topics",
    ]
    page.goto(live_server.url + "/")
    page.fill("#site-search", "defence")
    page.press("#site-search", "Enter")
    page.wait_for_url("**/search/?q=defence")
    assert "Japan brings forward its defence budget" in page.content()
    context.close()


def test_a_story_prints_without_the_sites_furniture(browser, live_server, site):
    page = browser.new_page()
    page.goto(live_server.url + site["story"])
    furniture = (".site-header nav", ".search-form", ".site-footer", ".related")

    def shown(selector):
        return page.locator(selector).first.is_visible()

    # On screen first: a renamed selector must fail here, not pass in print.
    assert all(shown(selector) for selector in furniture)
    page.emulate_media(media="print")
    assert shown("h1") and shown("#whats-happened") and shown(".entity-card")
    for selector in furniture:
        assert not shown(selector), selector
    # A printed link to a report still says where it points; the link to
    # the outlet's page on this site does not.
    after = page.evaluate(
        "[...document.querySelectorAll('.sources a')]"
        ".map(a => getComputedStyle(a, '::after').content)"
    )
    assert after[0] == "none" and "https://" in after[1]
    assert page.pdf(format="A4")[:5] == b"%PDF-"
