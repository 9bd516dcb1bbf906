"""JSON serialisation that keeps times to the microsecond.

Django's JSON encoder cuts datetimes to milliseconds (as JavaScript does); an
export meant to restore a newsroom exactly must not. Loading needs nothing
special: Django's JSON deserialiser reads the full ISO times.
"""

import datetime

from django.core.serializers.json import (
    Deserializer,  # noqa: F401
    DjangoJSONEncoder,
)
from django.core.serializers.json import Serializer as JSONSerializer


class ExactJSONEncoder(DjangoJSONEncoder):
    def default(self, o):
        if isinstance(o, (datetime.datetime, datetime.time)):
            return o.isoformat()
        return super().default(o)


class Serializer(JSONSerializer):
    def _init_options(self):
        super()._init_options()
        self.json_kwargs["cls"] = ExactJSONEncoder
