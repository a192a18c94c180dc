"""The settings of an API channel, validated in one place for the agent UI and the REST API."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.validators import URLValidator
from django.utils.translation import gettext_lazy as _

from atende.net import BlockedDestination, check_url
from atende.tenancy.models import Service


class ApiChannelForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    service = forms.ModelChoiceField(label=_("Service"), queryset=Service.objects.none(),
                                     required=False)
    webhook_url = forms.URLField(
        label=_("Webhook URL"), required=False, max_length=1000, assume_scheme="https",
        validators=[URLValidator(schemes=["http", "https"])],
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
            try:
                check_url(url)
            except BlockedDestination as exc:
                raise forms.ValidationError(
                    _("This address cannot receive webhooks: %(reason)s"),
                    params={"reason": str(exc)},
                ) from exc
        return url
