"""Two-factor sign-in with an authenticator app: optional for each staff
member, required for all when the site says so, and a code works once."""

import time

import pytest
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery-staple"
SETUP_URL = "/admin/two-factor/"
REFUSED = "Please enter a correct username and password, and the code"


def code(device, steps_ahead=0):
    """The app's code, steps_ahead periods from now (codes are single-use;
    the server accepts one period of clock drift)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def sign_in(client, username, otp_token="", password=PASSWORD):
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": username, "password": password, "otp_token": otp_token},
    )


def unthrottle(device):
    """Forget earlier wrong codes (each one delays the next attempt)."""
    TOTPDevice.objects.filter(pk=device.pk).update(
        throttling_failure_count=0, throttling_failure_timestamp=None
    )


@pytest.fixture
def app_of(db):
    def make(user):
        return TOTPDevice.objects.create(user=user, name="Phone", confirmed=True)

    return make


def test_staff_without_an_app_sign_in_with_the_password(client, editor):
    assert sign_in(client, "editor").status_code == 302
    assert client.get("/admin/").status_code == 200


def test_staff_with_an_app_must_give_its_current_code(client, editor, app_of):
    device = app_of(editor)
    missing = sign_in(client, "editor")
    assert missing.status_code == 200
    assert REFUSED in missing.content.decode()
    wrong = sign_in(client, "editor", "000000" if code(device) != "000000" else "1")
    assert REFUSED in wrong.content.decode()
    unthrottle(device)
    assert sign_in(client, "editor", code(device)).status_code == 302
    assert client.get("/admin/").status_code == 200


def test_a_code_cannot_be_used_twice(client, editor, app_of):
    device = app_of(editor)
    used = code(device)
    assert sign_in(client, "editor", used).status_code == 302
    client.logout()
    replay = sign_in(client, "editor", used)
    assert replay.status_code == 200


def test_wrong_codes_are_throttled(client, editor, app_of):
    device = app_of(editor)
    sign_in(client, "editor", "12345")
    throttled = sign_in(client, "editor", code(device))  # right, but too soon
    assert throttled.status_code == 200
    assert not client.session.get("_auth_user_id")


def test_a_wrong_code_reads_like_a_wrong_password(client, editor, app_of):
    """Telling them apart would tell someone trying stolen passwords which
    ones are right."""
    app_of(editor)
    wrong_password = sign_in(client, "editor", "123456", password="not-it-at-all")
    wrong_code = sign_in(client, "editor", "123456")

    def errors(response):
        return response.context["form"].non_field_errors()

    assert errors(wrong_password) == errors(wrong_code)


def test_wrong_codes_count_towards_the_lockout(client, editor, app_of):
    app_of(editor)
    for _ in range(4):
        assert sign_in(client, "editor", "123456").status_code == 200
    assert sign_in(client, "editor", "123456").status_code == 429


def test_a_password_only_session_cannot_use_the_admin_once_an_app_is_set_up(
    client, editor, app_of
):
    client.force_login(editor)  # e.g. a session from before the app
    app_of(editor)
    assert client.get("/admin/").status_code == 302
    assert client.get("/admin/stories/story/").status_code == 302
    assert client.get(SETUP_URL).status_code == 302


def test_setting_up_an_app_confirms_it_with_a_code(
    client, editor, mailoutbox, django_capture_on_commit_callbacks, settings
):
    settings.BEHIND_TLS_PROXY = True  # as deployed
    client.force_login(editor)
    page = client.get(SETUP_URL)
    html = page.content.decode()
    assert "<svg" in html and "two-factor-key" in html
    pending = TOTPDevice.objects.get(user=editor, confirmed=False)
    # Reloading keeps the key the phone scanned.
    client.get(SETUP_URL)
    assert TOTPDevice.objects.get(user=editor, confirmed=False).pk == pending.pk
    refused = client.post(SETUP_URL, {"action": "turn-on", "otp_token": "99999"})
    assert "wrong or has expired" in refused.content.decode()
    unthrottle(pending)
    with django_capture_on_commit_callbacks(execute=True):
        turned_on = client.post(
            SETUP_URL,
            {"action": "turn-on", "otp_token": code(pending)},
            REMOTE_ADDR="10.0.0.2",
            HTTP_X_FORWARDED_FOR="198.51.100.1, 203.0.113.5",
        )
    assert turned_on.status_code == 302
    # The owner hears of it, in case it was not them.
    assert [m.to for m in mailoutbox] == [[editor.email]]
    assert "turned on" in mailoutbox[0].subject
    assert "from 203.0.113.5." in mailoutbox[0].body  # the person, not the proxy
    pending.refresh_from_db()
    assert pending.confirmed
    # This session proved the code; a new one must give it.
    assert client.get("/admin/").status_code == 200
    client.logout()
    assert sign_in(client, "editor").status_code == 200


def test_turning_it_off_needs_a_current_code(
    client, editor, app_of, mailoutbox, django_capture_on_commit_callbacks
):
    device = app_of(editor)
    assert sign_in(client, "editor", code(device)).status_code == 302
    client.post(SETUP_URL, {"action": "turn-off", "otp_token": "12345"})
    assert TOTPDevice.objects.filter(pk=device.pk).exists()
    unthrottle(device)
    fresh = code(device, steps_ahead=1)
    # A stale "turn on" form sent with a good code changes nothing.
    client.post(SETUP_URL, {"action": "turn-on", "otp_token": fresh})
    assert TOTPDevice.objects.filter(pk=device.pk, confirmed=True).exists()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(SETUP_URL, {"action": "turn-off", "otp_token": fresh})
    assert not TOTPDevice.objects.filter(pk=device.pk).exists()
    assert "turned off" in mailoutbox[-1].subject


def test_when_required_staff_without_an_app_must_set_one_up_first(
    client, editor, settings
):
    settings.ADMIN_REQUIRE_TWO_FACTOR = True
    assert sign_in(client, "editor").status_code == 302
    response = client.get("/admin/stories/story/")
    assert response.status_code == 302 and response["Location"] == SETUP_URL
    assert "required on this site" in client.get(SETUP_URL).content.decode()
    # Signing out still works.
    assert client.post(reverse("admin:logout")).status_code == 200


def test_when_required_it_cannot_be_turned_off(client, editor, app_of, settings):
    settings.ADMIN_REQUIRE_TWO_FACTOR = True
    device = app_of(editor)
    assert sign_in(client, "editor", code(device)).status_code == 302
    client.post(
        SETUP_URL, {"action": "turn-off", "otp_token": code(device, steps_ahead=1)}
    )
    assert TOTPDevice.objects.filter(pk=device.pk).exists()


def test_setup_page_is_for_signed_in_staff_only(client, django_user_model):
    assert client.get(SETUP_URL).status_code == 302
    outsider = django_user_model.objects.create_user("outsider", password=PASSWORD)
    client.force_login(outsider)
    assert client.get(SETUP_URL).status_code == 302
    assert not TOTPDevice.objects.exists()


def test_a_password_only_session_can_still_sign_out(client, editor, app_of):
    client.force_login(editor)
    app_of(editor)
    assert client.post(reverse("admin:logout")).status_code == 200
    assert "_auth_user_id" not in client.session


def test_the_editors_image_upload_follows_the_same_rules(
    client, reporter, app_of, settings
):
    from tests.images import png_upload

    url = reverse("stories:editor_image_upload")
    client.force_login(reporter)
    settings.ADMIN_REQUIRE_TWO_FACTOR = True  # no app set up yet
    assert client.post(url, {"upload": png_upload()}).status_code == 403
    settings.ADMIN_REQUIRE_TWO_FACTOR = False
    app_of(reporter)  # set up, but this session never gave a code
    assert client.post(url, {"upload": png_upload()}).status_code == 403


def test_the_device_admin_never_shows_a_key(client, django_user_model, app_of):
    admin_user = django_user_model.objects.create_superuser("boss", password=PASSWORD)
    device = app_of(admin_user)
    assert sign_in(client, "boss", code(device)).status_code == 302
    other = app_of(django_user_model.objects.create_user("someone", is_staff=True))
    page = client.get(
        reverse("admin:otp_totp_totpdevice_change", args=[other.pk])
    ).content.decode()
    assert other.key not in page
    config = client.get(reverse("admin:otp_totp_totpdevice_config", args=[other.pk]))
    assert config.status_code in (403, 404)


def test_a_code_is_checked_with_the_device_locked(editor, app_of):
    """Two sign-ins at once must not both accept one code (or both count one
    wrong guess): the check reads the device row FOR UPDATE."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from newsroom.two_factor import check_code

    if not connection.features.has_select_for_update:
        pytest.skip("SQLite locks the whole database instead; PostgreSQL runs this")
    device = app_of(editor)
    with CaptureQueriesContext(connection) as queries:
        check_code(device, code(device))
    assert any("FOR UPDATE" in q["sql"] for q in queries.captured_queries)
