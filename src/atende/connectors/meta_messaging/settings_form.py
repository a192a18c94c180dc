"""The options of an Instagram or Messenger channel: a name, the Meta app (its id and
secret: the secret signs the webhooks), optionally the page to connect, whether the app
has the Human Agent feature, and the service its tickets go to. The page itself is
connected with Facebook Login from the channel's screen (`consent`)."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from atende.tenancy.models import Service

NUMERIC_ID = re.compile(r"\d{1,30}")


class MetaChannelForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    app_id = forms.CharField(label=_("Meta app ID"), max_length=30)
    app_secret = forms.CharField(
        label=_("Meta app secret"), required=False, max_length=200, strip=True,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("From the app's Settings > Basic. It checks the webhooks' signature. "
                    "Leave blank to keep the current one."))
    page_id = forms.CharField(
        label=_("Facebook page ID"), max_length=30, required=False,
        help_text=_("Optional: the page to connect, when you manage more than one."))
    human_agent = forms.BooleanField(
        label=_("The app has the Human Agent feature"), required=False,
        help_text=_("Agents may then answer for 7 days after the customer's last message, "
                    "not only 24 hours."))
    service = forms.ModelChoiceField(label=_("Service"), queryset=Service.objects.none(),
                                     required=False)

    def __init__(self, organization_id: int, *args: Any, has_secret: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.has_secret = has_secret
        service_field: forms.ModelChoiceField = self.fields["service"]  # type: ignore[assignment]
        service_field.queryset = Service.objects.for_org(organization_id)
        self.meta_panel: object = None

    def clean_app_id(self) -> str:
        value = str(self.cleaned_data.get("app_id") or "").strip()
        if not NUMERIC_ID.fullmatch(value):
            raise ValidationError(_("A Meta app ID is a number."))
        return value

    def clean_page_id(self) -> str:
        value = str(self.cleaned_data.get("page_id") or "").strip()
        if value and not NUMERIC_ID.fullmatch(value):
            raise ValidationError(_("A page ID is a number."))
        return value

    def clean_app_secret(self) -> str:
        value = str(self.cleaned_data.get("app_secret") or "")
        if not value and not self.has_secret:
            raise ValidationError(_("Enter the app secret."))
        if value and not re.fullmatch(r"[0-9a-fA-F]{16,64}", value):
            raise ValidationError(_("This is not a Meta app secret (hexadecimal)."))
        return value
