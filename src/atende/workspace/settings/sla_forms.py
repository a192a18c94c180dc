"""The SLA policy form (CORE-13): targets, calendar, and the channels and services that
follow the policy (chosen here, so the channel and service forms stay as they are)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from atende.channels.models import Channel
from atende.tenancy.models import Service
from atende.tickets.models import SlaPolicy, SlaPolicyChannel, SlaPolicyService
from atende.tickets.services.sla import MAX_TARGET_MINUTES, set_scope
from atende.workspace.settings.forms import TenantModelForm

TARGETS = ["first_response_minutes", "resolution_minutes", "high_first_response_minutes",
           "high_resolution_minutes", "urgent_first_response_minutes",
           "urgent_resolution_minutes"]


class SlaPolicyForm(TenantModelForm):
    channels = forms.ModelMultipleChoiceField(
        label=_("Channels"), queryset=Channel.objects.order_by("name"), required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Tickets from these channels follow this policy."))
    services = forms.ModelMultipleChoiceField(
        label=_("Services"), queryset=Service.objects.order_by("name"), required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Tickets of these services follow it when their channel has no policy."))

    class Meta:
        model = SlaPolicy
        fields = ["name", *TARGETS, "calendar", "is_default"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in TARGETS:
            field = self.fields[name]
            field.widget.attrs.update(min=1, max=MAX_TARGET_MINUTES)
            field.validators += [MinValueValidator(1), MaxValueValidator(MAX_TARGET_MINUTES)]
        self.fields["high_first_response_minutes"].help_text = _(
            "Optional: tighter targets for high and urgent tickets; empty uses the ones above.")
        if self.instance.pk:
            self.fields["channels"].initial = [
                link.channel_id for link in self.instance.channel_links.all()]
            self.fields["services"].initial = [
                link.service_id for link in self.instance.service_links.all()]

    def _taken(self, links: Any, chosen: list[Any], attr: str) -> list[str]:
        """Names of chosen channels or services another policy already holds."""
        others = links.filter(**{f"{attr}__in": chosen}).select_related("policy", attr)
        if self.instance.pk:
            others = others.exclude(policy=self.instance)
        return [f"{getattr(link, attr)} ({link.policy})" for link in others]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("first_response_minutes") and not data.get("resolution_minutes"):
            self.add_error("first_response_minutes",
                           _("Give a first-response target, a resolution target, or both."))
        taken = self._taken(SlaPolicyChannel.objects, list(data.get("channels") or []),
                            "channel")
        if taken:
            self.add_error("channels", _("Already in another policy: %(names)s.")
                           % {"names": ", ".join(taken)})
        taken = self._taken(SlaPolicyService.objects, list(data.get("services") or []),
                            "service")
        if taken:
            self.add_error("services", _("Already in another policy: %(names)s.")
                           % {"names": ", ".join(taken)})
        return data

    @transaction.atomic
    def save(self, commit: bool = True) -> SlaPolicy:
        policy: SlaPolicy = super().save(commit=True)
        set_scope(policy, list(self.cleaned_data["channels"]),
                  list(self.cleaned_data["services"]))
        return policy
