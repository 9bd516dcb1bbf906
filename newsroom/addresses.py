"""reverse() and static(), remembered.

A page asks for the same few addresses on every request (the header's and
footer's links, each story card's, the canonical link), and Django's
reverse() rebuilds each one from the URL patterns, about 40 µs apiece. The
answer depends only on the name, the arguments, the script prefix and the
URLconf in use, so those are the key: a value is never reused for a request
or test that routes differently.
"""

import functools

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.templatetags.static import static
from django.urls import get_script_prefix, get_urlconf, reverse


def address(name: str, *args) -> str:
    """reverse(name, args=args)."""
    return _reverse(
        name, args, get_script_prefix(), get_urlconf(), settings.ROOT_URLCONF
    )


def addresses_for_this_request():
    """address(), with the script prefix and URLconf read once: a page
    renders a dozen addresses or more, and reading them for each took most
    of its 7 µs. For one render only: both may change between requests."""
    return functools.partial(
        _address_in, get_script_prefix(), get_urlconf(), settings.ROOT_URLCONF
    )


def _address_in(script_prefix, urlconf, root_urlconf, name, *args):
    return _reverse(name, args, script_prefix, urlconf, root_urlconf)


@functools.lru_cache(maxsize=16384, typed=True)
def _reverse(name, args, script_prefix, urlconf, root_urlconf):
    return reverse(name, args=args)


@functools.lru_cache(maxsize=256)
def static_address(path: str) -> str:
    """static(path), remembered: every page asks for the same few files, and
    the manifest lookup cost 17 µs apiece. Forgotten when the static files
    settings change (tests)."""
    return static(path)


@receiver(setting_changed)
def _forget_static_addresses(*, setting, **kwargs):
    if setting in ("STATIC_URL", "STATIC_ROOT", "STORAGES", "DEBUG"):
        static_address.cache_clear()
