"""Admin sessions: cookies scripts cannot read or other sites send, which
expire; and passwords that are long and not common."""

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery-staple"


def sign_in(client):
    return client.post(
        "/admin/login/?next=/admin/", {"username": "editor", "password": PASSWORD}
    )


def test_the_session_cookie_is_http_only_same_site_and_expires(client, editor):
    response = sign_in(client)
    cookie = response.cookies["sessionid"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert int(cookie["max-age"]) == 12 * 60 * 60


def test_an_expired_session_must_sign_in_again(client, editor):
    sign_in(client)
    assert client.get("/admin/").status_code == 200
    session = client.session
    session.set_expiry(-1)  # as if the 12 hours were up
    session.save()
    response = client.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


@pytest.mark.parametrize(
    "password", ["short-pw1", "password1234", "editor@example.org"], ids=str
)
def test_weak_passwords_are_refused(editor, password):
    with pytest.raises(ValidationError):
        validate_password(password, user=editor)


def test_a_long_uncommon_password_is_accepted(editor):
    validate_password("lantern-orbit-marmalade-42", user=editor)
