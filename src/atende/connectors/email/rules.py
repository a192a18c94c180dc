"""Processing rules (EM-8): match an incoming mail, then route the ticket it opens (service,
category, priority, tag, assignee), or ignore the mail, or forbid automatic answers."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import prefetch_related_objects

from atende.connectors.email.inbound import ParsedMail
from atende.connectors.email.models import ProcessingRule, RuleField, RuleOperator
from atende.connectors.models import Channel
from atende.tickets.models import Ticket
from atende.tickets.services.actor import Actor
from atende.tickets.services.changes import update_ticket


@dataclass
class RuleOutcome:
    matched: list[ProcessingRule] = field(default_factory=list)

    @property
    def ignore(self) -> ProcessingRule | None:
        return next((r for r in self.matched if r.ignore), None)

    @property
    def no_auto_reply(self) -> ProcessingRule | None:
        return next((r for r in self.matched if r.no_auto_reply), None)


def _values(rule: ProcessingRule, mail: ParsedMail) -> list[str]:
    if rule.field == RuleField.FROM:
        return [mail.sender, mail.headers.get("from", "")]
    if rule.field == RuleField.TO:
        return [*mail.recipients, mail.headers.get("to", "")]
    if rule.field == RuleField.CC:
        return [mail.headers.get("cc", "")]
    if rule.field == RuleField.SUBJECT:
        return [mail.subject]
    if rule.field == RuleField.BODY:
        return [mail.text]
    return [mail.headers.get(rule.header_name.lower(), "")]


def matches(rule: ProcessingRule, mail: ParsedMail) -> bool:
    wanted = rule.value.lower()
    for value in _values(rule, mail):
        value = value.lower()
        if rule.operator == RuleOperator.EQUALS and value == wanted:
            return True
        if rule.operator == RuleOperator.ENDS_WITH and value.endswith(wanted):
            return True
        if rule.operator == RuleOperator.CONTAINS and wanted in value:
            return True
    return False


def evaluate(channel: Channel, mail: ParsedMail) -> RuleOutcome:
    # Most channels have no rules: no joins on the per-mail query, the related rows are
    # loaded only for the rules that matched.
    rules = ProcessingRule.objects.for_org(channel.organization_id).filter(
        channel=channel, is_active=True)
    outcome = RuleOutcome()
    for rule in rules:
        if matches(rule, mail):
            outcome.matched.append(rule)
            if rule.ignore:
                break
    if outcome.matched:
        prefetch_related_objects(outcome.matched, "service", "assignee")
    return outcome


def route(ticket: Ticket, outcome: RuleOutcome) -> None:
    """Apply the matched rules' actions to a ticket the mail just opened (one audited
    change, events on commit)."""
    changes: dict[str, object] = {}
    tags: list[str] = []
    for rule in outcome.matched:
        if rule.service_id:
            changes["service"] = rule.service
        if rule.category:
            changes["category"] = rule.category
        if rule.priority:
            changes["priority"] = rule.priority
        if rule.assignee_id:
            changes["assignee"] = rule.assignee
        if rule.tag:
            tags.append(rule.tag)
    if tags:
        changes["tags"] = sorted({*ticket.tags.values_list("name", flat=True), *tags})
    if changes:
        label = "email-rules:" + ",".join(str(r.pk) for r in outcome.matched)
        update_ticket(ticket, Actor(label=label[:200]), **changes)  # type: ignore[arg-type]
