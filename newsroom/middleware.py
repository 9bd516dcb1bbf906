from django.utils.cache import add_never_cache_headers, patch_cache_control


class AdminNoStoreMiddleware:
    """Admin pages hold unpublished text: no browser or proxy may keep a copy."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path.startswith("/admin/"):
            add_never_cache_headers(response)
            patch_cache_control(response, no_store=True, private=True)
        return response
