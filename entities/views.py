from django.shortcuts import get_object_or_404, render

from stories import listings
from stories.models import FAQ
from stories.structured_data import entity_page

from .models import Entity


def entity_detail(request, slug):
    entity = get_object_or_404(Entity.objects.public(), slug=slug)
    context = {
        "entity": entity,
        "stories": listings.topic_cards(entity.pk),
        "faqs": list(FAQ.objects.public().filter(entities=entity)),
        "structured_data": entity_page(entity),
    }
    return render(request, "entities/entity_detail.html", context)
