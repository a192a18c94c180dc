"""Which connector serves which channel kind. Connectors register by import path, so the
registry imports them lazily and no connector imports another."""

from functools import cache

from django.utils.module_loading import import_string

from atende.channels.connector import Connector

CONNECTORS: dict[str, str] = {
    "api": "atende.connectors.api.outbound.ApiChannelConnector",
    "whatsapp": "atende.connectors.whatsapp.outbound.WhatsAppConnector",
    "email": "atende.connectors.email.outbound.EmailConnector",
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
