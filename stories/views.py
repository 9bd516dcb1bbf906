from datetime import date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import permission_required
from django.core.files.storage import default_storage
from django.core.paginator import InvalidPage, Paginator
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.utils.formats import date_format
from django.utils.html import strip_tags
from django.views.decorators.http import require_POST
from taggit.models import Tag

from entities.models import Entity
from newsroom import two_factor

from . import listings, services
from .forms import EditorImageUploadForm
from .models import FAQ, Correction, Outlet, Story, StorySlugRedirect, hero_image_url
from .rendering import preview_article, published_article
from .search import MAX_QUERY_CHARS, is_bounded, safe_snippet
from .story_page import load_story_page
from .structured_data import faq_page, news_article, outlet_page

STORIES_PER_PAGE = 20
ACTIVE_TOPICS = 8
ACTIVE_TOPIC_DAYS = 30


def _page(request, queryset, per_page=STORIES_PER_PAGE):
    paginator = Paginator(queryset, per_page)
    number = request.GET.get("page") or 1
    try:
        return paginator.page(number)
    except InvalidPage:
        # Only a bad page number is a 404: a database error must reach
        # DatabaseUnavailableMiddleware and give the 503 page.
        raise Http404("No such page.") from None


def home(request):
    page = listings.home_page(listings.page_number(request))
    context = {"page_obj": page, "lead": None, "topics": []}
    if page.number == 1 and page.object_list:
        context["lead"], context["stories"] = page.object_list[0], page.object_list[1:]
        since = timezone.now() - timedelta(days=ACTIVE_TOPIC_DAYS)
        context["topics"] = list(
            Entity.objects.most_active(since=since, limit=ACTIVE_TOPICS)
        )
    else:
        context["stories"] = page.object_list
    return render(request, "stories/story_list.html", context)


def story_detail(request, slug):
    page = load_story_page(slug)
    if page is None:
        return _missing_story(request, slug)
    story = page.story
    content = story.live_revision.content
    image = hero_image_url(content)
    context = {
        "story": story,
        "canonical_path": story.get_absolute_url(),
        "content": content,
        "article": published_article(story.live_revision),
        "corrections": page.corrections,
        "related": page.related,
        "hero_image_url": image,
        "structured_data": news_article(story, content, image),
    }
    response = render(request, "stories/story_detail.html", context)
    response["Last-Modified"] = _http_date(story.last_published_at)
    return response


def _http_date(value):
    from django.utils.http import http_date

    return http_date(value.timestamp())


def _missing_story(request, slug):
    """410 for a withdrawn story, 301 for a renamed one, else 404."""
    withdrawn = Story.objects.withdrawn().filter(public_slug=slug).first()
    if withdrawn is not None:
        return render(
            request, "stories/story_gone.html", {"story": withdrawn}, status=410
        )
    moved = StorySlugRedirect.objects.filter(slug=slug).select_related("story").first()
    if (
        moved is not None
        and moved.story.public_slug
        and moved.story.public_slug != slug
    ):
        return redirect(moved.story.get_absolute_url(), permanent=True)
    raise Http404("No published story at this address.")


def story_preview(request, token):
    """A draft shown through a signed, expiring, revocable link."""
    link = services.preview_link_from_token(token)
    if link is None:
        response = render(request, "stories/preview_unavailable.html", status=404)
    else:
        response = render(
            request,
            "stories/story_detail.html",
            {
                "story": link.story,
                "content": link.revision.content,
                "article": preview_article(link.revision.content),
                "hero_image_url": hero_image_url(link.revision.content),
                "corrections": [],
                "is_preview": True,
                "preview_expires_at": link.expires_at,
            },
        )
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
        .defer(
            "story__live_revision__content",
            "story__live_revision__search_body",
            "story__live_revision__search_vector",
        )
        .order_by("-created_at", "-id")
    )
    return render(
        request, "stories/correction_list.html", {"page_obj": _page(request, items, 50)}
    )


def faq_detail(request, slug):
    faq = get_object_or_404(FAQ.objects.public(), slug=slug)
    stories = listings.faq_cards(faq.pk)
    return render(
        request,
        "stories/faq_detail.html",
        {
            "faq": faq,
            "stories": stories,
            "structured_data": faq_page(faq, " ".join(strip_tags(faq.answer).split())),
        },
    )


def tag_detail(request, slug):
    page = listings.tag_page(slug, listings.page_number(request))
    if not page.object_list:
        raise Http404("No published stories with this tag.")
    tag = get_object_or_404(Tag, slug=slug)
    return render(
        request,
        "stories/tag_detail.html",
        {"tag": tag, "kind": "Tag", "heading": tag.name, "page_obj": page},
    )


def outlet_detail(request, slug):
    outlet = get_object_or_404(Outlet.objects.public(), slug=slug)
    page = listings.outlet_page(outlet.pk, listings.page_number(request))
    citations = [(card, outlet.summaries_in(card.extra)) for card in page.object_list]
    return render(
        request,
        "stories/outlet_detail.html",
        {
            "outlet": outlet,
            "page_obj": page,
            "citations": citations,
            "structured_data": outlet_page(outlet),
        },
    )


def author_detail(request, username):
    author = get_object_or_404(get_user_model(), username=username, is_active=True)
    page = listings.author_page(author.pk, listings.page_number(request))
    if not page.object_list:
        raise Http404("No published stories by this author.")
    return render(
        request,
        "stories/author_detail.html",
        {
            "kind": "Author",
            "heading": author.get_full_name() or author.get_username(),
            "page_obj": page,
        },
    )


def archive(request, year, month=None):
    try:
        start = date(year, month or 1, 1)
    except ValueError:
        raise Http404("No such date.") from None
    end = date(year + (month or 12) // 12, (month or 12) % 12 + 1, 1)
    # Midnight in the newsroom's time zone, as the dates are shown.
    page = listings.archive_page(
        timezone.make_aware(datetime.combine(start, time.min)),
        timezone.make_aware(datetime.combine(end, time.min)),
        listings.page_number(request),
    )
    if not page.object_list:
        raise Http404("Nothing was published then.")
    return render(
        request,
        "stories/archive.html",
        {
            "kind": "Archive",
            "heading": date_format(start, "F Y" if month else "Y"),
            "page_obj": page,
        },
    )


def search(request):
    query = " ".join(request.GET.get("q", "").split())[:MAX_QUERY_CHARS]
    page = listings.search_page(query, listings.page_number(request)) if query else None
    results = []
    if page is not None:
        results = [(card, safe_snippet(card.extra[0], query)) for card in page]
    response = render(
        request,
        "stories/search.html",
        {
            "query": query,
            "page_obj": page,
            "results": results,
            "is_bounded": page is not None and is_bounded(page.paginator.count),
        },
    )
    if query:
        response["X-Robots-Tag"] = "noindex"
    return response


def robots_txt(request):
    from django.conf import settings

    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        "Disallow: /preview/",
        "Disallow: /search/",
        f"Sitemap: {settings.SITE_URL}/sitemap.xml",
        f"Sitemap: {settings.SITE_URL}/sitemap-news.xml",
    ]
    return HttpResponse(
        "\n".join(lines) + "\n", content_type="text/plain; charset=utf-8"
    )


@require_POST
@two_factor.staff_view
@permission_required("stories.change_story", raise_exception=True)
def editor_image_upload(request):
    """CKEditor's upload endpoint: only story editors, only real images."""
    form = EditorImageUploadForm(files=request.FILES)
    if not form.is_valid():
        message = " ".join(form.errors.get("upload", ["Upload an image."]))
        return JsonResponse({"error": {"message": message}}, status=400)
    image = form.cleaned_data["upload"]
    name = default_storage.save(f"editor/{timezone.now():%Y/%m}/{image.name}", image)
    return JsonResponse({"url": default_storage.url(name)})
