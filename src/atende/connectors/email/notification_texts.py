"""The notification templates' words (EM-5): built-in defaults in both languages, the
variables a template may use, and their safe substitution.

Templates are written by users, so they never reach a template engine: a whitelist of
`{{ name.attr }}` variables is replaced by plain values, nothing else is interpreted. The
HTML part of the mail is built later from the filled text, escaped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from atende.connectors.email import thread_keys
from atende.connectors.email.models import (
    NotificationEvent,
    NotificationLanguage,
    NotificationTemplate,
)

if TYPE_CHECKING:
    from atende.tickets.models import Ticket

VARIABLE = re.compile(r"\{\{\s*([a-z_]+\.[a-z_]+)\s*\}\}")

# name → what it means (shown on the settings screen).
VARIABLES: dict[str, Promise] = {
    "contact.name": _("the customer's name"),
    "ticket.protocol": _("the ticket's protocol (TKT-000123)"),
    "ticket.subject": _("the ticket's subject"),
    "ticket.status": _("the ticket's status, in the mail's language"),
    "agent.name": _("the assigned agent's name"),
    "service.name": _("the ticket's service"),
    "organization.name": _("your organisation's name"),
}

_DEFAULTS: dict[str, tuple[Promise, Promise]] = {
    NotificationEvent.OPENED: (
        _("We received your message: {{ ticket.subject }}"),
        _("Hello {{ contact.name }},\n\nWe received your message and opened the ticket "
          "{{ ticket.protocol }}. We will answer you as soon as possible. To add anything, "
          "just reply to this e-mail.\n\n{{ organization.name }}"),
    ),
    NotificationEvent.STATUS_CHANGED: (
        _("Your ticket {{ ticket.protocol }} is now: {{ ticket.status }}"),
        _("Hello {{ contact.name }},\n\nThe status of your ticket {{ ticket.protocol }} "
          "({{ ticket.subject }}) changed to: {{ ticket.status }}.\n\n{{ organization.name }}"),
    ),
    NotificationEvent.ANSWER_REMINDER: (
        _("We are waiting for your answer: {{ ticket.subject }}"),
        _("Hello {{ contact.name }},\n\nWe answered your ticket {{ ticket.protocol }} and "
          "are waiting for your reply to go on. Just reply to this e-mail.\n\n"
          "{{ organization.name }}"),
    ),
    NotificationEvent.OUT_OF_HOURS: (
        _("We received your message outside our business hours: {{ ticket.subject }}"),
        _("Hello {{ contact.name }},\n\nWe received your message outside our business hours "
          "and opened the ticket {{ ticket.protocol }}. We will answer you on our next "
          "business day. To add anything, just reply to this e-mail.\n\n"
          "{{ organization.name }}"),
    ),
    NotificationEvent.RESOLVED: (
        _("Your ticket {{ ticket.protocol }} was resolved"),
        _("Hello {{ contact.name }},\n\nYour ticket {{ ticket.protocol }} "
          "({{ ticket.subject }}) was resolved. If anything is still missing, just reply to "
          "this e-mail.\n\n{{ organization.name }}"),
    ),
}


@dataclass(frozen=True)
class Text:
    enabled: bool
    subject: str
    body: str


def default_text(event: str, language: str) -> Text:
    subject, body = _DEFAULTS[event]
    with translation.override(language):
        return Text(False, str(subject), str(body))


def language_for(ticket: Ticket) -> str:
    """The customer's language: contacts do not record one yet, so the organisation's."""
    code = (ticket.organization.language or "").lower()
    return NotificationLanguage.EN if code.startswith("en") else NotificationLanguage.PT_BR


def template_text(channel_id: int, organization_id: int, event: str, language: str) -> Text:
    row = (NotificationTemplate.objects.for_org(organization_id)
           .filter(channel_id=channel_id, event=event, language=language)
           .values_list("enabled", "subject", "body").first())
    return Text(*row) if row else default_text(event, language)


def unknown_variables(text: str) -> list[str]:
    return sorted({name for name in VARIABLE.findall(text) if name not in VARIABLES})


def values_for(ticket: Ticket, language: str) -> dict[str, str]:
    """Plain values of every variable; the ticket comes with contact, service, assignee
    and organisation loaded."""
    from atende.tickets.models import Status

    with translation.override(language):
        status = str(Status(ticket.status).label) if ticket.status in Status.values else ""
    agent = ticket.assignee
    return {
        "contact.name": ticket.contact.name,
        "ticket.protocol": ticket.protocol,
        "ticket.subject": ticket.subject,
        "ticket.status": status,
        "agent.name": (agent.name or agent.email) if agent else "",
        "service.name": ticket.service.name if ticket.service else "",
        "organization.name": ticket.organization.name,
    }


def fill(text: str, values: dict[str, str]) -> str:
    """Known variables become their values; anything else stays as written."""
    return VARIABLE.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def fill_subject(text: str, values: dict[str, str]) -> str:
    # One line: a customer's subject could carry line breaks (header injection).
    return " ".join(fill(text, values).split())[:250]


def mail_subject(text: str, values: dict[str, str], number: int) -> str:
    """The filled subject with the ticket's `[#TKT-…]` token (added unless written), so the
    customer's reply threads."""
    subject = fill_subject(text, values)
    token = thread_keys.subject_token(number)
    return subject if token.lower() in subject.lower() else f"{token} {subject}"
