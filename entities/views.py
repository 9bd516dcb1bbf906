from django.shortcuts import get_object_or_404, render

from stories import cache_tags
from stories.models import FAQ, Story
from stories.structured_data import entity_page

from .models import Entity


def entity_detail(request, slug):
    entity = get_object_or_404(Entity.objects.public(), slug=slug)
    stories = Story.objects.published().filter(live_revision__entities=entity)
    context = {
        "entity": entity,
        "stories": list(stories.for_listing()[:50]),
        "faqs": list(FAQ.objects.public().filter(entities=entity)),
        "structured_data": entity_page(entity),
    }
    cache_tags.page(
        request,
        cache_tags.entity(entity.pk),
        *(cache_tags.faq(faq.pk) for faq in context["faqs"]),
        stories=context["stories"],
    )
    return render(request, "entities/entity_detail.html", context)
