"""The options of a Telegram channel: a name, the bot token (blank keeps the stored one)
and the service its tickets go to."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from atende.connectors.telegram.client import TelegramClient, TelegramError
from atende.connectors.telegram.outbound import describe_error
from atende.tenancy.models import Service

# What BotFather issues: the bot's id, a colon, then letters, digits, _ and -.
TOKEN = re.compile(r"\d{1,20}:[A-Za-z0-9_-]{20,100}")


class TelegramChannelForm(forms.Form):
    """A new token is proved while the form is validated (getMe): Telegram's refusal is
    the field's error, and `bot` holds the bot it answered with."""

    name = forms.CharField(label=_("Name"), max_length=120)
    bot_token = forms.CharField(
        label=_("Bot token"), required=False, max_length=200, strip=True,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("The token @BotFather gave for the bot, like 123456:ABC-DEF…. Leave "
                    "blank to keep the current one."))
    service = forms.ModelChoiceField(label=_("Service"), queryset=Service.objects.none(),
                                     required=False)

    def __init__(self, organization_id: int, *args: Any, has_token: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.has_token = has_token
        self.bot: dict[str, Any] | None = None
        service_field: forms.ModelChoiceField = self.fields["service"]  # type: ignore[assignment]
        service_field.queryset = Service.objects.for_org(organization_id)

    def clean_bot_token(self) -> str:
        token = str(self.cleaned_data.get("bot_token") or "")
        if token and not TOKEN.fullmatch(token):
            raise ValidationError(_("This is not a Telegram bot token."))
        if not token and not self.has_token:
            raise ValidationError(_("Enter the bot token."))
        if token:
            self.bot = check_token(token)
        return token


def check_token(token: str) -> dict[str, Any]:
    """The bot behind a token (getMe); raises ValidationError with Telegram's answer."""
    try:
        bot = TelegramClient(token).get_me()
    except TelegramError as exc:
        raise ValidationError(describe_error(exc)) from exc
    if not bot.get("is_bot", True):
        raise ValidationError(_("This token is not a bot's."))
    return bot
