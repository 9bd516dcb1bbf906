from django.urls import path

from . import views

app_name = "entities"
urlpatterns = [
    path("topics/<slug:slug>/", views.entity_detail, name="detail"),
]
