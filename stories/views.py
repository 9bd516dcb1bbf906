from django.contrib.auth.decorators import permission_required
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.views.decorators.http import require_POST

from . import services
from .forms import EditorImageUploadForm
from .models import FAQ, Correction, Story, StorySlugRedirect, hero_image_url
from .structured_data import news_article

STORIES_PER_PAGE = 20


def home(request):
    paginator = Paginator(Story.objects.published().for_listing(), STORIES_PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    return render(request, "stories/story_list.html", {"page_obj": page})


def story_detail(request, slug):
    story = Story.objects.published().for_story_page().filter(public_slug=slug).first()
    if story is None:
        return _missing_story(request, slug)
    context = {
        "story": story,
        "revision": story.live_revision,
        "content": story.live_revision.content,
        "corrections": list(story.corrections.all()),
        "hero_image_url": hero_image_url(story.live_revision.content),
        "structured_data": news_article(story, story.live_revision.content),
    }
    return render(request, "stories/story_detail.html", context)


def _missing_story(request, slug):
    """410 for a withdrawn story, 301 for a renamed one, else 404."""
    withdrawn = Story.objects.withdrawn().filter(public_slug=slug).first()
    if withdrawn is not None:
        return render(request, "stories/story_gone.html", {"story": withdrawn}, status=410)
    moved = StorySlugRedirect.objects.filter(slug=slug).select_related("story").first()
    if moved is not None and moved.story.public_slug and moved.story.public_slug != slug:
        return redirect(moved.story.get_absolute_url(), permanent=True)
    raise Http404("No published story at this address.")


def story_preview(request, token):
    """A draft shown through a signed, expiring, revocable link."""
    link = services.preview_link_from_token(token)
    if link is None:
        response = render(request, "stories/preview_unavailable.html", status=404)
    else:
        response = render(request, "stories/story_detail.html", {
            "story": link.story,
            "revision": link.revision,
            "content": link.revision.content,
            "hero_image_url": hero_image_url(link.revision.content),
            "corrections": [],
            "is_preview": True,
            "preview_expires_at": link.expires_at,
        })
    return _private(response)


def _private(response):
    add_never_cache_headers(response)
    patch_cache_control(response, private=True, no_store=True)
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def corrections(request):
    items = (
        Correction.objects.filter(story__in=Story.objects.published())
        .select_related("story__live_revision")
        .order_by("-created_at", "-id")
    )
    page = Paginator(items, 50).get_page(request.GET.get("page"))
    return render(request, "stories/correction_list.html", {"page_obj": page})


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
