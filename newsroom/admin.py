from django.contrib import admin
from django.contrib.admin.apps import AdminConfig


class NewsroomAdminSite(admin.AdminSite):
    """The admin, opening on the editors' desk instead of a list of models."""

    index_template = "admin/desk.html"

    def each_context(self, request):
        context = super().each_context(request)
        if request.user.is_active and request.user.is_staff:
            from stories.desk import alerts_for

            context["newsroom_alerts"] = alerts_for(request.user)
        return context

    def index(self, request, extra_context=None):
        from stories.desk import desk_for

        context = {"desk": desk_for(request.user), **(extra_context or {})}
        return super().index(request, context)


class NewsroomAdminConfig(AdminConfig):
    default_site = "newsroom.admin.NewsroomAdminSite"
