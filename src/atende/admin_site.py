"""Django's admin at /admin/: for platform operators only (superusers, created with
`atende manage createsuperuser`; an organisation's administrators never are), behind the
same sign-in limits as the workspace."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from atende.tenancy import signin_limits
from atende.tenancy.models import User


class AdminSignInForm(signin_limits.LimitedSignInMixin, AdminAuthenticationForm):
    def confirm_login_allowed(self, user: User) -> None:
        super().confirm_login_allowed(user)
        if not getattr(user, "is_superuser", False):
            raise ValidationError(self.error_messages["invalid_login"], code="invalid_login",
                                  params={"username": self.username_field.verbose_name})


class AtendeAdminSite(admin.AdminSite):
    login_form = AdminSignInForm

    def has_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None
              ) -> HttpResponse:
        response = super().login(request, extra_context)
        context = getattr(response, "context_data", None) or {}
        if (isinstance(response, TemplateResponse) and "form" in context
                and signin_limits.is_too_many(context["form"])):
            response.status_code = 429
        return response
