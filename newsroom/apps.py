from django.contrib.admin.apps import AdminConfig


class NewsroomAdminConfig(AdminConfig):
    # Here, not in newsroom/admin.py, which imports forms and models that
    # need the app registry this config is part of.
    default_site = "newsroom.admin.NewsroomAdminSite"
