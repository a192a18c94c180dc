"""Processing rules (EM-8): match an incoming mail, then route the ticket it opens (service,
category, priority, tag, assignee), or ignore the mail, or forbid automatic answers."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from django.db.models import prefetch_related_objects
from django.utils.translation import gettext_lazy as _

from atende.channels.models import Channel
from atende.connectors.email.inbound import ParsedMail
from atende.connectors.email.models import ProcessingRule, RuleField, RuleOperator
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


# Python's `re` has no timeout: a regular expression is kept short, without the shapes that
# backtrack exponentially (a repeated group that itself repeats or alternates, back-
# references), and it only ever sees the first REGEX_INPUT_CHARS of a value.
MAX_PATTERN_CHARS = 200
REGEX_INPUT_CHARS = 20_000
_BACKREFERENCE = re.compile(r"\\[1-9]|\(\?P=")
_QUANTIFIERS = "*+?{"


def _nested_repeat(pattern: str) -> bool:
    """A group that repeats (`*`, `+`, `{`) and holds a repetition or an alternative."""
    stack: list[bool] = []  # per open group: holds a quantifier or `|`
    i, in_class = 0, False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
        elif ch == "(":
            stack.append(False)
        elif ch == ")" and stack:
            risky = stack.pop()
            following = pattern[i + 1:i + 2]
            if risky and following in ("*", "+", "{"):
                return True
            if stack and (risky or (following and following in _QUANTIFIERS)):
                stack[-1] = True
        elif ch in "*+{|" and stack:
            stack[-1] = True
        i += 1
    return False


def pattern_problem(pattern: str) -> str | None:
    """Why `pattern` cannot be a rule's regular expression (for a person), or None."""
    if len(pattern) > MAX_PATTERN_CHARS:
        return str(_("Use at most %(max)d characters in a regular expression.")
                   % {"max": MAX_PATTERN_CHARS})
    if _nested_repeat(pattern) or _BACKREFERENCE.search(pattern):
        return str(_("This regular expression could take too long on some mails: avoid "
                     "repeating a group that itself repeats or has alternatives, and "
                     "back-references."))
    try:
        re.compile(pattern)
    except re.error as exc:
        return str(_("This is not a valid regular expression: %(error)s") % {"error": exc})
    return None


@lru_cache(maxsize=512)
def compiled(pattern: str) -> re.Pattern[str] | None:
    """None for a pattern that would not pass the form (a stale or hand-made rule)."""
    if pattern_problem(pattern) is not None:
        return None
    return re.compile(pattern, re.IGNORECASE)


def matches(rule: ProcessingRule, mail: ParsedMail) -> bool:
    if rule.operator == RuleOperator.REGEX:
        rx = compiled(rule.value)
        return rx is not None and any(rx.search(v[:REGEX_INPUT_CHARS])
                                      for v in _values(rule, mail))
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


def active_rules(channel: Channel) -> list[ProcessingRule]:
    """The channel's active rules in their order, read once per batch of mails. No joins:
    most channels have none, and the related rows are loaded only for rules that match."""
    return list(ProcessingRule.objects.for_org(channel.organization_id).filter(
        channel=channel, is_active=True))


def evaluate(channel: Channel, mail: ParsedMail,
             rules: list[ProcessingRule] | None = None) -> RuleOutcome:
    """The rules `mail` matches; `rules` as read by `active_rules` (read here when None)."""
    if rules is None:
        rules = active_rules(channel)
    outcome = RuleOutcome()
    for rule in rules:
        if matches(rule, mail):
            outcome.matched.append(rule)
            if rule.ignore:
                break
    if outcome.matched:  # a rule shared by several mails of a batch is fetched once
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
