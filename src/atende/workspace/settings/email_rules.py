"""The "Processing rules" screen of one e-mail channel (EM-8): the rules in the order they
run, create / edit / delete, move up or down, activate / deactivate.

Channel and rule are looked up through the agent's organisation: another tenant's id is a
404. Every change is a POST behind CSRF."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from atende.channels.models import Channel, ChannelKind
from atende.connectors.email.models import ProcessingRule
from atende.connectors.email.rule_order import add_rule, channel_rules, delete_rule, move_rule
from atende.workspace.access import settings_required
from atende.workspace.settings.email_rule_form import ProcessingRuleForm


def _channel(request: HttpRequest, pk: int) -> Channel:
    channel = Channel.objects.for_org(request.membership.organization_id).filter(  # type: ignore[attr-defined]
        pk=pk, kind=ChannelKind.EMAIL).first()
    if channel is None:
        raise Http404
    return channel


def _rule(channel: Channel, rule_pk: int) -> ProcessingRule:
    rule = ProcessingRule.objects.for_org(channel.organization_id).filter(
        channel=channel, pk=rule_pk).first()
    if rule is None:
        raise Http404
    return rule


def _back(channel: Channel) -> HttpResponse:
    return redirect("workspace:settings:email_rules", channel.pk)


@settings_required
def rule_list(request: HttpRequest, pk: int) -> HttpResponse:
    channel = _channel(request, pk)
    return render(request, "workspace/settings/email_rules.html",
                  {"channel": channel, "rules": channel_rules(channel)})


def _form_view(request: HttpRequest, channel: Channel,
               rule: ProcessingRule | None) -> HttpResponse:
    form = ProcessingRuleForm(request.membership.organization, request.POST or None,  # type: ignore[attr-defined]
                              instance=rule)
    if request.method == "POST" and form.is_valid():
        if rule is None:
            add_rule(channel, form.save(commit=False))
        else:
            form.save()
        messages.success(request, _("Saved."))
        return _back(channel)
    return render(request, "workspace/settings/email_rule_form.html",
                  {"channel": channel, "form": form, "rule": rule})


@settings_required
def rule_create(request: HttpRequest, pk: int) -> HttpResponse:
    return _form_view(request, _channel(request, pk), None)


@settings_required
def rule_edit(request: HttpRequest, pk: int, rule_pk: int) -> HttpResponse:
    channel = _channel(request, pk)
    return _form_view(request, channel, _rule(channel, rule_pk))


@require_POST
@settings_required
def rule_move(request: HttpRequest, pk: int, rule_pk: int) -> HttpResponse:
    channel = _channel(request, pk)
    step = {"up": -1, "down": 1}.get(request.POST.get("direction", ""))
    if step is None:
        messages.error(request, _("Unknown direction."))
    else:
        move_rule(_rule(channel, rule_pk), step)
    return _back(channel)


@require_POST
@settings_required
def rule_toggle(request: HttpRequest, pk: int, rule_pk: int) -> HttpResponse:
    channel = _channel(request, pk)
    rule = _rule(channel, rule_pk)
    rule.is_active = not rule.is_active
    rule.save(update_fields=["is_active"])
    return _back(channel)


@require_POST
@settings_required
def rule_delete(request: HttpRequest, pk: int, rule_pk: int) -> HttpResponse:
    channel = _channel(request, pk)
    rule = _rule(channel, rule_pk)
    delete_rule(rule)
    messages.success(request, _("Rule \"%(name)s\" deleted.") % {"name": rule.name})
    return _back(channel)
