"""Filling the variables of a saved reply.

A tiny whitelist substitution, never a template engine: the text is written by users, so
it must not reach attributes, methods or filters. Unknown variables stay as written so the
agent sees them before sending.

Here rather than in automation (which holds the SavedReply model) because the variables
are read from a ticket: automation sits below tickets and does not import it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from atende.automation.models import SavedReply
    from atende.tenancy.models import User
    from atende.tickets.models import Ticket

VARIABLE = re.compile(r"\{\{\s*([a-z_]+\.[a-z_]+)\s*\}\}")

Getter = Callable[["Ticket", "User | None"], object]

VARIABLES: dict[str, Getter] = {
    "contact.name": lambda t, a: t.contact.name,
    "ticket.protocol": lambda t, a: t.protocol,
    "ticket.subject": lambda t, a: t.subject,
    "service.name": lambda t, a: t.service.name if t.service else "",
    "agent.name": lambda t, a: (a.name or a.email) if a else "",
    "organization.name": lambda t, a: t.organization.name,
}


def unknown_variables(text: str) -> list[str]:
    return sorted({name for name in VARIABLE.findall(text) if name not in VARIABLES})


def render_text(text: str, ticket: Ticket, agent: User | None) -> str:
    def fill(match: re.Match[str]) -> str:
        getter = VARIABLES.get(match.group(1))
        return str(getter(ticket, agent) or "") if getter else match.group(0)

    return VARIABLE.sub(fill, text)


def render_saved_reply(reply: SavedReply, ticket: Ticket, agent: User | None) -> str:
    """The reply's text with its variables filled in for `ticket` and `agent`.

    The caller passes a ticket loaded with its contact, service and organisation
    (select_related) to keep this free of queries."""
    if reply.organization_id != ticket.organization_id:
        raise ValueError("saved reply and ticket belong to different organisations")
    return render_text(reply.body, ticket, agent)
