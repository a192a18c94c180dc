"""The settings index and the organisation's own settings."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _

from atende.workspace.access import SETTINGS_PERMISSIONS, permission_required, settings_required
from atende.workspace.settings.forms import OrganizationForm


@permission_required(*SETTINGS_PERMISSIONS)
def index(request: HttpRequest) -> HttpResponse:
    return render(request, "workspace/settings/index.html")


@settings_required
def organization(request: HttpRequest) -> HttpResponse:
    org = request.membership.organization  # type: ignore[attr-defined]
    form = OrganizationForm(request.POST or None, instance=org)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Saved."))
        return redirect("workspace:settings:organization")
    return render(request, "workspace/settings/organization.html", {"form": form})
