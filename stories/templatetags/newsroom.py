from django import template
from django.utils import timezone

register = template.Library()


@register.filter
def isodatetime(value):
    """A datetime for <time datetime>: ISO 8601 in whole seconds (HTML allows
    at most three decimals), in the newsroom's time zone."""
    if not value:
        return ""
    return timezone.localtime(value).replace(microsecond=0).isoformat()
