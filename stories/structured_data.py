"""schema.org JSON-LD for public pages, safe to embed in a <script> block."""

import json

from django.conf import settings
from django.utils.safestring import SafeString, mark_safe

# The same escapes as Django's json_script: no "</script>" can break out.
_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026",
            ord("\u2028"): "\\u2028", ord("\u2029"): "\\u2029"}


def to_script(data: dict) -> SafeString:
    return mark_safe(json.dumps(data, ensure_ascii=False).translate(_ESCAPES))


def news_article(story, content: dict) -> SafeString:
    url = f"{settings.SITE_URL}{story.get_absolute_url()}"
    data = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": content["headline"][:110],
        "description": content["summary"],
        "url": url,
        "mainEntityOfPage": url,
        "datePublished": story.first_published_at.isoformat() if story.first_published_at else None,
        "dateModified": story.last_published_at.isoformat() if story.last_published_at else None,
        "author": [{"@type": "Person", "name": a["name"]} for a in content["authors"]],
        "publisher": {"@type": "Organization", "name": settings.SITE_NAME,
                      "url": settings.SITE_URL},
        "about": [{"@type": "Thing", "name": e["name"]} for e in content.get("entities", [])],
        "keywords": [t["name"] for t in content["tags"]],
    }
    return to_script({k: v for k, v in data.items() if v not in (None, [], "")})
