"""The Jinja2 environment the reader site's templates render in.

The public pages are Jinja2, the admin stays on Django's template language.
This is a measured choice (bench/reader): the same story page rendered in
about a third of the time, because Jinja2 compiles a template to Python
code where Django's engine walks a node tree and resolves every variable
through its lookup rules on each request.

Templates here must call methods themselves (``story.get_absolute_url()``);
Django's filters that the pages use are provided under their Django names.
"""

import functools
from datetime import datetime

import jinja2
from django.conf import settings
from django.core.signals import setting_changed
from django.template import defaultfilters
from django.templatetags.static import static
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import dateformat, timezone

from stories.templatetags.newsroom import isodatetime


def environment(**options):
    # A missing variable or attribute renders as nothing, as in Django's
    # templates and the same with DEBUG on (Django would pick DebugUndefined,
    # which prints the expression into the page).
    options["undefined"] = jinja2.ChainableUndefined
    env = jinja2.Environment(**options)
    env.globals.update(url=url, static=static)
    env.filters.update(
        date=date,
        isodatetime=isodatetime,
        linebreaks=linebreaks,
        pluralize=defaultfilters.pluralize,
        truncatechars=defaultfilters.truncatechars,
        truncatewords=defaultfilters.truncatewords,
    )
    return env


def url(name, *args):
    """reverse(name, args=args), remembered: the header, footer and every
    story card ask for the same few addresses on each page."""
    return _reverse(
        name, args, get_script_prefix(), get_urlconf(), settings.ROOT_URLCONF
    )


@functools.lru_cache(maxsize=4096)
def _reverse(name, args, script_prefix, urlconf, root_urlconf):
    # The prefix and URLconfs are part of the key, so a value is never used
    # for a request or test that routes differently.
    return reverse(name, args=args)


def date(value, format_string):
    """Django's date filter, in the newsroom's time zone as Django's
    templates show it."""
    if not value:
        return ""
    if isinstance(value, datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    return dateformat.format(value, format_string)


def linebreaks(value):
    return defaultfilters.linebreaks_filter(value, autoescape=True)


def _forget_routes(*, setting, **kwargs):
    if setting == "ROOT_URLCONF":
        _reverse.cache_clear()


setting_changed.connect(_forget_routes)
