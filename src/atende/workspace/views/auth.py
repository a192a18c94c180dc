"""Sign-in, sign-out and the organisation switch."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from atende.ids import parse_id
from atende.tenancy.access import SESSION_ORG_KEY
from atende.tenancy.models import Membership
from atende.workspace import ratelimit
from atende.workspace.access import agent_required


class SignInForm(AuthenticationForm):
    username = forms.EmailField(
        label=_("E-mail"),
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )

    def clean_username(self) -> str:
        # Addresses are stored lower-case (UserManager.create_user).
        return str(self.cleaned_data["username"]).strip().lower()


def client_ip(request: HttpRequest) -> str:
    # uvicorn runs with proxy_headers, so REMOTE_ADDR is already the client behind a proxy.
    return str(request.META.get("REMOTE_ADDR", ""))


class SignInView(auth_views.LoginView):
    template_name = "workspace/login.html"
    form_class = SignInForm
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        email = str(request.POST.get("username", ""))
        if ratelimit.is_blocked(client_ip(request), email):
            form = self.get_form()
            form.errors.clear()
            form.add_error(None, _("Too many failed attempts. Wait 15 minutes and try again, "
                                   "or reset your password."))
            response = self.render_to_response(self.get_context_data(form=form))
            response.status_code = 429
            return response
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form: AuthenticationForm) -> HttpResponse:
        ratelimit.record_failure(client_ip(self.request),
                                 str(self.request.POST.get("username", "")))
        return super().form_invalid(form)

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        ratelimit.reset(client_ip(self.request), str(self.request.POST.get("username", "")))
        response = super().form_valid(form)
        user = self.request.user
        if getattr(user, "language", ""):
            response.set_cookie("django_language", user.language)  # type: ignore[union-attr]
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
        if ratelimit.is_blocked(ip, email, scope="reset"):
            return redirect(self.success_url)
        ratelimit.record_failure(ip, email, scope="reset")
        return super().form_valid(form)


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "workspace/password_reset/sent.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "workspace/password_reset/confirm.html"
    success_url = reverse_lazy("workspace:password-reset-complete")


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
