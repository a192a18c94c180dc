"""The generic API channel ("Omni Channel") endpoints — see connectors/api/."""

from ninja import Router

router = Router(tags=["channels"])
