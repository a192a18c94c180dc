"""The notifications of an e-mail channel (EM-5), edited on one form: per event on/off, and
subject + body in each language. Saved in one transaction, one row per event and language."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from atende.channels.models import Channel
from atende.connectors.email.models import (
    NotificationEvent,
    NotificationLanguage,
    NotificationTemplate,
)
from atende.connectors.email.notification_texts import Text, default_text, unknown_variables


def field_name(event: str, language: str, part: str) -> str:
    return f"{event}_{language.replace('-', '_')}_{part}"


@dataclass(frozen=True)
class LanguageFields:
    language: str
    label: str
    subject: forms.BoundField
    body: forms.BoundField


@dataclass(frozen=True)
class EventFields:
    event: str
    label: str
    enabled: forms.BoundField
    languages: list[LanguageFields]


class NotificationsForm(forms.Form):
    def __init__(self, channel: Channel, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.channel = channel
        stored = {(t.event, t.language): t for t in NotificationTemplate.objects.for_org(
            channel.organization_id).filter(channel=channel)}
        for event in NotificationEvent.values:
            enabled = False
            for language in NotificationLanguage.values:
                row = stored.get((event, language))
                text = Text(row.enabled, row.subject, row.body) if row else default_text(
                    event, language)
                enabled = enabled or text.enabled
                self.fields[field_name(event, language, "subject")] = forms.CharField(
                    label=_("Subject"), max_length=250, initial=text.subject)
                self.fields[field_name(event, language, "body")] = forms.CharField(
                    label=_("Text"), max_length=20000, initial=text.body,
                    widget=forms.Textarea(attrs={"rows": 7}))
            self.fields[f"{event}_enabled"] = forms.BooleanField(
                label=_("Send this notification"), required=False, initial=enabled)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name, value in list(data.items()):
            if not isinstance(value, str):
                continue
            unknown = unknown_variables(value)
            if unknown:
                self.add_error(name, _("Unknown variable: %(names)s. Use one of the list.")
                               % {"names": ", ".join(unknown)})
        return data

    def events(self) -> list[EventFields]:
        return [
            EventFields(event, str(label), self[f"{event}_enabled"], [
                LanguageFields(language, str(lang_label),
                               self[field_name(event, language, "subject")],
                               self[field_name(event, language, "body")])
                for language, lang_label in NotificationLanguage.choices
            ])
            for event, label in NotificationEvent.choices
        ]

    def save(self) -> None:
        save_templates(self.channel, self.cleaned_data)


@transaction.atomic
def save_templates(channel: Channel, data: dict[str, Any]) -> None:
    for event in NotificationEvent.values:
        for language in NotificationLanguage.values:
            NotificationTemplate.objects.update_or_create(
                organization_id=channel.organization_id, channel=channel, event=event,
                language=language, defaults={
                    "enabled": bool(data.get(f"{event}_enabled")),
                    "subject": data[field_name(event, language, "subject")],
                    "body": data[field_name(event, language, "body")],
                })
