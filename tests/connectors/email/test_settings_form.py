"""The e-mail channel settings form: validation, encrypted passwords; the signature is left to
its own editor (test_signature.py)."""

from __future__ import annotations

from typing import Any

from atende.connectors.email.config import EmailSettings
from atende.connectors.email.settings_form import EmailChannelForm
from tests.conftest import Tenant


def valid_data(tenant: Tenant, **overrides: Any) -> dict[str, Any]:
    return {
        "name": "Suporte", "service": tenant.service.pk, "address": "Suporte@Example.com",
        "from_name": "Acme Suporte", "in_protocol": "imap", "in_host": "imap.example.com",
        "in_port": 993, "in_security": "ssl", "in_username": "suporte@example.com",
        "in_password": "imap-secret", "in_folder": "INBOX", "smtp_host": "smtp.example.com",
        "smtp_port": 587, "smtp_security": "starttls", "smtp_username": "suporte@example.com",
        "smtp_password": "smtp-secret", "poll_seconds": 120, "reopen_closed": "on",
        "auto_daily_cap": 3,
        "signature_html": '<p><b>Acme</b><img src="cid:logo"><script>alert(1)</script></p>',
        **overrides,
    }


def test_saves_settings_and_encrypted_passwords(tenant: Tenant) -> None:
    form = EmailChannelForm(tenant.org.pk, data=valid_data(tenant))
    assert form.is_valid(), form.errors
    channel = form.save(tenant.org)
    assert channel.kind == "email" and channel.service == tenant.service
    assert "imap-secret" not in str(channel.settings)
    assert "imap-secret" not in channel.encrypted_secrets
    cfg = EmailSettings.of(channel)
    assert cfg.address == "suporte@example.com"
    assert cfg.inbound.password == "imap-secret" and cfg.smtp.password == "smtp-secret"
    assert cfg.poll_seconds == 120 and cfg.reopen_closed
    # Not a field of this form any more: a stray value never replaces the edited signature.
    assert cfg.signature_html == ""


def test_blank_password_keeps_the_stored_one(tenant: Tenant) -> None:
    form = EmailChannelForm(tenant.org.pk, data=valid_data(tenant))
    assert form.is_valid()
    channel = form.save(tenant.org)
    edit = EmailChannelForm(tenant.org.pk, channel=channel,
                            data=valid_data(tenant, in_password="", smtp_password="",
                                            name="Vendas"))
    assert edit.is_valid(), edit.errors
    channel = edit.save(tenant.org)
    assert channel.name == "Vendas"
    assert channel.secrets == {"in_password": "imap-secret", "smtp_password": "smtp-secret"}


def test_bad_values_are_refused_with_reasons(tenant: Tenant) -> None:
    form = EmailChannelForm(tenant.org.pk, data=valid_data(
        tenant, in_port=70000, in_security="rot13", address="not-an-address", in_password=""))
    assert not form.is_valid()
    assert set(form.errors) >= {"in_port", "in_security", "address", "in_password"}


def test_another_tenants_service_is_refused(tenant: Tenant, other_tenant: Tenant) -> None:
    form = EmailChannelForm(tenant.org.pk, data=valid_data(tenant,
                                                           service=other_tenant.service.pk))
    assert not form.is_valid()
    assert "service" in form.errors
