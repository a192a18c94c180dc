"""The settings of an e-mail channel, validated and saved in one place (agent UI, API).

Passwords go to `Channel.secrets` (encrypted); left blank on an existing channel, the stored
one is kept. The signature has its own editor (signature.py), so it is not a field here.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from atende.channels.models import Channel, ChannelKind
from atende.connectors.email.config import IMAP, OAUTH2, PASSWORD, PLAIN, POP3, SSL, STARTTLS
from atende.net import BlockedDestination, UnresolvedName, checked_addresses
from atende.tenancy.models import Organization, Service

SECURITY_CHOICES = [(SSL, _("SSL/TLS")), (STARTTLS, _("STARTTLS")), (PLAIN, _("None"))]
PROTOCOL_CHOICES = [(IMAP, "IMAP"), (POP3, "POP3")]
SETTING_FIELDS = (
    "address", "from_name", "in_protocol", "in_host", "in_port", "in_security", "in_username",
    "in_folder", "pop3_delete", "smtp_host", "smtp_port", "smtp_security", "smtp_username",
    "poll_seconds", "reopen_closed", "auto_daily_cap", "oauth_client_id", "oauth_tenant",
    "answer_reminder_hours", "api_tickets",
)
SECRET_FIELDS = ("in_password", "smtp_password", "oauth_client_secret")
MICROSOFT, GOOGLE = "microsoft", "google"
SIGN_IN_CHOICES = [(PASSWORD, _("User name and password")),
                   (MICROSOFT, _("Microsoft 365 / Outlook.com (OAuth2)")),
                   (GOOGLE, _("Gmail / Google Workspace (OAuth2)"))]
# The provider's servers, filled in when left blank (CONTRACTS §6.4).
PROVIDER_SERVERS = {
    MICROSOFT: {IMAP: ("outlook.office365.com", 993, SSL),
                POP3: ("outlook.office365.com", 995, SSL),
                "smtp": ("smtp.office365.com", 587, STARTTLS)},
    GOOGLE: {IMAP: ("imap.gmail.com", 993, SSL), POP3: ("pop.gmail.com", 995, SSL),
             "smtp": ("smtp.gmail.com", 587, STARTTLS)},
}
# A new app registration or provider makes the stored tokens worthless.
OAUTH_IDENTITY = ("auth", "oauth_provider", "oauth_client_id", "oauth_tenant")
OAUTH_TOKENS = ("oauth_refresh_token", "oauth_access_token", "oauth_expires_at")


class EmailChannelForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    service = forms.ModelChoiceField(label=_("Service"), queryset=Service.objects.none(),
                                     required=False)
    address = forms.EmailField(label=_("E-mail address"),
                               help_text=_("Customers write to this address."))
    from_name = forms.CharField(label=_("Sender name"), max_length=120, required=False)
    in_protocol = forms.ChoiceField(label=_("Incoming protocol"), choices=PROTOCOL_CHOICES)
    in_host = forms.CharField(label=_("Incoming server"), max_length=255, required=False)
    in_port = forms.IntegerField(label=_("Incoming port"), min_value=1, max_value=65535,
                                 initial=993)
    in_security = forms.ChoiceField(label=_("Incoming security"), choices=SECURITY_CHOICES)
    in_username = forms.CharField(label=_("Incoming user"), max_length=320, required=False)
    in_password = forms.CharField(label=_("Incoming password"), required=False,
                                  widget=forms.PasswordInput(render_value=False),
                                  help_text=_("Leave blank to keep the current password."))
    in_folder = forms.CharField(label=_("Folder"), max_length=255, initial="INBOX",
                                required=False)
    pop3_delete = forms.BooleanField(label=_("Delete from the server after fetching (POP3)"),
                                     required=False)
    smtp_host = forms.CharField(label=_("SMTP server"), max_length=255, required=False)
    smtp_port = forms.IntegerField(label=_("SMTP port"), min_value=1, max_value=65535,
                                   initial=587)
    smtp_security = forms.ChoiceField(label=_("SMTP security"), choices=SECURITY_CHOICES,
                                      initial=STARTTLS)
    smtp_username = forms.CharField(label=_("SMTP user"), max_length=320, required=False)
    smtp_password = forms.CharField(label=_("SMTP password"), required=False,
                                    widget=forms.PasswordInput(render_value=False),
                                    help_text=_("Leave blank to keep the current password."))
    sign_in = forms.ChoiceField(
        label=_("Sign-in"), choices=SIGN_IN_CHOICES, required=False,
        help_text=_("Microsoft 365 and Gmail accept only OAuth2: register an application "
                    "(see below), save, then click Connect."))
    oauth_client_id = forms.CharField(label=_("Application (client) ID"), max_length=255,
                                      required=False)
    oauth_client_secret = forms.CharField(
        label=_("Client secret"), required=False, max_length=1000,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Leave blank to keep the current secret."))
    oauth_tenant = forms.CharField(
        label=_("Directory (tenant) ID"), max_length=255, required=False,
        help_text=_("Microsoft only: your tenant ID or domain; blank accepts any work or "
                    "school account."))
    poll_seconds = forms.IntegerField(label=_("Check for new mail every (seconds)"),
                                      min_value=30, max_value=86400, initial=60)
    reopen_closed = forms.BooleanField(
        label=_("A reply to a closed ticket reopens it"), required=False, initial=True,
        help_text=_("Otherwise a new ticket linked to the closed one is opened."))
    auto_daily_cap = forms.IntegerField(
        label=_("Automatic mails per address per day"), min_value=0, max_value=100, initial=3)
    api_tickets = forms.BooleanField(
        label=_("Tickets created through the REST API are answered from this address"),
        required=False, initial=False,
        help_text=_("Their requester then gets this channel's notifications (\"ticket "
                    "opened\" when it is on) and the agents' answers by e-mail. With "
                    "several such channels, the oldest is used."))
    answer_reminder_hours = forms.IntegerField(
        label=_("Answer reminder after (hours)"), min_value=0, max_value=720, initial=0,
        required=False,
        help_text=_("A ticket pending on the customer this long after an answer sends the "
                    "\"answer reminder\" notification once. 0: never."))

    def __init__(self, organization_id: int, *args: Any, channel: Channel | None = None,
                 **kwargs: Any) -> None:
        if channel is not None and "initial" not in kwargs:
            kwargs["initial"] = {"name": channel.name, "service": channel.service_id,
                                 "sign_in": sign_in_of(channel.settings),
                                 **{k: v for k, v in channel.settings.items()
                                    if k in SETTING_FIELDS}}
        super().__init__(*args, **kwargs)
        self.channel = channel
        service_field: forms.ModelChoiceField = self.fields["service"]  # type: ignore[assignment]
        service_field.queryset = Service.objects.for_org(organization_id)

    def clean_address(self) -> str:
        return str(self.cleaned_data["address"]).strip().lower()

    def clean_in_host(self) -> str:
        return self._server("in_host")

    def clean_smtp_host(self) -> str:
        return self._server("smtp_host")

    def _server(self, field: str) -> str:
        """A server the SSRF guard refuses is said now, not at the first poll. The
        connections check again, on the address they dial."""
        host = str(self.cleaned_data.get(field) or "").strip()
        if any(c.isspace() or not c.isprintable() for c in host):
            raise forms.ValidationError(_("Enter a server name without spaces or line "
                                          "breaks."))
        if host and host != self.initial.get(field):
            try:
                checked_addresses(host, 0)
            except UnresolvedName:
                pass  # "Test settings" says so; the name may be registered later
            except BlockedDestination as exc:
                raise forms.ValidationError(
                    _("This server cannot be used: %(reason)s Only the operator of this "
                      "Atende server can allow mail servers on private networks."),
                    params={"reason": str(exc)}) from exc
        return host

    def clean_in_folder(self) -> str:
        return str(self.cleaned_data.get("in_folder") or "INBOX")

    def clean_answer_reminder_hours(self) -> int:
        return int(self.cleaned_data.get("answer_reminder_hours") or 0)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        sign_in = data.get("sign_in") or PASSWORD
        data["sign_in"] = sign_in
        if sign_in == PASSWORD:
            if self.channel is None and not data.get("in_password"):
                self.add_error("in_password", _("Enter the mailbox password."))
            for key in ("in_host", "in_username", "smtp_host"):
                if not data.get(key) and key in self.fields:
                    self.add_error(key, forms.Field.default_error_messages["required"])
            return data
        servers = PROVIDER_SERVERS[sign_in]
        if not data.get("in_host"):
            data["in_host"], data["in_port"], data["in_security"] = \
                servers[data.get("in_protocol") or IMAP]
        if not data.get("smtp_host"):
            data["smtp_host"], data["smtp_port"], data["smtp_security"] = servers["smtp"]
        if not data.get("oauth_client_id"):
            self.add_error("oauth_client_id", _("Enter the application (client) ID of your "
                                                "app registration."))
        has_secret = self.channel is not None and \
            bool(self.channel.secrets.get("oauth_client_secret"))
        if not data.get("oauth_client_secret") and not has_secret:
            self.add_error("oauth_client_secret", _("Enter the client secret of your app "
                                                    "registration."))
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
        # Re-read under a row lock: the signature page, a token refresh or a poll may have
        # written the channel since the form was loaded; their keys must survive this save.
        channel = Channel.objects.select_for_update().get(pk=channel.pk)
        secrets = channel.secrets if channel.encrypted_secrets else {}
    channel.name = data["name"]
    channel.service = data.get("service")
    before = {k: (channel.settings or {}).get(k) for k in OAUTH_IDENTITY}
    channel.settings = {**(channel.settings or {}),
                        **{k: data[k] for k in SETTING_FIELDS if k in data},
                        **sign_in_settings(data.get("sign_in") or PASSWORD)}
    if any(channel.settings.get(k) != v for k, v in before.items()):
        for key in OAUTH_TOKENS:
            secrets.pop(key, None)
        channel.settings.pop("oauth_account", None)
    for key in SECRET_FIELDS:
        if data.get(key):
            secrets[key] = data[key]
    channel.secrets = secrets
    channel.save()
    return channel


def sign_in_of(settings: dict[str, Any]) -> str:
    if settings.get("auth") == OAUTH2:
        return str(settings.get("oauth_provider") or MICROSOFT)
    return PASSWORD


def sign_in_settings(sign_in: str) -> dict[str, str]:
    if sign_in == PASSWORD:
        return {"auth": PASSWORD}
    return {"auth": OAUTH2, "oauth_provider": sign_in}
