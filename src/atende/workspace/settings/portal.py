"""Settings > Portal: the ticket form's layout, the reopen period and the appearance,
with a preview of the colours and a warning when their contrast is too low."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _

from atende.connectors.portal import appearance, form_fields
from atende.connectors.portal.channels import portal_channel, save_layout, settings_for
from atende.connectors.portal.mail import portal_url
from atende.workspace.access import settings_required
from atende.workspace.settings.portal_forms import (
    LayoutFormSet,
    PortalOptionsForm,
    layout_initial,
)


@settings_required
def portal_settings(request: HttpRequest) -> HttpResponse:
    org = request.membership.organization  # type: ignore[attr-defined]
    portal = settings_for(org.pk)
    posted = request.method == "POST"
    layout = LayoutFormSet(request.POST if posted else None, prefix="fields",
                           initial=layout_initial(form_fields.load(portal.form_fields)))
    options = PortalOptionsForm(request.POST if posted else None,
                                request.FILES if posted else None, instance=portal)
    theme = appearance.theme(portal)
    if posted and layout.is_valid() and options.is_valid():
        if "preview" in request.POST:  # show the colours without saving them
            theme = appearance.make_theme(options.cleaned_data["primary_color"],
                                          options.cleaned_data["secondary_color"])
        else:
            options.save()
            save_layout(org.pk, layout.layout())
            messages.success(request, _("Saved."))
            return redirect("workspace:settings:portal")
    channel = portal_channel(org.pk)
    return render(request, "workspace/settings/portal.html", {
        "layout": layout, "options": options, "theme": theme,
        "threshold": appearance.AA_NORMAL_TEXT,
        "portal_url": portal_url(org.slug) if channel else ""})
