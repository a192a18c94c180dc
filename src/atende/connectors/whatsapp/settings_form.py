"""The options of a WhatsApp channel (WA-1, WA-7), validated in one place for the settings
screen and the API. Secrets (API key) are kept only when given; blank keeps the stored one."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from atende.automation.models import BusinessCalendar
from atende.connectors.whatsapp.client import DIALOG360, META
from atende.connectors.whatsapp.models import Bot
from atende.connectors.whatsapp.phone_numbers import validated_number
from atende.tenancy.models import Service

TEMPLATE_EVENTS = {
    "opening": _("Opening confirmation"),
    "status_update": _("Status update"),
    "answer_reminder": _("Answer reminder"),
    "resolution": _("Resolution"),
}


class WhatsAppChannelForm(forms.Form):
    """Editing a channel: pass `initial=channels.form_initial(channel)` and
    `has_key=bool(channel.secrets.get("api_key"))` so a blank key keeps the stored one;
    save with `channels.save_channel(organization, form, channel)`."""

    name = forms.CharField(label=_("Name"), max_length=120)
    provider = forms.ChoiceField(label=_("Messaging provider"), initial=DIALOG360, choices=[
        (DIALOG360, "360dialog"), (META, _("Meta Cloud API (direct)"))])
    api_key = forms.CharField(
        label=_("API key"), required=False, max_length=500, strip=True,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("360dialog D360-API-KEY or Meta access token. Leave blank to keep the "
                    "current one."))
    app_secret = forms.CharField(
        label=_("App secret (Meta only)"), required=False, max_length=200,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Checks the signature of Meta's webhook calls. Leave blank to keep the "
                    "current one."))
    phone_number_id = forms.CharField(label=_("Phone number id (Meta only)"), required=False,
                                      max_length=40)
    waba_id = forms.CharField(
        label=_("WhatsApp Business Account id (Meta only)"), required=False, max_length=40,
        help_text=_("Needed to list the approved templates from Meta."))
    number = forms.CharField(label=_("Number"), max_length=40, help_text=_(
        "Country code + area code + number, e.g. +55 11 98765-4321."))
    service = forms.ModelChoiceField(label=_("Service"), queryset=Service.objects.none(),
                                     required=False)
    idle_expiry_minutes = forms.IntegerField(
        label=_("Idle expiry (minutes)"), min_value=0, max_value=60 * 24 * 30, initial=0,
        required=False,
        help_text=_("Finish the attendance after this many minutes without a customer "
                    "message; 0 turns it off."))
    idle_message = forms.CharField(label=_("Message sent when the attendance expires"),
                                   required=False, max_length=1000, widget=forms.Textarea)
    business_calendar = forms.ModelChoiceField(
        label=_("Business hours"), queryset=BusinessCalendar.objects.none(), required=False,
        empty_label=_("24x7 (always open)"),
        help_text=_("Out of these hours the message below is sent once per conversation; "
                    "the ticket still lands in the queue."))
    out_of_hours_message = forms.CharField(
        label=_("Out-of-hours message"), required=False, max_length=1000,
        widget=forms.Textarea, help_text=_("Blank: the default message."))
    answer_reminder_hours = forms.IntegerField(
        label=_("Answer reminder (hours)"), min_value=0, max_value=24 * 30, initial=0,
        required=False,
        help_text=_("Send the answer reminder template when the customer has not answered "
                    "a pending ticket for this many hours; 0 turns it off."))
    return_to_bot = forms.BooleanField(label=_("Return to bot"), required=False)
    bot_id = forms.CharField(label=_("Bot id"), required=False, max_length=120)
    hsm_enabled = forms.BooleanField(label=_("Templates (HSM) enabled"), required=False,
                                     initial=True)
    hsm_opens_attendance = forms.BooleanField(
        label=_("Sending a template opens an attendance"), required=False)
    template_language = forms.CharField(label=_("Template language"), max_length=20,
                                        initial="pt_BR", required=False)
    template_opening = forms.CharField(label=TEMPLATE_EVENTS["opening"], required=False,
                                       max_length=512)
    template_status_update = forms.CharField(label=TEMPLATE_EVENTS["status_update"],
                                             required=False, max_length=512)
    template_answer_reminder = forms.CharField(label=TEMPLATE_EVENTS["answer_reminder"],
                                               required=False, max_length=512)
    template_resolution = forms.CharField(label=TEMPLATE_EVENTS["resolution"], required=False,
                                          max_length=512)

    def __init__(self, organization_id: int, *args: Any, has_key: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.has_key = has_key
        service_field: forms.ModelChoiceField = self.fields["service"]  # type: ignore[assignment]
        service_field.queryset = Service.objects.for_org(organization_id)
        calendar_field: forms.ModelChoiceField = self.fields["business_calendar"]  # type: ignore[assignment]
        calendar_field.queryset = BusinessCalendar.objects.for_org(organization_id).filter(
            is_active=True).order_by("name")
        self.organization_id = organization_id

    def clean_number(self) -> str:
        return validated_number(self.cleaned_data["number"])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("api_key") and not self.has_key:
            self.add_error("api_key", ValidationError(_("Enter the API key.")))
        if data.get("return_to_bot") and not data.get("bot_id"):
            self.add_error("bot_id", ValidationError(_("Enter the bot id to return to.")))
        elif data.get("return_to_bot") and not Bot.objects.for_org(self.organization_id).filter(
                bot_id=data["bot_id"], is_active=True).exists():
            self.add_error("bot_id", ValidationError(_(
                "There is no active bot with this id: add it in Settings → Bots.")))
        if data.get("provider") == META and not data.get("phone_number_id"):
            self.add_error("phone_number_id",
                           ValidationError(_("Meta's Cloud API needs the phone number id.")))
        data["idle_expiry_minutes"] = data.get("idle_expiry_minutes") or 0
        data["answer_reminder_hours"] = data.get("answer_reminder_hours") or 0
        data["template_language"] = data.get("template_language") or "pt_BR"
        return data

    def channel_settings(self) -> dict[str, Any]:
        """The non-secret options as stored in `Channel.settings`."""
        data = self.cleaned_data
        return {
            "provider": data["provider"], "number": data["number"],
            "phone_number_id": data.get("phone_number_id", ""),
            "waba_id": data.get("waba_id", ""),
            "out_of_hours_message": data.get("out_of_hours_message", ""),
            "answer_reminder_hours": data["answer_reminder_hours"],
            "idle_expiry_minutes": data["idle_expiry_minutes"],
            "idle_message": data.get("idle_message", ""),
            "return_to_bot": bool(data.get("return_to_bot")), "bot_id": data.get("bot_id", ""),
            "hsm_enabled": bool(data.get("hsm_enabled")),
            "hsm_opens_attendance": bool(data.get("hsm_opens_attendance")),
            "templates": {event: {"name": data[f"template_{event}"],
                                  "language": data["template_language"]}
                          for event in TEMPLATE_EVENTS if data.get(f"template_{event}")},
        }
