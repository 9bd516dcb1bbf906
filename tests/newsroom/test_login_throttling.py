import pytest
from django.contrib.auth.models import User

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery-staple"


def attempt(client, username, password, ip="198.51.100.7"):
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": username, "password": password},
        REMOTE_ADDR=ip,
    )


def test_repeated_failures_lock_out_that_user_from_that_address(client, editor):
    for _ in range(4):
        assert attempt(client, "editor", "wrong-password").status_code == 200
    # The fifth failure locks the pair out; the right password no longer helps.
    assert attempt(client, "editor", "wrong-password").status_code == 429
    locked = attempt(client, "editor", PASSWORD)
    assert locked.status_code == 429
    assert "Too many failed sign-in attempts" in locked.content.decode()
    from axes.models import AccessAttempt

    # Every attempt is on record for audit, the locked-out one included.
    assert AccessAttempt.objects.get(username="editor").failures_since_start >= 5


def test_a_lockout_does_not_stop_the_same_user_elsewhere_or_others_here(
    client, editor, reporter
):
    for _ in range(5):
        attempt(client, "editor", "wrong-password")
    assert attempt(client, "editor", PASSWORD, ip="203.0.113.9").status_code == 302
    assert attempt(client, "reporter", PASSWORD).status_code == 302


def test_a_success_resets_the_count(client, editor):
    for _ in range(4):
        attempt(client, "editor", "wrong-password")
    assert attempt(client, "editor", PASSWORD).status_code == 302
    client.logout()
    for _ in range(4):
        attempt(client, "editor", "wrong-password")
    assert attempt(client, "editor", PASSWORD).status_code == 302
    assert User.objects.get(username="editor").last_login is not None
