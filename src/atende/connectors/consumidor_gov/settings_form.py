"""The options of a Consumidor.gov.br channel (CG-1): the API credentials (the code and the
password encrypted; blank keeps the stored ones), the authorised user's CPF, the service,
and the platform's address (production, training, or the operator's)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from atende.connectors.consumidor_gov.config import PRODUCTION_URL, ApiConfig
from atende.contacts.identities import normalize_cpf
from atende.net.form_fields import DestinationURLField, check_destination
from atende.tenancy.models import Service

CPF_WARNING = _("Important: if this CPF is also used to file complaints as a consumer on "
                "Consumidor.gov.br, the service cannot fetch the data correctly. Use a CPF "
                "kept for the company's own use.")


class ConsumidorChannelForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    client_id = forms.CharField(
        label=_("Client ID"), max_length=200,
        help_text=_("The project's identifier registered on Consumidor.gov.br, from the "
                    "company's registration once API access is enabled."))
    code = forms.CharField(
        label=_("Authentication code"), required=False, max_length=500,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Given when the application was registered. Leave blank to keep the "
                    "current one."))
    password = forms.CharField(
        label=_("Authentication password"), required=False, max_length=500,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("The password of the authentication code. Leave blank to keep the "
                    "current one."))
    cpf = forms.CharField(
        label=_("CPF of the authorised user"), max_length=14,
        help_text=CPF_WARNING)
    service = forms.ModelChoiceField(label=_("Service"), queryset=Service.objects.none(),
                                     required=False)
    base_url = DestinationURLField(
        label=_("API address"), required=False,
        help_text=_("Blank: production (%(url)s). The training server is "
                    "https://api-treinamento.consumidor.gov.br/api/servico.")
        % {"url": PRODUCTION_URL})
    respond_path = forms.CharField(
        label=_("Path of the answer call"), required=False, max_length=200,
        help_text=_("Not published by the platform yet: confirm it on the training server. "
                    "Blank: %(path)s") % {"path": ApiConfig.respond_path})

    def __init__(self, organization_id: int, *args: Any, has_secrets: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.has_secrets = has_secrets
        service_field: forms.ModelChoiceField = self.fields["service"]  # type: ignore[assignment]
        service_field.queryset = Service.objects.for_org(organization_id)

    def clean_cpf(self) -> str:
        return normalize_cpf(str(self.cleaned_data.get("cpf") or ""))

    def clean_base_url(self) -> str:
        url = str(self.cleaned_data.get("base_url") or "").strip()
        if url:
            check_destination(url)
        return url

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.has_secrets:
            for name in ("code", "password"):
                if not data.get(name):
                    self.add_error(name, ValidationError(_("This field is required.")))
        return data
