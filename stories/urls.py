from django.contrib.sitemaps import views as sitemap_views
from django.urls import path

from . import cache_tags, feeds, views
from .sitemaps import SITEMAPS, news_items

app_name = "stories"


@cache_tags.tagged(cache_tags.SITEMAP)
def news_sitemap(request):
    from django.conf import settings
    from django.shortcuts import render

    return render(
        request,
        "stories/sitemap_news.xml",
        {"stories": news_items(), "site_name": settings.SITE_NAME},
        content_type="application/xml",
    )


urlpatterns = [
    path("", views.home, name="home"),
    path("stories/<slug:slug>/", views.story_detail, name="detail"),
    path(
        "stories/<slug:slug>/since-you-last-read/<int:story_id>/<int:revision_id>/",
        views.since_last_read,
        name="since_last_read",
    ),
    path("questions/<slug:slug>/", views.faq_detail, name="faq_detail"),
    path("tags/<slug:slug>/", views.tag_detail, name="tag"),
    path("outlets/<slug:slug>/", views.outlet_detail, name="outlet"),
    path("authors/<str:username>/", views.author_detail, name="author"),
    path("archive/<int:year>/", views.archive, name="archive_year"),
    path("archive/<int:year>/<int:month>/", views.archive, name="archive_month"),
    path("search/", views.search, name="search"),
    path("corrections/", views.corrections, name="corrections"),
    path("preview/<str:token>/", views.story_preview, name="preview"),
    path("feeds/rss/", feeds.StoryFeed(), name="feed_rss"),
    path("feeds/atom/", feeds.AtomStoryFeed(), name="feed_atom"),
    path("feeds/tags/<slug:slug>/rss/", feeds.TagFeed(), name="tag_feed_rss"),
    path("feeds/tags/<slug:slug>/atom/", feeds.AtomTagFeed(), name="tag_feed_atom"),
    path("feeds/topics/<slug:slug>/rss/", feeds.EntityFeed(), name="entity_feed_rss"),
    path(
        "feeds/topics/<slug:slug>/atom/",
        feeds.AtomEntityFeed(),
        name="entity_feed_atom",
    ),
    path("feeds/outlets/<slug:slug>/rss/", feeds.OutletFeed(), name="outlet_feed_rss"),
    path(
        "feeds/outlets/<slug:slug>/atom/",
        feeds.AtomOutletFeed(),
        name="outlet_feed_atom",
    ),
    path(
        "sitemap.xml",
        cache_tags.tagged(cache_tags.SITEMAP)(sitemap_views.index),
        {"sitemaps": SITEMAPS, "sitemap_url_name": "stories:sitemap_section"},
        name="sitemap",
    ),
    # Before the section pattern, which would take "news" for a section.
    path("sitemap-news.xml", news_sitemap, name="sitemap_news"),
    path(
        "sitemap-<section>.xml",
        cache_tags.tagged(cache_tags.SITEMAP)(sitemap_views.sitemap),
        {"sitemaps": SITEMAPS},
        name="sitemap_section",
    ),
    path("robots.txt", views.robots_txt, name="robots"),
    path("editor/image-upload/", views.editor_image_upload, name="editor_image_upload"),
]
