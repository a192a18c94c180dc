"""The survey settings of one channel: on or off, the delay, the wording in each language."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from atende.channels.models import Channel
from atende.csat.config import MAX_DELAY_MINUTES, CsatSettings, default_wording


class CsatSettingsForm(forms.Form):
    enabled = forms.BooleanField(
        label=_("Send a satisfaction survey when a ticket of this channel is resolved"),
        required=False)
    delay_minutes = forms.IntegerField(
        label=_("Delay after the resolution (minutes)"), min_value=0,
        max_value=MAX_DELAY_MINUTES, initial=0,
        help_text=_("0 sends it at once. At most 7 days."))
    text_pt_br = forms.CharField(
        label=_("Wording in Portuguese"), required=False, max_length=900,
        widget=forms.Textarea(attrs={"rows": 3}))
    text_en = forms.CharField(
        label=_("Wording in English"), required=False, max_length=900,
        widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, channel: Channel, *args: Any, **kwargs: Any) -> None:
        self.channel = channel
        current = CsatSettings.of(channel)
        texts = dict(current.texts)
        kwargs.setdefault("initial", {
            "enabled": current.enabled, "delay_minutes": current.delay_minutes,
            "text_pt_br": texts.get("pt-br", ""), "text_en": texts.get("en", "")})
        super().__init__(*args, **kwargs)
        self.fields["text_pt_br"].widget.attrs["placeholder"] = default_wording("pt-br")
        self.fields["text_en"].widget.attrs["placeholder"] = default_wording("en")

    def save(self) -> Channel:
        data = self.cleaned_data
        texts = tuple((lang, str(data[field]).strip()) for lang, field in
                      (("pt-br", "text_pt_br"), ("en", "text_en")) if str(data[field]).strip())
        config = CsatSettings(enabled=bool(data["enabled"]),
                              delay_minutes=int(data["delay_minutes"] or 0), texts=texts)
        # Only this key of the settings changes: a concurrent save of the channel's own
        # form keeps its keys (read again under the row lock).
        with transaction.atomic():
            channel = Channel.objects.select_for_update().get(pk=self.channel.pk)
            channel.settings = {**(channel.settings or {}), "csat": config.as_json()}
            channel.save(update_fields=["settings"])
        return channel
