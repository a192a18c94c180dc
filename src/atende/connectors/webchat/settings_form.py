"""The options of a website chat: name, service, appearance, pre-chat form, the sites
allowed to show it, and whether the host site signs its users' ids."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from atende.automation.models import BusinessCalendar
from atende.connectors.webchat.widget import COLOUR, origin_of
from atende.tenancy.models import Service


class WebchatChannelForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    service = forms.ModelChoiceField(label=_("Service"), queryset=Service.objects.none(),
                                     required=False)
    business_calendar = forms.ModelChoiceField(
        label=_("Business hours"), queryset=BusinessCalendar.objects.none(), required=False,
        help_text=_("Outside these hours the chat shows a form that becomes a ticket. "
                    "Empty: always attended."))
    title = forms.CharField(label=_("Title"), max_length=60, required=False,
                            help_text=_("The chat window's title, e.g. your company's name."))
    greeting = forms.CharField(label=_("Greeting"), max_length=300, required=False,
                               widget=forms.Textarea(attrs={"rows": 2}))
    colour = forms.CharField(label=_("Primary colour"), max_length=7, initial="#1f6feb",
                             widget=forms.TextInput(attrs={"type": "color"}))
    corner = forms.ChoiceField(label=_("Corner"), choices=[
        ("bottom-right", _("Bottom right")), ("bottom-left", _("Bottom left"))])
    icon = forms.ChoiceField(label=_("Icon"), choices=[
        ("chat", _("Speech bubble")), ("help", _("Question mark")), ("headset", _("Headset"))])
    prechat = forms.ChoiceField(label=_("Pre-chat form (name and e-mail)"), choices=[
        ("off", _("Off")), ("optional", _("Optional")), ("required", _("Required"))])
    origins = forms.CharField(
        label=_("Sites allowed to show the chat"), required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One address per line, like https://www.example.com. Empty: any site."))
    identity_check = forms.BooleanField(
        label=_("Verify signed-in users (HMAC of the user id)"), required=False)

    def __init__(self, organization_id: int, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        service_field: forms.ModelChoiceField = self.fields["service"]  # type: ignore[assignment]
        service_field.queryset = Service.objects.for_org(organization_id)
        hours: forms.ModelChoiceField = self.fields["business_calendar"]  # type: ignore[assignment]
        hours.queryset = BusinessCalendar.objects.for_org(organization_id)

    def clean_colour(self) -> str:
        colour = str(self.cleaned_data.get("colour") or "")
        if not COLOUR.fullmatch(colour):
            raise ValidationError(_("Use a colour like #1f6feb."))
        return colour.lower()

    def clean_origins(self) -> list[str]:
        found: list[str] = []
        for line in str(self.cleaned_data.get("origins") or "").splitlines():
            if not line.strip():
                continue
            origin = origin_of(line)
            if not origin:
                raise ValidationError(_("“%(line)s” is not a site address (https://…).")
                                      % {"line": line.strip()[:80]})
            if origin not in found:
                found.append(origin)
        return found
