"""The settings of an e-mail channel, validated and saved in one place (agent UI, API).

Passwords go to `Channel.secrets` (encrypted); left blank on an existing channel, the stored
one is kept. The signature's HTML is sanitised before it is stored.
"""

from __future__ import annotations

from typing import Any

import nh3
from django import forms
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from atende.connectors.email.config import IMAP, PLAIN, POP3, SSL, STARTTLS
from atende.connectors.models import Channel, ChannelKind
from atende.tenancy.models import Organization, Service

SECURITY_CHOICES = [(SSL, _("SSL/TLS")), (STARTTLS, _("STARTTLS")), (PLAIN, _("None"))]
PROTOCOL_CHOICES = [(IMAP, "IMAP"), (POP3, "POP3")]
SETTING_FIELDS = (
    "address", "from_name", "in_protocol", "in_host", "in_port", "in_security", "in_username",
    "in_folder", "pop3_delete", "smtp_host", "smtp_port", "smtp_security", "smtp_username",
    "poll_seconds", "signature_text", "signature_html", "reopen_closed", "auto_daily_cap",
    "answer_reminder_hours",
)
SECRET_FIELDS = ("in_password", "smtp_password")


class EmailChannelForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    service = forms.ModelChoiceField(label=_("Service"), queryset=Service.objects.none(),
                                     required=False)
    address = forms.EmailField(label=_("E-mail address"),
                               help_text=_("Customers write to this address."))
    from_name = forms.CharField(label=_("Sender name"), max_length=120, required=False)
    in_protocol = forms.ChoiceField(label=_("Incoming protocol"), choices=PROTOCOL_CHOICES)
    in_host = forms.CharField(label=_("Incoming server"), max_length=255)
    in_port = forms.IntegerField(label=_("Incoming port"), min_value=1, max_value=65535,
                                 initial=993)
    in_security = forms.ChoiceField(label=_("Incoming security"), choices=SECURITY_CHOICES)
    in_username = forms.CharField(label=_("Incoming user"), max_length=320)
    in_password = forms.CharField(label=_("Incoming password"), required=False,
                                  widget=forms.PasswordInput(render_value=False),
                                  help_text=_("Leave blank to keep the current password."))
    in_folder = forms.CharField(label=_("Folder"), max_length=255, initial="INBOX",
                                required=False)
    pop3_delete = forms.BooleanField(label=_("Delete from the server after fetching (POP3)"),
                                     required=False)
    smtp_host = forms.CharField(label=_("SMTP server"), max_length=255)
    smtp_port = forms.IntegerField(label=_("SMTP port"), min_value=1, max_value=65535,
                                   initial=587)
    smtp_security = forms.ChoiceField(label=_("SMTP security"), choices=SECURITY_CHOICES,
                                      initial=STARTTLS)
    smtp_username = forms.CharField(label=_("SMTP user"), max_length=320, required=False)
    smtp_password = forms.CharField(label=_("SMTP password"), required=False,
                                    widget=forms.PasswordInput(render_value=False),
                                    help_text=_("Leave blank to keep the current password."))
    poll_seconds = forms.IntegerField(label=_("Check for new mail every (seconds)"),
                                      min_value=30, max_value=86400, initial=60)
    signature_text = forms.CharField(label=_("Signature (text)"), required=False,
                                     widget=forms.Textarea, max_length=5000)
    signature_html = forms.CharField(label=_("Signature (HTML)"), required=False,
                                     widget=forms.Textarea, max_length=50000)
    reopen_closed = forms.BooleanField(
        label=_("A reply to a closed ticket reopens it"), required=False, initial=True,
        help_text=_("Otherwise a new ticket linked to the closed one is opened."))
    auto_daily_cap = forms.IntegerField(
        label=_("Automatic mails per address per day"), min_value=0, max_value=100, initial=3)
    answer_reminder_hours = forms.IntegerField(
        label=_("Answer reminder after (hours)"), min_value=0, max_value=720, initial=0,
        required=False,
        help_text=_("A ticket pending on the customer this long after an answer sends the "
                    "\"answer reminder\" notification once. 0: never."))

    def __init__(self, organization_id: int, *args: Any, channel: Channel | None = None,
                 **kwargs: Any) -> None:
        if channel is not None and "initial" not in kwargs:
            kwargs["initial"] = {"name": channel.name, "service": channel.service_id,
                                 **{k: v for k, v in channel.settings.items()
                                    if k in SETTING_FIELDS}}
        super().__init__(*args, **kwargs)
        self.channel = channel
        service_field: forms.ModelChoiceField = self.fields["service"]  # type: ignore[assignment]
        service_field.queryset = Service.objects.for_org(organization_id)

    def clean_address(self) -> str:
        return str(self.cleaned_data["address"]).strip().lower()

    def clean_in_folder(self) -> str:
        return str(self.cleaned_data.get("in_folder") or "INBOX")

    def clean_answer_reminder_hours(self) -> int:
        return int(self.cleaned_data.get("answer_reminder_hours") or 0)

    def clean_signature_html(self) -> str:
        html = str(self.cleaned_data.get("signature_html") or "")
        # Inline images of the signature are referenced by cid:, kept by the sanitiser.
        schemes = nh3.ALLOWED_URL_SCHEMES | {"cid", "data"}
        return nh3.clean(html, url_schemes=schemes) if html else ""

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.channel is None and not data.get("in_password"):
            self.add_error("in_password", _("Enter the mailbox password."))
        return data

    def save(self, organization: Organization) -> Channel:
        return save_email_channel(organization, self.cleaned_data, self.channel)


@transaction.atomic
def save_email_channel(organization: Organization, data: dict[str, Any],
                       channel: Channel | None = None) -> Channel:
    """Create or change an e-mail channel from validated data; blank passwords keep the
    stored ones."""
    if channel is None:
        channel = Channel(organization=organization, kind=ChannelKind.EMAIL)
        secrets: dict[str, Any] = {}
    else:
        secrets = channel.secrets if channel.encrypted_secrets else {}
    channel.name = data["name"]
    channel.service = data.get("service")
    channel.settings = {**(channel.settings or {}),
                        **{k: data[k] for k in SETTING_FIELDS if k in data}}
    for key in SECRET_FIELDS:
        if data.get(key):
            secrets[key] = data[key]
    channel.secrets = secrets
    channel.save()
    return channel
