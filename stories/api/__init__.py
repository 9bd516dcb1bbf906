"""The public, read-only Content API under /api/v1/ (Django REST Framework).

Everything it shows starts from the same querysets as the reader site
(Story.objects.published(), Entity/FAQ/Outlet .public()) and reads stories'
live revisions only, so it can show nothing a page could not. Responses are
built as plain dicts from the revision's JSON; the serializers in schemas.py
describe them for the OpenAPI schema, and a test checks real responses
against that schema.
"""
