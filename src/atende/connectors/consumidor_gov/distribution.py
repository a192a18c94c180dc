"""A complaint distributed to an agent is "Em Análise pelo Gestor" (CG-5): the ticket's
assignment is heard through the domain events (the ticket domain never imports a
connector) and recorded after commit; the platform is told when its path is configured."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction

from atende.events import listen

logger = logging.getLogger(__name__)


def connect() -> None:
    listen("ticket.updated", _heard)


def _heard(organization_id: int, _event_type: str, payload: dict[str, Any]) -> None:
    if payload.get("origin") != "consumidor_gov" or not payload.get("assignee_id"):
        return
    ticket_id = payload.get("id")
    if ticket_id:
        transaction.on_commit(lambda: mark_in_analysis(int(ticket_id)))


def mark_in_analysis(ticket_id: int) -> bool:
    from atende.connectors.consumidor_gov.client import ConsumidorClient, ConsumidorError
    from atende.connectors.consumidor_gov.complaints import advance
    from atende.connectors.consumidor_gov.models import Complaint, PlatformStatus

    complaint = Complaint.objects.select_related("channel").filter(ticket_id=ticket_id).first()
    if complaint is None or not advance(complaint, PlatformStatus.IN_ANALYSIS):
        return False
    Complaint.objects.filter(pk=complaint.pk, status=PlatformStatus.OPEN).update(
        status=PlatformStatus.IN_ANALYSIS)
    try:
        ConsumidorClient.for_channel(complaint.channel).mark_in_analysis(complaint.protocol)
    except ConsumidorError as exc:  # the status here stands; the platform's own follows
        logger.warning("Consumidor.gov.br complaint %s not marked in analysis: %s",
                       complaint.pk, exc)
    return True
