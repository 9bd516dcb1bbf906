from django.http import Http404
from django.shortcuts import render

from stories import cache_tags, listings
from stories.structured_data import entity_page


def entity_detail(request, slug):
    found = listings.topic(slug)
    if found is None:
        raise Http404("No published story is about this topic.")
    entity, faqs = found
    page = listings.topic_page(entity.pk, listings.page_number(request))
    context = {
        "entity": entity,
        "page_obj": page,
        "faqs": faqs,
        "structured_data": entity_page(entity),
    }
    cache_tags.page(
        request,
        cache_tags.entity(entity.pk),
        *(cache_tags.faq(faq.pk) for faq in context["faqs"]),
        stories=page.object_list,
    )
    return render(request, "entities/entity_detail.html", context)
