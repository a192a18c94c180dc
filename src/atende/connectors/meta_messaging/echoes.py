"""`message_echoes`: what the business sent. An echo of Atende's own send is a duplicate
(the send stored its `message_id`); one typed in the Instagram or Messenger app becomes an
agent entry on the conversation's ticket, never sent again."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from atende.channels import pipeline
from atende.channels.models import Channel, InboundEvent
from atende.connectors.meta_messaging import inbound
from atende.connectors.meta_messaging.kinds import of
from atende.connectors.meta_messaging.marks import NotYetKnown
from atende.events import emit
from atende.tickets.models import DeliveryStatus, Direction, Message, ThreadReference
from atende.tickets.payloads import message_payload


def record(channel: Channel, event: InboundEvent) -> str:
    item = event.payload["item"]
    message = item["message"]
    mid = str(message.get("mid") or "")
    org = channel.organization_id
    messages = Message.objects.for_org(org).filter(channel=channel)
    ours = messages.filter(external_id=mid).values_list("pk", flat=True).first()
    if ours is not None:
        return pipeline.processed(event, ours, duplicate=True)
    key = inbound.thread_key(of(channel), inbound.customer_id(item, inbound.ECHO))
    ticket_id = ThreadReference.objects.for_org(org).filter(
        channel=channel, key=key).order_by("-pk").values_list("ticket_id", flat=True).first()
    if ticket_id is None:
        return pipeline.processed(event, None, note="no conversation with this customer")
    if messages.filter(ticket_id=ticket_id, direction=Direction.OUTBOUND,
                       delivery_status=DeliveryStatus.QUEUED).exists():
        # Atende's own send may be this echo, its answer not stored yet.
        return pipeline.quarantine(event, NotYetKnown("a send of this ticket is under way"))
    lines = [str(message["text"])] if isinstance(message.get("text"), str) else []
    for attachment in message.get("attachments") or []:
        if isinstance(attachment, dict):
            url = (attachment.get("payload") or {}).get("url") or ""
            lines.append(_("[Sent %(kind)s: %(url)s]") % {
                "kind": attachment.get("type") or "?", "url": url})
    at = inbound.sent_at(item) or timezone.now()
    with transaction.atomic():
        entry = Message.objects.create(
            organization_id=org, ticket_id=ticket_id, direction=Direction.OUTBOUND,
            channel=channel, text="\n".join(lines) or _("[An empty message]"),
            external_id=mid[:255], delivery_status=DeliveryStatus.SENT, sent_at=at,
            created_at=at)
        emit(org, "message.created", message_payload(entry))
        return pipeline.processed(event, entry.pk, note=_("sent from the %(app)s app") % {
            "app": of(channel).label})
