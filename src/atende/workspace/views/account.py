"""The signed-in person's own account: their name and language, and the organisations
that invited them. Only the person changes these; no organisation does."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from atende.ids import parse_id
from atende.tenancy.access import SESSION_ORG_KEY, pending_invitations
from atende.tenancy.models import User
from atende.tickets.services.agents import accept_invitation, decline_invitation


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["name", "language"]
        labels = {"name": _("Name"), "language": _("Language")}

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["language"] = forms.ChoiceField(
            label=_("Language"), required=False,
            choices=[("", _("As the browser asks")), ("pt-br", "Português (Brasil)"),
                     ("en", "English")])


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Saved."))
        return redirect("workspace:profile")
    return render(request, "workspace/profile.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def invitations(request: HttpRequest) -> HttpResponse:
    """Pending invitations, each to accept or decline."""
    user_id: int = request.user.pk  # type: ignore[assignment]  # login_required
    if request.method == "POST":
        membership_id = parse_id(str(request.POST.get("invitation", "")))
        answer = str(request.POST.get("answer", ""))
        if membership_id is not None and answer == "accept":
            accepted = accept_invitation(user_id, membership_id)
            if accepted is not None:
                request.session[SESSION_ORG_KEY] = accepted.organization_id  # work there now
                messages.success(request, _("Welcome! You are now an agent of this "
                                            "organisation."))
                return redirect("/")
        elif membership_id is not None and answer == "decline":
            decline_invitation(user_id, membership_id)
        return redirect("workspace:invitations")
    return render(request, "workspace/invitations.html",
                  {"invitations": pending_invitations(request)})
