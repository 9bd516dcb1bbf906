from django.conf import settings

from newsroom.addresses import addresses_for_this_request


def site(request):
    return {"site_name": settings.SITE_NAME}


def addresses(request):
    """url() for the reader site's Jinja2 templates, bound to this request's
    script prefix and URLconf (newsroom.addresses). Imported macros, which
    see no context, use the environment's url(), which reads them itself."""
    return {"url": addresses_for_this_request()}
