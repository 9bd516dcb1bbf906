"""/healthz for load balancers and docker-compose: answered before host
validation and the HTTPS redirect, since probes come over plain HTTP from
inside the network."""

from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse

HEALTH_PATH = "/healthz"


def check() -> tuple[bool, dict]:
    status = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        status["database"] = "ok"
    except Exception as error:  # any failure means "not healthy", said plainly
        status["database"] = f"error: {error.__class__.__name__}"
    try:
        cache.set("healthz", "ok", 5)
        status["cache"] = "ok" if cache.get("healthz") == "ok" else "error"
    except Exception as error:
        status["cache"] = f"error: {error.__class__.__name__}"
    return all(value == "ok" for value in status.values()), status


class HealthCheckMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path == HEALTH_PATH and request.method in ("GET", "HEAD"):
            healthy, status = check()
            response = JsonResponse(status, status=200 if healthy else 503)
            response["Cache-Control"] = "no-store"
            return response
        return self.get_response(request)
