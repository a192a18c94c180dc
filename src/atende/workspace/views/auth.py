"""Sign-in, sign-out and the organisation switch."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm, SetPasswordForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from atende.client_address import client_ip
from atende.ids import parse_id
from atende.tenancy import signin_limits
from atende.tenancy.access import SESSION_ORG_KEY
from atende.tenancy.models import Membership
from atende.workspace.access import agent_required


class SignInForm(signin_limits.LimitedSignInMixin, AuthenticationForm):
    username = forms.EmailField(
        label=_("E-mail"),
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )

    def clean_username(self) -> str:
        # Addresses are stored lower-case (UserManager.create_user).
        return str(self.cleaned_data["username"]).strip().lower()


class SignInView(auth_views.LoginView):
    template_name = "workspace/login.html"
    form_class = SignInForm
    redirect_authenticated_user = True

    def form_invalid(self, form: AuthenticationForm) -> HttpResponse:
        response = super().form_invalid(form)
        if signin_limits.is_too_many(form):
            response.status_code = 429
        return response

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        response = super().form_valid(form)
        user = self.request.user
        if getattr(user, "language", ""):
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME, user.language,  # type: ignore[union-attr]
                secure=settings.LANGUAGE_COOKIE_SECURE,
                httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
                samesite=settings.LANGUAGE_COOKIE_SAMESITE)
        return response


class SignOutView(auth_views.LogoutView):
    next_page = "/login/"


# Password reset by e-mail: Django's views and tokens, the workspace's pages and message.
class PasswordResetView(auth_views.PasswordResetView):
    template_name = "workspace/password_reset/form.html"
    email_template_name = "workspace/password_reset/email.txt"
    subject_template_name = "workspace/password_reset/subject.txt"
    success_url = reverse_lazy("workspace:password-reset-done")

    def form_valid(self, form: PasswordResetForm) -> HttpResponse:
        # A few requests per address and e-mail, then the same "check your e-mail" page
        # without sending: nobody can flood a mailbox, and nothing tells whether it exists.
        ip, email = client_ip(self.request), str(form.cleaned_data["email"])
        if signin_limits.is_blocked(ip, email, action="reset"):
            return redirect(self.success_url)
        signin_limits.record_failure(ip, email, action="reset")
        return super().form_valid(form)


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "workspace/password_reset/sent.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "workspace/password_reset/confirm.html"
    success_url = reverse_lazy("workspace:password-reset-complete")

    def form_valid(self, form: SetPasswordForm) -> HttpResponse:
        signin_limits.clear_account(form.user.get_username())
        return super().form_valid(form)


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "workspace/password_reset/complete.html"


@require_POST
@agent_required
def switch_organization(request: HttpRequest) -> HttpResponse:
    """Work in another organisation the agent belongs to (kept in the session)."""
    org_id = parse_id(str(request.POST.get("organization", "")))
    if org_id is None:
        return redirect("/")
    if Membership.objects.for_org(org_id).filter(user=request.user, is_active=True).exists():
        request.session[SESSION_ORG_KEY] = org_id
    return HttpResponseRedirect("/")
