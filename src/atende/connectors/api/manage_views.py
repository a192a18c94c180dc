"""Channel management for integrators (organisation keys only): create API channels, change
them, issue channel keys, test the webhook. Secrets are shown once, when created."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Status

from atende.api_errors import ApiError
from atende.channels.models import Channel, ChannelKind
from atende.channels.registry import UnknownChannelKind, get_connector
from atende.connectors.api import channels
from atende.connectors.api.schemas import (
    ERRORS,
    ChannelCreatedOut,
    ChannelCreateIn,
    ChannelKeyOut,
    ChannelOut,
    ChannelUpdateIn,
    ConnectionTestOut,
)
from atende.connectors.api.settings_form import ApiChannelForm
from atende.tenancy.api_auth import org_key
from atende.tenancy.models import Permission

router = Router(tags=["channels"])
# Form field → API field, for error messages.
API_FIELDS = {"service": "service_id"}


def channel_out(channel: Channel) -> dict[str, Any]:
    is_api = channel.kind == ChannelKind.API
    return {
        "id": channel.pk, "kind": channel.kind, "name": channel.name,
        "service_id": channel.service_id, "is_active": channel.is_active,
        "webhook_url": channel.settings.get("webhook_url", "") if is_api else None,
        "created_at": channel.created_at,
    }


def _validated(organization_id: int, data: dict[str, Any],
               initial: dict[str, Any] | None = None) -> dict[str, Any]:
    form = ApiChannelForm(organization_id, data=data, initial=initial or {})
    if not form.is_valid():
        field, errors = next(iter(form.errors.items()))
        message = " ".join(str(e) for e in errors)
        raise ApiError(400, "invalid", message, API_FIELDS.get(field, field))
    return form.cleaned_data


@router.post("/channels", response={201: ChannelCreatedOut, **ERRORS},
             summary="Create an API channel")
def create_channel(request: HttpRequest, payload: ChannelCreateIn) -> Status[dict[str, Any]]:
    """Returns the channel with its first key and its webhook signing secret, both shown only
    in this response."""
    key = org_key(request, Permission.GENERAL_SETTINGS, Permission.API_KEYS)
    data = _validated(key.organization_id, {"name": payload.name,
                                            "service": payload.service_id or "",
                                            "webhook_url": payload.webhook_url})
    channel, raw_key, secret = channels.create_api_channel(
        key.organization, name=data["name"], service=data["service"],
        webhook_url=data["webhook_url"], created_by_id=key.created_by_id,
    )
    return Status(201, {**channel_out(channel), "api_key": raw_key, "signing_secret": secret})


@router.get("/channels", response={200: list[ChannelOut], **ERRORS},
            summary="List the organisation's channels")
def list_channels(request: HttpRequest, kind: str | None = None) -> list[dict[str, Any]]:
    key = org_key(request, Permission.GENERAL_SETTINGS)
    rows = Channel.objects.for_org(key.organization_id).order_by("id")
    if kind:
        rows = rows.filter(kind=kind)
    return [channel_out(c) for c in rows]


@router.get("/channels/{channel_id}", response={200: ChannelOut, **ERRORS},
            summary="Get a channel")
def get_channel(request: HttpRequest, channel_id: int) -> dict[str, Any]:
    key = org_key(request, Permission.GENERAL_SETTINGS)
    return channel_out(channels.access_channel(key, channel_id))


@router.patch("/channels/{channel_id}", response={200: ChannelOut, **ERRORS},
              summary="Rename, enable or disable a channel, change its service or webhook URL")
def patch_channel(request: HttpRequest, channel_id: int,
                  payload: ChannelUpdateIn) -> dict[str, Any]:
    key = org_key(request, Permission.GENERAL_SETTINGS)
    channel = channels.access_channel(key, channel_id)
    patch = payload.model_dump(exclude_unset=True)
    if patch.get("webhook_url") is not None and channel.kind != ChannelKind.API:
        raise ApiError(400, "invalid", _("Only API channels have a webhook URL."), "webhook_url")
    current = {"name": channel.name, "service": channel.service_id or "",
               "webhook_url": channel.settings.get("webhook_url", "")}
    wanted = dict(current)
    if patch.get("name") is not None:
        wanted["name"] = patch["name"]
    if "service_id" in patch:
        wanted["service"] = patch["service_id"] or ""
    if patch.get("webhook_url") is not None:
        wanted["webhook_url"] = patch["webhook_url"]
    data = _validated(key.organization_id, wanted, initial=current)
    changes: dict[str, Any] = {"name": data["name"], "service": data["service"]}
    if channel.kind == ChannelKind.API:
        changes["webhook_url"] = data["webhook_url"]
    if patch.get("is_active") is not None:
        changes["is_active"] = patch["is_active"]
    return channel_out(channels.update_channel(channel, changes))


@router.post("/channels/{channel_id}/keys", response={201: ChannelKeyOut, **ERRORS},
             summary="Issue a new key for an API channel")
def create_channel_key(request: HttpRequest, channel_id: int,
                       revoke_existing: bool = False) -> Status[dict[str, Any]]:
    """The key is shown only in this response. With `revoke_existing=true` the channel's
    other keys stop working at once (rotation after a leak)."""
    key = org_key(request, Permission.API_KEYS)
    channel = channels.access_channel(key, channel_id)
    if channel.kind != ChannelKind.API:
        raise ApiError(400, "invalid", _("Only API channels have their own keys."), "channel_id")
    new_key, raw = channels.issue_channel_key(channel, revoke_existing=revoke_existing,
                                              created_by_id=key.created_by_id)
    return Status(201, {"id": new_key.pk, "prefix": new_key.prefix, "api_key": raw,
                        "created_at": new_key.created_at})


@router.post("/channels/{channel_id}/test", response={200: ConnectionTestOut, **ERRORS},
             summary="Test a channel's connection (API channels: a signed ping to the webhook)")
def run_channel_test(request: HttpRequest, channel_id: int) -> dict[str, Any]:
    key = org_key(request, Permission.GENERAL_SETTINGS)
    channel = channels.access_channel(key, channel_id)
    try:
        connector = get_connector(channel.kind)
    except UnknownChannelKind:
        raise ApiError(400, "invalid", _("This channel type cannot be tested yet."),
                       "channel_id") from None
    result = connector.test_connection(channel)
    return {"ok": result.ok, "message": result.message, "step": result.step}
