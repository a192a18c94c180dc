"""Approved message templates (HSM): listed from the provider (cached per channel), filled
from the ticket, and sent on a ticket — by an agent or for a mapped ticket event."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from atende.channels.models import Channel, ChannelKind
from atende.connectors.whatsapp.client import WhatsAppClient
from atende.connectors.whatsapp.models import TemplateMessage
from atende.tickets.errors import TicketError
from atende.tickets.models import OPEN_STATUSES, Message, Status, Ticket
from atende.tickets.services.actor import Actor
from atende.tickets.services.changes import update_ticket
from atende.tickets.services.replies import post_message

CACHE_SECONDS = 600
VARIABLE = re.compile(r"\{\{\s*(\d+)\s*\}\}")
# What an agent or a mapping may write as a parameter, filled from the ticket.
TICKET_FIELDS = ("name", "protocol", "status", "subject")


@dataclass(frozen=True)
class Template:
    name: str
    language: str
    category: str
    body: str

    @property
    def variables(self) -> int:
        return max((int(n) for n in VARIABLE.findall(self.body)), default=0)

    def render(self, params: Sequence[str]) -> str:
        return VARIABLE.sub(lambda m: _param(params, int(m.group(1))), self.body)

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "language": self.language, "category": self.category,
                "body": self.body, "variables": self.variables}


def _param(params: Sequence[str], n: int) -> str:
    return params[n - 1] if 0 < n <= len(params) else ""


def _cache_key(channel: Channel) -> str:
    return f"whatsapp:templates:{channel.organization_id}:{channel.pk}"


def approved_templates(channel: Channel, *, refresh: bool = False) -> list[Template]:
    """The channel's approved templates, from the provider at most every 10 minutes.
    Raises ProviderError when the provider cannot be asked."""
    cached = None if refresh else cache.get(_cache_key(channel))
    if cached is None:
        rows = WhatsAppClient.for_channel(channel).list_templates()
        cached = [_template(r) for r in rows if str(r.get("status", "")).lower() == "approved"]
        cache.set(_cache_key(channel), cached, CACHE_SECONDS)
    return list(cached)


def _template(row: dict[str, Any]) -> Template:
    body = next((str(c.get("text") or "") for c in row.get("components") or []
                 if isinstance(c, dict) and str(c.get("type", "")).upper() == "BODY"), "")
    return Template(str(row.get("name", "")), str(row.get("language", "")),
                    str(row.get("category", "")), body)


def ticket_values(ticket: Ticket) -> dict[str, str]:
    # The customer reads these: in the organisation's language, not the caller's.
    with translation.override(ticket.organization.language):
        status = str(Status(ticket.status).label)
    return {"name": ticket.contact.name or "", "protocol": ticket.protocol,
            "status": status, "subject": ticket.subject}


def fill(params: Sequence[str], ticket: Ticket, count: int) -> list[str]:
    """`{name}`, `{protocol}`, `{status}`, `{subject}` become the ticket's values; with no
    params at all, the template's variables take those values in that order."""
    values = ticket_values(ticket)
    if not params:
        return [values[f] for f in TICKET_FIELDS][:count]
    out = []
    for param in params:
        for field, value in values.items():
            param = param.replace("{" + field + "}", value)
        out.append(param)
    return out


def whatsapp_channel(ticket: Ticket) -> Channel:
    channel = ticket.channel
    if channel is None or channel.kind != ChannelKind.WHATSAPP:
        raise TicketError(_("This ticket did not come through WhatsApp."), field="ticket_id")
    return channel


def send_template(ticket: Ticket, template_name: str, language: str,
                  params: Sequence[str], actor: Actor) -> Message:
    """Queue an approved template on the ticket's WhatsApp channel; allowed whatever the
    24-hour window. The timeline shows the filled-in text. With "sending a template opens
    an attendance", a finished ticket is reopened. Raises TicketError (templates off,
    unknown template, wrong number of parameters) before anything is written, and
    ProviderError when the template list cannot be read."""
    channel = whatsapp_channel(ticket)
    if not channel.settings.get("hsm_enabled", True):
        raise TicketError(_("Templates are turned off on this channel."), field="name",
                          code="templates_disabled")
    template = next((t for t in approved_templates(channel)
                     if t.name == template_name and t.language == language), None)
    if template is None:
        raise TicketError(_("There is no approved template with this name and language."),
                          field="name", code="unknown_template")
    values = fill(params, ticket, template.variables)
    if len(values) != template.variables:
        raise TicketError(_("This template takes %(n)d parameters.") % {"n": template.variables},
                          field="params")
    with transaction.atomic():
        if channel.settings.get("hsm_opens_attendance") and ticket.status not in OPEN_STATUSES:
            ticket = update_ticket(ticket, actor, status=Status.OPEN)
        message = post_message(ticket, actor, text=template.render(values), channel=channel)
        TemplateMessage.objects.create(organization_id=ticket.organization_id, message=message,
                                       name=template.name, language=template.language,
                                       params=values)
    return message


def send_event_template(ticket: Ticket, event: str, actor: Actor) -> Message | None:
    """Send the template the channel maps to `event` (opening, status_update,
    answer_reminder, resolution), filled from the ticket; None when nothing is mapped."""
    channel = ticket.channel
    if channel is None or channel.kind != ChannelKind.WHATSAPP:
        return None
    mapping = (channel.settings.get("templates") or {}).get(event)
    if not mapping or not mapping.get("name"):
        return None
    return send_template(ticket, mapping["name"], mapping.get("language") or "pt_BR",
                         mapping.get("params") or [], actor)
