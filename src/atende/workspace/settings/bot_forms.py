"""The bots of "return to bot" (WA-7): where new WhatsApp conversations go first."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from atende.connectors.whatsapp.bot_timeout import apply_new_timeout
from atende.connectors.whatsapp.models import Bot
from atende.net.form_fields import DestinationURLField, check_destination
from atende.workspace.settings.forms import TenantModelForm


class BotForm(TenantModelForm):
    # Written, never shown again: blank on edit keeps the stored one.
    signing_secret = forms.CharField(
        label=_("Signing secret"), required=False, min_length=16, max_length=200,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Atende signs each forwarded message with it (X-Atende-Signature, like "
                    "its webhooks). Leave blank to keep the current one."))

    webhook_url = DestinationURLField(label=_("Webhook URL"))

    class Meta:
        model = Bot
        fields = ["bot_id", "name", "webhook_url", "answer_timeout_minutes"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Left blank: the default timeout (an integration that creates bots need not know it).
        self.fields["answer_timeout_minutes"].required = False

    def clean_webhook_url(self) -> str:
        url: str = self.cleaned_data["webhook_url"]
        if url and "webhook_url" in self.changed_data:
            check_destination(url)  # and again on the address each forward dials
        return url

    def clean_answer_timeout_minutes(self) -> int:
        value = self.cleaned_data.get("answer_timeout_minutes")
        if value is None:
            return int(Bot._meta.get_field("answer_timeout_minutes").get_default())
        return int(value)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("signing_secret") and not self.instance.encrypted_secret:
            self.add_error("signing_secret", forms.ValidationError(
                _("Enter the secret the bot uses to check Atende's signature.")))
        return data

    def save(self, commit: bool = True) -> Bot:
        bot: Bot = super().save(commit=False)
        if self.cleaned_data.get("signing_secret"):
            bot.secret = self.cleaned_data["signing_secret"]
        if commit:
            bot.save()
            if "answer_timeout_minutes" in self.changed_data and self.instance.pk:
                apply_new_timeout(bot, bot.answer_timeout_minutes)
        return bot
