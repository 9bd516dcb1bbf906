import pytest

from tests.stories.factories import StoryFactory

pytestmark = pytest.mark.django_db


def test_public_pages_send_a_strict_content_security_policy(client):
    story = StoryFactory(published=True)
    response = client.get(story.get_absolute_url())
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert "camera=()" in response["Permissions-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_admin_policy_allows_only_what_ckeditor_needs(client, editor):
    client.force_login(editor)
    policy = client.get("/admin/stories/story/add/")["Content-Security-Policy"]
    assert "style-src 'self' 'unsafe-inline'" in policy
    assert "script-src 'self';" in policy
