"""Creating, moving and deleting processing rules: their order is `position`, kept as 1..n
so "up" and "down" are a swap with the neighbour."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Max

from atende.channels.models import Channel
from atende.connectors.email.models import ProcessingRule


def channel_rules(channel: Channel) -> list[ProcessingRule]:
    return list(ProcessingRule.objects.for_org(channel.organization_id).filter(
        channel=channel).select_related("service", "assignee").order_by("position", "id"))


def add_rule(channel: Channel, rule: ProcessingRule) -> ProcessingRule:
    with transaction.atomic():
        last = ProcessingRule.objects.for_org(channel.organization_id).filter(
            channel=channel).aggregate(last=Max("position"))["last"]
        rule.organization_id = channel.organization_id
        rule.channel = channel
        rule.position = (last or 0) + 1
        rule.save()
    return rule


def move_rule(rule: ProcessingRule, step: int) -> None:
    """Up (-1) or down (+1) by one place; nothing at either end."""
    with transaction.atomic():
        rules = list(ProcessingRule.objects.for_org(rule.organization_id).filter(
            channel_id=rule.channel_id).select_for_update().order_by("position", "id"))
        index = next(i for i, r in enumerate(rules) if r.pk == rule.pk)
        other = index + step
        if 0 <= other < len(rules):
            rules[index], rules[other] = rules[other], rules[index]
        _renumber(rules)


def delete_rule(rule: ProcessingRule) -> None:
    with transaction.atomic():
        rule.delete()
        _renumber(list(ProcessingRule.objects.for_org(rule.organization_id).filter(
            channel_id=rule.channel_id).order_by("position", "id")))


def _renumber(rules: list[ProcessingRule]) -> None:
    changed = []
    for position, r in enumerate(rules, start=1):
        if r.position != position:
            r.position = position
            changed.append(r)
    if changed:
        ProcessingRule.objects.bulk_update(changed, ["position"])
