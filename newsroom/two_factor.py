"""Two-factor sign-in to the admin with an authenticator app (TOTP, through
django-otp).

Optional by default: a staff member who has set up an app must give its
current code with their password; one who has not signs in with the password
alone. With ADMIN_REQUIRE_TWO_FACTOR on, staff without an app are sent to set
one up before they can use anything else in the admin.

Each person has at most one confirmed app. A lost phone is handled by a
superuser deleting the person's device under "TOTP devices" in the admin;
the person then sets up a new one.
"""

import logging
from base64 import b32encode
from functools import wraps

import django_otp
import segno
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.signals import user_login_failed
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django_otp.plugins.otp_totp.models import TOTPDevice

from .proxy import client_address

DEVICE_NAME = "Authenticator app"
logger = logging.getLogger(__name__)


def confirmed_device(user):
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def needs_code(request):
    """Signed in with a password only, though an app is set up (a session
    from before it was, or one made without the login form)."""
    user = request.user
    return user.is_authenticated and not user.is_verified() and has_app(request)


def must_set_up(request):
    user = request.user
    return (
        settings.ADMIN_REQUIRE_TWO_FACTOR
        and user.is_active
        and user.is_staff
        and not has_app(request)
    )


def has_app(request):
    """Whether the signed-in person has a confirmed app: one query per
    request, however often the admin asks."""
    if not hasattr(request, "_has_two_factor_app"):
        request._has_two_factor_app = django_otp.user_has_device(request.user)
    return request._has_two_factor_app


def check_code(device, code):
    """Raise ValidationError unless code is the device's current code; on
    success return the device as updated. The device row is locked while
    the code is checked, as django_otp.verify_token does: otherwise two
    requests at once could both accept one code, or both count one wrong
    guess against the throttle."""
    code = "".join(code.split())
    error = None
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
        if not code:
            error = ValidationError(
                "Enter the 6-digit code from your authenticator app.",
                code="token_required",
            )
        elif not device.verify_is_allowed()[0]:
            error = ValidationError(
                "Too many wrong codes. Wait a minute, then try the newest code.",
                code="throttled",
            )
        elif not device.verify_token(code):
            error = ValidationError(
                "That code is wrong or has expired. Try the newest one.",
                code="invalid_token",
            )
    # Raised outside the transaction, so the failure count it saved stays.
    if error is not None:
        raise error
    return device


def pending_device(user):
    """The app being set up: one unconfirmed device per person, kept across
    page loads so the QR code a phone scanned stays valid."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def confirm_app(request, device):
    """Turn two-factor on with device, whose code the person just gave:
    this session counts as verified, and the owner is told."""
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=request.user, confirmed=False).delete()
    django_otp.login(request, device)
    tell_owner(request, "turned on")


def remove_app(request, device):
    device.delete()
    tell_owner(request, "turned off")


def tell_owner(request, change):
    """Email the account's owner about a two-factor change, after it
    commits: someone who has only their password (and so could turn it on
    with their own phone, where it is required) does not go unnoticed."""
    user = request.user
    if not user.email:
        return
    subject = f"[{settings.SITE_NAME}] Two-factor sign-in {change}"
    body = (
        f"Two-factor sign-in was {change} for your {settings.SITE_NAME} "
        f"account ({user.get_username()}) from {client_address(request)}."
        "\n\nIf this was not you, tell an administrator at once: they can "
        "remove the authenticator app and lock the account."
    )

    def send():
        try:
            send_mail(subject, body, None, [user.email])
        except Exception:  # a mail outage must not undo the change
            logger.exception("Could not email %s about two-factor", user.pk)

    transaction.on_commit(send)


def staff_view(view):
    """The admin's two-factor rules for staff endpoints outside it (the
    rich-text editor's image upload)."""

    @wraps(view)
    def checked(request, *args, **kwargs):
        if needs_code(request) or must_set_up(request):
            raise PermissionDenied("Sign in with your authentication code first.")
        return view(request, *args, **kwargs)

    return checked


class CodeField(forms.CharField):
    def __init__(self, **kwargs):
        super().__init__(
            label="Authentication code",
            max_length=10,
            widget=forms.TextInput(
                attrs={
                    "autocomplete": "one-time-code",
                    "inputmode": "numeric",
                    "pattern": "[0-9 ]*",
                }
            ),
            **kwargs,
        )


class AdminLoginForm(AdminAuthenticationForm):
    """The admin login, asking for a code from whoever has set up an app."""

    otp_token = CodeField(
        required=False,
        help_text="From your authenticator app, if you have set up two-factor sign-in.",
    )

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        # One message whichever factor was wrong: telling them apart would
        # tell someone trying stolen passwords which ones are right.
        "invalid_login": "Please enter a correct username and password, and "
        "the code from your authenticator app if you have set one up. Note "
        "that both fields may be case-sensitive.",
    }

    def clean(self):
        cleaned_data = super().clean()  # the password, and the staff check
        user = self.get_user()
        device = confirmed_device(user) if user is not None else None
        if device is not None:
            try:
                device = check_code(device, cleaned_data.get("otp_token", ""))
            except ValidationError:
                # A failed sign-in like a wrong password, so django-axes
                # counts it towards the lockout too.
                user_login_failed.send(
                    sender=__name__,
                    credentials={"username": user.get_username()},
                    request=self.request,
                )
                raise self.get_invalid_login_error() from None
            # django_otp marks the session verified when Django logs in a user
            # carrying this attribute.
            user.otp_device = device
        return cleaned_data


class ConfirmForm(forms.Form):
    otp_token = CodeField()

    def __init__(self, *args, device, **kwargs):
        super().__init__(*args, **kwargs)
        self.device = device

    def clean_otp_token(self):
        self.device = check_code(self.device, self.cleaned_data["otp_token"])
        return self.cleaned_data["otp_token"]


@method_decorator([never_cache, csrf_protect], name="dispatch")
class TwoFactorView(View):
    """Set up, or turn off, two-factor sign-in for the signed-in person."""

    admin_site = None
    template_name = "admin/two_factor.html"

    def dispatch(self, request, *args, **kwargs):
        user = request.user
        if not (user.is_active and user.is_staff) or needs_code(request):
            # Signed out, not staff, or not yet past the code: sign in first.
            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        return super().dispatch(request, *args, **kwargs)

    def get(self, request):
        device = confirmed_device(request.user)
        return self.render(request, device, ConfirmForm(device=device))

    def post(self, request):
        # Each form says what it is for: a stale "turn on" form resubmitted
        # with a fresh code must not turn two-factor off, or the reverse.
        action = request.POST.get("action")
        device = confirmed_device(request.user)
        if action == "turn-off" and device is not None:
            return self.turn_off(request, device)
        if action == "turn-on" and device is None:
            return self.turn_on(request)
        return redirect("admin:two_factor")

    def turn_on(self, request):
        form = ConfirmForm(request.POST, device=pending_device(request.user))
        if not form.is_valid():
            return self.render(request, None, form)
        confirm_app(request, form.device)
        messages.success(request, "Two-factor sign-in is on.")
        return redirect("admin:index")

    def turn_off(self, request, device):
        if settings.ADMIN_REQUIRE_TWO_FACTOR:
            messages.error(request, "Two-factor sign-in is required here.")
            return redirect("admin:two_factor")
        form = ConfirmForm(request.POST, device=device)
        if not form.is_valid():
            return self.render(request, device, form)
        remove_app(request, device)
        messages.success(request, "Two-factor sign-in is off.")
        return redirect("admin:index")

    def render(self, request, device, form):
        context = {
            **self.admin_site.each_context(request),
            "title": "Two-factor sign-in",
            "device": device,
            "form": form,
            "required": settings.ADMIN_REQUIRE_TWO_FACTOR,
        }
        if device is None:
            pending = pending_device(request.user)
            secret = b32encode(pending.bin_key).decode()
            context.update(
                qr_svg=segno.make(pending.config_url, error="m").svg_inline(
                    scale=4, title="QR code for your authenticator app"
                ),
                secret=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
            )
        return TemplateResponse(request, self.template_name, context)
