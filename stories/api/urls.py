from django.urls import path, re_path

from entities.api import TopicDetail, TopicList

from . import views

app_name = "api"
urlpatterns = [
    path("stories/", views.StoryList.as_view(), name="stories"),
    path("stories/<slug:slug>/", views.StoryDetail.as_view(), name="story"),
    path("topics/", TopicList.as_view(), name="topics"),
    path("topics/<slug:slug>/", TopicDetail.as_view(), name="topic"),
    path("faqs/", views.FAQList.as_view(), name="faqs"),
    path("faqs/<slug:slug>/", views.FAQDetail.as_view(), name="faq"),
    path("outlets/", views.OutletList.as_view(), name="outlets"),
    path("outlets/<slug:slug>/", views.OutletDetail.as_view(), name="outlet"),
    path("tags/", views.TagList.as_view(), name="tags"),
    path("schema/", views.SchemaView.as_view(), name="schema"),
    # Anything else ending in a slash: an address without one is left to
    # APPEND_SLASH, which redirects "stories" to "stories/".
    re_path(r"^(?:.*/)?$", views.not_found),
]
