from functools import update_wrapper

from django.contrib import admin
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import path
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect

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
            if view == self.logout:
                # Anyone signed in may sign out, even a session that may not
                # use the admin (password only, or no app where one is
                # required), which admin_view would send elsewhere.
                return signed_out(request, *args, **kwargs)
            if two_factor.must_set_up(request):
                return redirect("admin:two_factor")
            return checked(request, *args, **kwargs)

        signed_out = never_cache(csrf_protect(view))

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
    who may fill in that form (add or change, not just view): a crafted
    request cannot list story headlines (or anything else) through a path no
    form offers them."""

    def process_request(self, request):
        term, model_admin, source_field, to_field_name = super().process_request(
            request
        )
        if not self._may_fill_in(request, source_field):
            raise PermissionDenied
        return term, model_admin, source_field, to_field_name

    def _may_fill_in(self, request, source_field):
        for model_admin in self.admin_site._registry.values():
            if (
                model_admin.model is source_field.model
                and source_field.name in model_admin.get_autocomplete_fields(request)
            ):
                return model_admin.has_add_permission(
                    request
                ) or model_admin.has_change_permission(request)
            for inline_class in model_admin.inlines:
                inline = inline_class(model_admin.model, self.admin_site)
                if (
                    inline.model is source_field.model
                    and source_field.name in inline.get_autocomplete_fields(request)
                ):
                    return inline.has_add_permission(
                        request, None
                    ) or inline.has_change_permission(request)
        return False
