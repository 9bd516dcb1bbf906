from functools import update_wrapper

from django.contrib import admin
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import path

from . import two_factor


class NewsroomAdminSite(admin.AdminSite):
    """The admin, opening on the editors' desk instead of a list of models,
    with optional two-factor sign-in (newsroom/two_factor.py)."""

    index_template = "admin/desk.html"
    login_form = two_factor.AdminLoginForm
    login_template = "admin/newsroom_login.html"

    def has_permission(self, request):
        return super().has_permission(request) and not two_factor.needs_code(request)

    def admin_view(self, view, cacheable=False):
        checked = super().admin_view(view, cacheable)

        def inner(request, *args, **kwargs):
            if two_factor.must_set_up(request) and view != self.logout:
                return redirect("admin:two_factor")
            return checked(request, *args, **kwargs)

        return update_wrapper(inner, view)

    def autocomplete_view(self, request):
        return DeclaredAutocompleteView.as_view(admin_site=self)(request)

    def get_urls(self):
        # Not wrapped in admin_view: it is where must_set_up sends people.
        view = two_factor.TwoFactorView.as_view(admin_site=self)
        return [path("two-factor/", view, name="two_factor"), *super().get_urls()]

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


class DeclaredAutocompleteView(AutocompleteJsonView):
    """Django's autocomplete answers for any foreign key whose target the
    user may view, whether or not a form offers that search. Answer only for
    fields an admin form declares in autocomplete_fields, and only to people
    who may open that form: a crafted request cannot list story headlines
    (or anything else) through a path no form uses."""

    def process_request(self, request):
        term, model_admin, source_field, to_field_name = super().process_request(
            request
        )
        form_admin = self._declaring_admin(source_field)
        if form_admin is None or not form_admin.has_view_permission(request):
            raise PermissionDenied
        return term, model_admin, source_field, to_field_name

    def _declaring_admin(self, source_field):
        """The registered ModelAdmin whose form (or inline) offers this
        autocomplete, if any."""
        for model_admin in self.admin_site._registry.values():
            if (
                model_admin.model is source_field.model
                and source_field.name in model_admin.autocomplete_fields
            ):
                return model_admin
            for inline in model_admin.inlines:
                if (
                    inline.model is source_field.model
                    and source_field.name in inline.autocomplete_fields
                ):
                    return model_admin
        return None
