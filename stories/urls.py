from django.urls import path

from . import views

app_name = "stories"
urlpatterns = [
    path("", views.home, name="home"),
    path("stories/<slug:slug>/", views.story_detail, name="detail"),
    path("questions/<slug:slug>/", views.faq_detail, name="faq_detail"),
    path("corrections/", views.corrections, name="corrections"),
    path("preview/<str:token>/", views.story_preview, name="preview"),
    path(
        "editor/image-upload/",
        views.editor_image_upload,
        name="editor_image_upload",
    ),
]
