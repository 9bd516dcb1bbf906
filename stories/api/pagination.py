"""Cursor pagination on a unique ordering, with no offsets.

DRF's CursorPagination keeps only the first ordering field in its cursor and
steps over ties with an offset. This one keeps the last item's value of
every ordering field (the last one must be unique, such as the primary key)
and asks for the rows after it, so a page is one index range scan however
deep the client reads, and rows published meanwhile move nothing.
"""

import base64
import binascii
import json
from functools import reduce
from operator import or_

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q
from django.utils.encoding import force_str
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


class KeysetPagination(BasePagination):
    """Forward-only pages of a queryset ordered by view.ordering, e.g.
    ("-last_published_at", "-pk")."""

    cursor_query_param = "cursor"
    page_size_query_param = "page_size"

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.ordering = view.ordering
        self.page_size = self._page_size(request)
        position = self._decode(request.query_params.get(self.cursor_query_param))
        queryset = queryset.order_by(*self.ordering)
        if position is not None:
            try:
                queryset = queryset.filter(self._after(position))
            except (DjangoValidationError, ValueError, TypeError):
                # A cursor edited by hand: values of the wrong type.
                raise ValidationError(
                    {self.cursor_query_param: "Invalid cursor."}
                ) from None
        # One row more than a page says whether another page follows.
        rows = list(queryset[: self.page_size + 1])
        self.has_next = len(rows) > self.page_size
        self.page = rows[: self.page_size]
        return self.page

    def get_paginated_response(self, data):
        return Response({"next": self._next_link(), "results": data})

    def _page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return DEFAULT_PAGE_SIZE
        # isdecimal, not isdigit: "²" is a digit int() refuses.
        if not raw.isdecimal() or not 1 <= int(raw) <= MAX_PAGE_SIZE:
            message = f"A whole number from 1 to {MAX_PAGE_SIZE}."
            raise ValidationError({self.page_size_query_param: message})
        return int(raw)

    def _after(self, position):
        """Rows after position in the ordering: (a, b) after (x, y) is
        a > x, or a = x and b > y (with < for descending fields)."""
        conditions = []
        for index, field in enumerate(self.ordering):
            name = field.lstrip("-")
            equal = {
                other.lstrip("-"): value
                for other, value in zip(
                    self.ordering[:index], position[:index], strict=True
                )
            }
            beyond = "lt" if field.startswith("-") else "gt"
            conditions.append(Q(**equal, **{f"{name}__{beyond}": position[index]}))
        return reduce(or_, conditions)

    def _decode(self, cursor):
        if cursor is None:
            return None
        try:
            padded = cursor + "=" * (-len(cursor) % 4)
            position = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        except (ValueError, UnicodeError, binascii.Error):
            position = None
        if (
            not isinstance(position, list)
            or len(position) != len(self.ordering)
            or not all(isinstance(value, str | int) for value in position)
            # PostgreSQL text cannot hold NUL: the query would fail.
            or any(isinstance(value, str) and "\x00" in value for value in position)
        ):
            raise ValidationError({self.cursor_query_param: "Invalid cursor."})
        return position

    def _encode(self, item):
        position = []
        for field in self.ordering:
            value = getattr(item, field.lstrip("-"))
            position.append(
                value
                if isinstance(value, int)
                else force_str(
                    value.isoformat() if hasattr(value, "isoformat") else value
                )
            )
        raw = json.dumps(position, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")

    def _next_link(self):
        if not self.has_next:
            return None
        # SITE_URL, like every other address the API gives.
        url = settings.SITE_URL + self.request.get_full_path()
        return replace_query_param(
            url, self.cursor_query_param, self._encode(self.page[-1])
        )

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["next", "results"],
            "properties": {
                "next": {
                    "type": ["string", "null"],
                    "format": "uri",
                    "description": "The next page, or null on the last.",
                },
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "Opaque position from a previous page's `next`.",
                "schema": {"type": "string"},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": f"Items per page, 1 to {MAX_PAGE_SIZE} "
                f"(default {DEFAULT_PAGE_SIZE}).",
                "schema": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": MAX_PAGE_SIZE,
                    "default": DEFAULT_PAGE_SIZE,
                },
            },
        ]
