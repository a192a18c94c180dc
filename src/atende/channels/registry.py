"""Which connector serves which channel kind: the one place a connector is registered.

By import path, so the kit imports a provider's package only when a channel of its kind is
used, and no connector imports another."""

from functools import cache

from django.utils.module_loading import import_string

from atende.channels.connector import Connector

CONNECTORS: dict[str, str] = {
    "api": "atende.connectors.api.connector.ApiChannelConnector",
    "whatsapp": "atende.connectors.whatsapp.connector.WhatsAppConnector",
    "email": "atende.connectors.email.connector.EmailConnector",
    "telegram": "atende.connectors.telegram.connector.TelegramConnector",
    "portal": "atende.connectors.portal.connector.PortalConnector",
    "consumidor_gov": "atende.connectors.consumidor_gov.connector.ConsumidorGovConnector",
    "webchat": "atende.connectors.webchat.connector.WebchatConnector",
    "voice": "atende.connectors.voice.connector.VoiceConnector",
    "instagram": "atende.connectors.meta_messaging.connector.InstagramConnector",
    "messenger": "atende.connectors.meta_messaging.connector.MessengerConnector",
}


class UnknownChannelKind(LookupError):
    pass


@cache
def get_connector(kind: str) -> Connector:
    try:
        path = CONNECTORS[kind]
    except KeyError:
        raise UnknownChannelKind(kind) from None
    connector: Connector = import_string(path)()
    return connector


def registered() -> list[Connector]:
    """Every registered connector, in the registry's order."""
    return [get_connector(kind) for kind in CONNECTORS]
