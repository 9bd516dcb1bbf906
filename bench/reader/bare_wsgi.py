"""The floor an app server pays: a WSGI function returning fixed bytes with
the headers the real page sends."""

import json
import os

with open(os.environ["BARE_BODY"], "rb") as handle:
    BODY = handle.read()
with open(os.environ["BARE_HEADERS"]) as handle:
    HEADERS = [(k, v) for k, v in json.load(handle) if k.lower() != "content-length"]
HEADERS.append(("Content-Length", str(len(BODY))))


def application(environ, start_response):
    start_response("200 OK", HEADERS)
    return [BODY]
