"""The settings of an API channel, validated in one place for the agent UI and the REST API."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from atende.net.form_fields import DestinationURLField, check_destination
from atende.tenancy.models import Service


class ApiChannelForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    service = forms.ModelChoiceField(label=_("Service"), queryset=Service.objects.none(),
                                     required=False)
    webhook_url = DestinationURLField(
        label=_("Webhook URL"), required=False,
        help_text=_("Agents' replies are POSTed here as signed JSON."),
    )

    def __init__(self, organization_id: int, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        service_field: forms.ModelChoiceField = self.fields["service"]  # type: ignore[assignment]
        service_field.queryset = Service.objects.for_org(organization_id)

    def clean_webhook_url(self) -> str:
        url: str = self.cleaned_data["webhook_url"]
        if url and url != self.initial.get("webhook_url"):
            # Checked again at send time; saying it now spares the user a failed reply later.
            # An unchanged URL is not resolved again, so renaming a channel never fails on DNS.
            check_destination(url)
        return url
