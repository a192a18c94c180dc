"""The "Notifications" screen of an e-mail channel (EM-5): the templates per event and
language, the variables, and a preview filled from the channel's latest ticket."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from atende.channels.models import Channel, ChannelKind
from atende.connectors.email.models import NotificationEvent, NotificationLanguage
from atende.connectors.email.notification_form import NotificationsForm, field_name
from atende.connectors.email.notification_texts import (
    VARIABLES,
    default_text,
    fill,
    mail_subject,
    values_for,
)
from atende.contacts.models import Contact
from atende.tickets.models import Status, Ticket
from atende.workspace.access import settings_required


def _email_channel(request: HttpRequest, pk: int) -> Channel:
    org_id = request.membership.organization_id  # type: ignore[attr-defined]
    channel = Channel.objects.for_org(org_id).filter(pk=pk, kind=ChannelKind.EMAIL).first()
    if channel is None:
        raise Http404
    return channel


@settings_required
def notifications(request: HttpRequest, pk: int) -> HttpResponse:
    channel = _email_channel(request, pk)
    form = NotificationsForm(channel, request.POST or None)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Saved."))
        return redirect("workspace:settings:channel_notifications", pk=channel.pk)
    return render(request, "workspace/settings/channel_notifications.html", {
        "channel": channel, "form": form, "variables": sorted(VARIABLES.items()),
    })


def _sample_ticket(request: HttpRequest, channel: Channel, language: str) -> Ticket:
    """The channel's latest ticket, or an example one when it has none yet."""
    org = request.membership.organization  # type: ignore[attr-defined]
    ticket = (Ticket.objects.for_org(org.pk).filter(channel=channel)
              .select_related("contact", "organization", "service", "assignee")
              .order_by("-created_at", "-id").first())
    if ticket is not None:
        return ticket
    with translation.override(language):
        subject = _("My order has not arrived")
    return Ticket(organization=org, number=123, subject=subject,
                  status=Status.OPEN, contact=Contact(organization=org, name="Maria Souza"),
                  service=channel.service)


@require_POST
@settings_required
def notification_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """The mail as the customer would read it, from the text being edited (not saved)."""
    channel = _email_channel(request, pk)
    event = request.POST.get("event", "")
    language = request.POST.get("language", "")
    if event not in NotificationEvent.values or language not in NotificationLanguage.values:
        raise Http404
    default = default_text(event, language)
    subject = request.POST.get(field_name(event, language, "subject"), default.subject)
    body = request.POST.get(field_name(event, language, "body"), default.body)
    ticket = _sample_ticket(request, channel, language)
    values = values_for(ticket, language)
    return render(request, "workspace/settings/notification_preview.html", {
        "ticket": ticket, "subject": mail_subject(subject[:250], values, ticket.number),
        "body": fill(body[:20000], values), "sample": ticket.pk is None,
    })
