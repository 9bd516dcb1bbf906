from datetime import date, datetime, time

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

from newsroom import two_factor
from newsroom.middleware import frameable_by_same_origin

from . import cache_tags, listings, services
from .forms import EditorImageUploadForm
from .models import FAQ, Correction, Outlet, Story, StorySlugRedirect, hero_image_url
from .rendering import preview_article, published_article
from .search import MAX_QUERY_CHARS, is_bounded, safe_snippet
from .since_last_read import (
    COOKIE_NAME,
    MAX_ID,
    read_seen,
    remember,
    set_seen_cookie,
    what_changed,
)
from .story_page import load_story_page
from .structured_data import faq_page, news_article, outlet_page

STORIES_PER_PAGE = 20


def _page(request, queryset, per_page=STORIES_PER_PAGE):
    paginator = Paginator(queryset, per_page)
    number = listings.page_number(request)
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
        context["topics"] = listings.active_topics(page.topics_version)
    else:
        context["stories"] = page.object_list
    cache_tags.page(
        request,
        cache_tags.HOME,
        *(cache_tags.entity(topic.pk) for topic in context["topics"]),
        stories=page.object_list,
    )
    return render(request, "stories/story_list.html", context)


def story_detail(request, slug):
    page = load_story_page(slug)
    if page is None:
        return _missing_story(request, slug)
    story = page.story
    cache_tags.story_page(request, story, page.related)
    content = story.live_revision.content
    image = hero_image_url(content)
    # Read with the page's one statement: split here rather than queried.
    updates = sorted(
        (c for c in page.corrections if c.kind == Correction.Kind.UPDATE),
        key=lambda c: (c.created_at, c.pk),
        reverse=True,
    )
    modified_at = max([story.last_published_at, *(u.created_at for u in updates)])
    context = {
        "story": story,
        "canonical_path": story.get_absolute_url(),
        "content": content,
        "article": published_article(story.live_revision),
        "updates": updates,
        "corrections": [
            c for c in page.corrections if c.kind != Correction.Kind.UPDATE
        ],
        "related": page.related,
        "hero_image_url": image,
        "structured_data": news_article(story, content, image, modified_at=modified_at),
    }
    # The page never reads the reader's cookie: it is the same bytes for
    # everyone, and the "since you last read" box comes from its own request.
    response = render(request, "stories/story_detail.html", context)
    response["Last-Modified"] = _http_date(story.last_published_at)
    return response


@frameable_by_same_origin
def since_last_read(request, slug, story_id, revision_id):
    """The "What changed since you last read" box for one reader, embedded
    in the story page by a frame (or fetched by its script), never cached or
    shared. The page's address carries the story's id and the revision it
    shows, so a first visit or an up-to-date reader, nearly every request,
    costs no query: only a reader who saw an earlier revision of the story
    has it compared. The cookie then records the revision shown."""
    if max(story_id, revision_id) > MAX_ID:
        raise Http404("No such story or revision.")
    seen = read_seen(request.COOKIES.get(COOKIE_NAME))
    seen_id = seen.get(story_id)
    changes = None
    if seen_id is not None and seen_id < revision_id:
        changes = what_changed(story_id, slug, seen_id, revision_id)
    response = render(
        request,
        "stories/since_last_read.html",
        {"changes": changes, "story_path": f"/stories/{slug}/"},
    )
    set_seen_cookie(response, remember(seen, story_id, revision_id))
    response["X-Robots-Tag"] = "noindex"
    add_never_cache_headers(response)
    patch_cache_control(response, private=True, no_store=True)
    return response


def _http_date(value):
    from django.utils.http import http_date

    return http_date(value.timestamp())


def _missing_story(request, slug):
    """410 for a withdrawn story, 301 for a renamed one, else 404."""
    withdrawn = Story.objects.withdrawn().filter(public_slug=slug).first()
    if withdrawn is not None:
        cache_tags.page(request, cache_tags.story(withdrawn.pk))
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
    # Update lines are news, not fixes: they are listed on their stories.
    items = (
        Correction.objects.corrections()
        .filter(story__in=Story.objects.published())
        .select_related("story__live_revision")
        .defer(
            "story__live_revision__content",
            "story__live_revision__search_body",
            "story__live_revision__search_vector",
        )
        .order_by("-created_at", "-id")
    )
    page = _page(request, items, 50)
    cache_tags.page(
        request,
        cache_tags.CORRECTIONS,
        *(cache_tags.story(item.story_id) for item in page.object_list),
    )
    return render(request, "stories/correction_list.html", {"page_obj": page})


def faq_detail(request, slug):
    faq = get_object_or_404(FAQ.objects.public(), slug=slug)
    stories = listings.faq_cards(faq.pk)
    cache_tags.page(request, cache_tags.faq(faq.pk), stories=stories)
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
    cache_tags.page(request, cache_tags.tag(slug), stories=page.object_list)
    return render(
        request,
        "stories/tag_detail.html",
        {"tag": tag, "kind": "Tag", "heading": tag.name, "page_obj": page},
    )


def outlet_detail(request, slug):
    outlet = get_object_or_404(Outlet.objects.public(), slug=slug)
    page = listings.outlet_page(outlet.pk, listings.page_number(request))
    citations = [(card, outlet.summaries_in(card.extra)) for card in page.object_list]
    cache_tags.page(request, cache_tags.outlet(outlet.pk), stories=page.object_list)
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
    cache_tags.page(request, cache_tags.author(author.pk), stories=page.object_list)
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
        end = date(year + (month or 12) // 12, (month or 12) % 12 + 1, 1)
    except ValueError:  # no such month, or past the year 9999
        raise Http404("No such date.") from None
    # Midnight in the newsroom's time zone, as the dates are shown.
    page = listings.archive_page(
        timezone.make_aware(datetime.combine(start, time.min)),
        timezone.make_aware(datetime.combine(end, time.min)),
        listings.page_number(request),
    )
    if not page.object_list:
        raise Http404("Nothing was published then.")
    cache_tags.page(request, cache_tags.archive(year, month), stories=page.object_list)
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
    # PostgreSQL text cannot hold NUL: dropped, not a failed query.
    query = request.GET.get("q", "").replace("\x00", "")
    query = " ".join(query.split())[:MAX_QUERY_CHARS]
    # Any publication may change any search's results.
    cache_tags.page(request, cache_tags.SEARCH)
    page = listings.search_page(query, listings.page_number(request)) if query else None
    results = []
    if page is not None:
        results = [(card, safe_snippet(*card.extra, query=query)) for card in page]
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
