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


def test_failures_stay_on_record_after_a_success_clears_the_count(client, editor):
    from axes.models import AccessFailureLog

    for _ in range(2):
        attempt(client, "editor", "wrong-password")
    assert attempt(client, "editor", PASSWORD).status_code == 302
    failures = AccessFailureLog.objects.filter(username="editor")
    assert failures.count() == 2
    assert {f.ip_address for f in failures} == {"198.51.100.7"}


def test_behind_the_proxy_each_reader_is_locked_out_by_their_own_address(
    client, editor, settings
):
    settings.BEHIND_TLS_PROXY = True
    proxy = "10.0.0.2"  # every connection comes from the proxy

    def through_proxy(client_ip, password, forged=""):
        return client.post(
            "/admin/login/?next=/admin/",
            {"username": "editor", "password": password},
            REMOTE_ADDR=proxy,
            HTTP_X_FORWARDED_FOR=f"{forged}{client_ip}",
        )

    for _ in range(5):  # forging a leading entry does not dodge the count
        through_proxy("198.51.100.7", "wrong-password", forged="192.0.2.1, ")
    assert through_proxy("198.51.100.7", PASSWORD).status_code == 429
    assert through_proxy("203.0.113.9", PASSWORD).status_code == 302
