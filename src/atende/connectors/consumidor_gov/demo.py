"""`atende demo --fake-channels`: a Consumidor.gov.br channel against the contract fake
(`python -m tests.fakes.consumidor_gov`, from a source checkout), so a newcomer sees a
complaint arrive. The fake's credentials are public test values."""

from __future__ import annotations

import os

from atende.channels.models import Channel, ChannelKind
from atende.tenancy.models import Organization, Service

DEFAULT_URL = "http://127.0.0.1:8765/api/servico"
FAKE_CREDENTIALS = {"client_id": "atende-acme", "code": "c0d1g0-aut", "password": "s3nha-aut",
                    "cpf": "52998224725"}


def create_demo_channel(organization: Organization, service: Service | None) -> Channel:
    """Idempotent: the demo's channel, pointed at the fake (ATENDE_DEMO_CONSUMIDOR_URL)."""
    url = os.environ.get("ATENDE_DEMO_CONSUMIDOR_URL", DEFAULT_URL)
    channel = Channel.objects.filter(organization=organization,
                                     kind=ChannelKind.CONSUMIDOR_GOV).first()
    if channel is None:
        channel = Channel(organization=organization, kind=ChannelKind.CONSUMIDOR_GOV,
                          name="Consumidor.gov.br (fake)")
    channel.service = service
    channel.settings = {**channel.settings, "client_id": FAKE_CREDENTIALS["client_id"],
                        "cpf": FAKE_CREDENTIALS["cpf"],
                        # The fake serves any hour: the demo works at night too.
                        "api": {"base_url": url, "hours": "always"}}
    channel.secrets = {"code": FAKE_CREDENTIALS["code"],
                       "password": FAKE_CREDENTIALS["password"]}
    channel.save()
    return channel
