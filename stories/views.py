from django.contrib.auth.decorators import permission_required
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from entities.models import Entity

from .forms import EditorImageUploadForm
from .models import FAQ, Story

STORIES_PER_PAGE = 20


def home(request):
    paginator = Paginator(Story.objects.published().for_listing(), STORIES_PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    return render(request, "stories/story_list.html", {"page_obj": page})


def story_detail(request, slug):
    queryset = Story.objects.published().for_story_page()
    story = get_object_or_404(queryset, slug=slug)
    revision = story.live_revision
    content = revision.content
    context = {
        "story": story,
        "revision": revision,
        "content": content,
        "entities": Entity.objects.in_order(content["entity_ids"]),
        "faqs": list(FAQ.objects.filter(pk__in=content["faq_ids"]).order_by("id")),
    }
    return render(request, "stories/story_detail.html", context)


def faq_detail(request, slug):
    faq = get_object_or_404(FAQ.objects.public(), slug=slug)
    stories = Story.objects.published().filter(live_revision__faqs=faq).for_listing()
    return render(
        request, "stories/faq_detail.html", {"faq": faq, "stories": list(stories)}
    )


@require_POST
@permission_required("stories.change_story", raise_exception=True)
def editor_image_upload(request):
    """CKEditor's upload endpoint: only story editors, only real images."""
    form = EditorImageUploadForm(files=request.FILES)
    if not form.is_valid():
        message = " ".join(form.errors.get("upload", ["Upload an image."]))
        return JsonResponse({"error": {"message": message}}, status=400)
    image = form.cleaned_data["upload"]
    name = default_storage.save(
        f"editor/{timezone.now():%Y/%m}/{image.name}", image
    )
    return JsonResponse({"url": default_storage.url(name)})
