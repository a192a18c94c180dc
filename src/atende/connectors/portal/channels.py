"""The organisation's portal channel and its settings row: creating, reading, updating."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from atende.channels.models import Channel, ChannelKind
from atende.connectors.portal import form_fields
from atende.connectors.portal.models import Category, PortalSettings
from atende.tenancy.models import Organization, Service


def portal_channel(organization_id: int) -> Channel | None:
    """The organisation's active portal channel (the oldest, should there be two): its
    tickets carry it, and without one the portal is closed."""
    return (Channel.objects.for_org(organization_id)
            .filter(kind=ChannelKind.PORTAL, is_active=True).order_by("pk").first())


def create_portal_channel(organization: Organization, *, name: str,
                          service: Service | None = None) -> Channel:
    channel = Channel.objects.create(organization=organization, kind=ChannelKind.PORTAL,
                                     name=name, service=service)
    settings_for(organization.pk)
    return channel


def update_channel(channel: Channel, changes: dict[str, Any]) -> Channel:
    fields = [attr for attr in ("name", "service", "is_active") if attr in changes]
    for attr in fields:
        setattr(channel, attr, changes[attr])
    if fields:
        channel.save(update_fields=fields)
    return channel


def settings_for(organization_id: int) -> PortalSettings:
    """The organisation's portal settings, created with the seed's form on first use."""
    found = PortalSettings.objects.for_org(organization_id).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return PortalSettings.objects.create(
                organization_id=organization_id,
                form_fields=form_fields.dump(form_fields.defaults()))
    except IntegrityError:  # created concurrently
        return PortalSettings.objects.for_org(organization_id).get()


def category_names(organization_id: int) -> list[str]:
    """The active managed categories, in the list's order."""
    return list(Category.objects.for_org(organization_id).filter(is_active=True)
                .values_list("name", flat=True))


def save_layout(organization_id: int, fields: list[form_fields.Field]) -> PortalSettings:
    """Store the form's layout (`form_fields.load` puts subject and description back)."""
    portal = settings_for(organization_id)
    portal.form_fields = form_fields.dump(form_fields.load(form_fields.dump(fields)))
    portal.save(update_fields=["form_fields"])
    return portal
