"""schema.org JSON-LD for public pages, safe to embed in a <script> block."""

import json

from django.conf import settings
from django.utils.safestring import SafeString, mark_safe

from newsroom.addresses import static_address

# The same escapes as Django's json_script: no "</script>" can break out.
_ESCAPES = {
    ord(">"): "\\u003E",
    ord("<"): "\\u003C",
    ord("&"): "\\u0026",
    ord("\u2028"): "\\u2028",
    ord("\u2029"): "\\u2029",
}
SHARE_IMAGE = "img/share.png"  # 1200 x 675, the site's logo
KIND_TYPES = {"person": "Person", "place": "Place", "organisation": "Organization"}


def to_script(*items: dict) -> SafeString:
    data = items[0] if len(items) == 1 else list(items)
    return mark_safe(json.dumps(data, ensure_ascii=False).translate(_ESCAPES))


def absolute(path: str) -> str:
    return (
        path
        if path.startswith(("http://", "https://"))
        else f"{settings.SITE_URL}{path}"
    )


def publisher() -> dict:
    return {
        "@type": "NewsMediaOrganization",
        "name": settings.SITE_NAME,
        "url": settings.SITE_URL + "/",
        "logo": {
            "@type": "ImageObject",
            "url": absolute(static_address("img/logo.png")),
            "width": 600,
            "height": 60,
        },
    }


def _thing(entity: dict) -> dict:
    thing = {
        "@type": KIND_TYPES.get(entity.get("kind"), "Thing"),
        "name": entity["name"],
        "url": absolute(f"/topics/{entity['slug']}/"),
    }
    if entity.get("wikidata_id"):
        thing["sameAs"] = f"https://www.wikidata.org/wiki/{entity['wikidata_id']}"
    return thing


def breadcrumbs(*trail: tuple[str, str]) -> dict:
    return {
        "@context": "https://schema.org",
        "@type": "BreadcrumbList",
        "itemListElement": [
            {"@type": "ListItem", "position": n, "name": name, "item": absolute(url)}
            for n, (name, url) in enumerate(trail, start=1)
        ],
    }


def _news_organisation(outlet: dict) -> dict:
    organisation = {"@type": "NewsMediaOrganization", "name": outlet["name"]}
    if outlet.get("homepage"):
        organisation["url"] = outlet["homepage"]
    return organisation


def _citation(source: dict) -> dict:
    """A source summary as the work it summarises: the outlet's article
    where the summary links to it, else the outlet's coverage."""
    work = {"@type": "NewsArticle" if source.get("url") else "CreativeWork"}
    if source.get("url"):
        work["url"] = source["url"]
    work["publisher"] = _news_organisation(source["outlet"])
    return work


def news_article(
    story, content: dict, image_url: str = "", *, modified_at=None
) -> SafeString:
    """modified_at: the latest update or republication (the last
    publication when not given)."""
    url = absolute(story.get_absolute_url())
    modified_at = modified_at or story.last_published_at
    entities = content.get("entities", [])
    # From the live revision like everything else here: no query.
    sources = content.get("source_summaries", [])
    data = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": content["headline"][:110],
        "description": content["summary"],
        "url": url,
        "mainEntityOfPage": url,
        "datePublished": story.first_published_at.isoformat()
        if story.first_published_at
        else None,
        "dateModified": modified_at.isoformat() if modified_at else None,
        "author": [
            {
                "@type": "Person",
                "name": a["name"],
                "url": absolute(f"/authors/{a['username']}/"),
            }
            for a in content["authors"]
        ],
        "publisher": publisher(),
        # Google requires an image on a NewsArticle: the site's share image
        # stands in for a story without a hero image.
        "image": [absolute(image_url or static_address(SHARE_IMAGE))],
        "about": [_thing(e) for e in entities[:1]],
        "mentions": [_thing(e) for e in entities[1:]],
        "keywords": [t["name"] for t in content["tags"]],
        "citation": [_citation(s) for s in sources],
        "isBasedOn": list(dict.fromkeys(s["url"] for s in sources if s.get("url"))),
    }
    article = {k: v for k, v in data.items() if v not in (None, [], "")}
    trail = breadcrumbs(("Home", "/"), (content["headline"], story.get_absolute_url()))
    return to_script(article, trail)


def faq_page(faq, answer_text: str) -> SafeString:
    data = {
        "@context": "https://schema.org",
        "@type": "FAQPage",
        "mainEntity": [
            {
                "@type": "Question",
                "name": faq.question,
                "acceptedAnswer": {"@type": "Answer", "text": answer_text},
            }
        ],
    }
    return to_script(
        data, breadcrumbs(("Home", "/"), (faq.question, faq.get_absolute_url()))
    )


def entity_page(entity) -> SafeString:
    data = {
        "@context": "https://schema.org",
        "@type": entity.schema_type,
        "name": entity.name,
        "description": entity.short_description or None,
        "url": absolute(entity.get_absolute_url()),
        "alternateName": entity.alias_list or None,
        "sameAs": entity.wikidata_url or None,
    }
    clean = {k: v for k, v in data.items() if v not in (None, [], "")}
    return to_script(
        clean, breadcrumbs(("Home", "/"), (entity.name, entity.get_absolute_url()))
    )


def outlet_page(outlet) -> SafeString:
    page_url = absolute(outlet.get_absolute_url())
    data = {
        "@context": "https://schema.org",
        "@type": "NewsMediaOrganization",
        "name": outlet.name,
        # The organisation's own site where known; else the page about it.
        "url": outlet.homepage or page_url,
        "mainEntityOfPage": page_url,
        "alternateName": outlet.short_form_list or None,
        "address": {"@type": "PostalAddress", "addressCountry": outlet.country}
        if outlet.country
        else None,
        "knowsLanguage": outlet.language or None,
    }
    clean = {k: v for k, v in data.items() if v not in (None, [], "")}
    return to_script(
        clean, breadcrumbs(("Home", "/"), (outlet.name, outlet.get_absolute_url()))
    )
