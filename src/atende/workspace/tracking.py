"""Interaction tracking entries (CORE-11) written as sentences a person reads."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from atende.tickets.models import AuditEntry, Priority, Status

FIELD_LABELS = {
    "status": gettext_lazy("status"),
    "priority": gettext_lazy("priority"),
    "assignee": gettext_lazy("assignee"),
    "service": gettext_lazy("service"),
    "tags": gettext_lazy("tags"),
    "subject": gettext_lazy("subject"),
    "category": gettext_lazy("category"),
    "custom_fields": gettext_lazy("custom fields"),
    "finalization_tag": gettext_lazy("finalization tag"),
}


def _value(field: str, value: Any, names: dict[str, dict[int, str]]) -> str:
    if value in (None, "", []):
        return "—"
    if field == "status" and value in Status.values:
        return str(Status(value).label)
    if field == "priority" and value in Priority.values:
        return str(Priority(value).label)
    if field in names and isinstance(value, int):
        return names[field].get(value, f"#{value}")
    if isinstance(value, dict) and "name" in value:
        return str(value["name"])
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def describe(entry: AuditEntry, names: dict[str, dict[int, str]]) -> str:
    """E.g. "changed the status from New to Open". `names` maps user and service ids to
    names, loaded once for the whole trail."""
    action = entry.action
    if action == "created":
        return _("opened the ticket")
    if action == "replied":
        return _("answered the customer")
    if action == "note_added":
        return _("wrote an internal note")
    if action == "finalized":
        return _("finalized with “%(tag)s”") % {"tag": _value("", entry.after, names)}
    if action == "reopened":
        return _("reopened the ticket")
    if action == "answer_reminder":
        return _("reminded the customer to answer")
    if action == "notification_sent":
        return _("sent the automatic e-mail “%(event)s”") % {"event": _notification(entry.after)}
    if action == "sla_breached":
        if entry.field == "first_response":
            return _("missed the first-response target (SLA)")
        return _("missed the resolution target (SLA)")
    if action == "thread_linked":
        after = entry.after if isinstance(entry.after, dict) else {}
        return _("received an e-mail that also answers ticket %(protocol)s (nothing was "
                 "merged)") % {"protocol": after.get("protocol", "?")}
    if action == "bot_handed_off":
        return _bot_hand_off(entry.after)
    if action in ("csat_invited", "csat_received"):
        return _csat(action, entry.after)
    field = str(FIELD_LABELS.get(entry.field, entry.field))
    if entry.field:
        return _("changed the %(field)s from %(before)s to %(after)s") % {
            "field": field,
            "before": _value(entry.field, entry.before, names),
            "after": _value(entry.field, entry.after, names),
        }
    return action.replace("_", " ")


def _csat(action: str, after: Any) -> str:
    """CORE-14: the survey sent (or why not), and the customer's rating."""
    after = after if isinstance(after, dict) else {}
    if action == "csat_received":
        return _("rated the service %(score)s of 5") % {"score": after.get("score", "?")}
    if after.get("sent"):
        return _("sent the satisfaction survey")
    return _("could not send the satisfaction survey: %(error)s") % {
        "error": after.get("error") or "—"}


def _notification(after: Any) -> str:
    from atende.connectors.email.models import NotificationEvent

    event = after.get("event") if isinstance(after, dict) else None
    return str(NotificationEvent(event).label) if event in NotificationEvent.values else "—"


def _bot_hand_off(after: Any) -> str:
    """WA-7: who brought the conversation from the bot to the queue, and why."""
    after = after if isinstance(after, dict) else {}
    reason = after.get("reason")
    if reason == "timeout":
        return _("brought the conversation from the bot to the queue: the bot did not answer "
                 "in %(minutes)s minutes") % {"minutes": after.get("minutes", "?")}
    if reason == "unreachable":
        return _("brought the conversation from the bot to the queue: the bot could not be "
                 "reached")
    if reason == "no_bot":
        return _("brought the conversation to the queue: its bot was removed")
    return _("brought the conversation from the bot to the queue")
