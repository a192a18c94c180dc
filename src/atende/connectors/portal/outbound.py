"""An agent's answer on a portal ticket: the portal shows it from the timeline, so
"sending" is telling the customer by e-mail that there is an answer, with a link."""

from __future__ import annotations

import logging
import smtplib

from django.utils.translation import gettext as _

from atende.channels.connector import OutboundMessage, SendResult, TestResult
from atende.channels.models import Channel
from atende.connectors.portal import mail
from atende.connectors.portal.models import CustomerAccount
from atende.contacts.models import ContactIdentity, IdentityKind
from atende.tenancy.models import Organization
from atende.tickets.models import Ticket

logger = logging.getLogger(__name__)


def _recipient(ticket: Ticket) -> str:
    """The customer's portal address, else the contact's first e-mail identity."""
    account = CustomerAccount.objects.for_org(ticket.organization_id).filter(
        contact_id=ticket.contact_id).order_by("pk").first()
    if account is not None:
        return account.email
    return ContactIdentity.objects.for_org(ticket.organization_id).filter(
        contact_id=ticket.contact_id, kind=IdentityKind.EMAIL,
    ).order_by("created_at").values_list("value", flat=True).first() or ""


def send(channel: Channel, message: OutboundMessage) -> SendResult:
    """The answer is on the portal already; the mail only tells of it. No address: sent
    (there is nobody to tell). A mailer failure is retried."""
    ticket = Ticket.objects.for_org(message.organization_id).select_related(
        "organization").get(pk=message.ticket_id)
    to = _recipient(ticket)
    external_id = f"portal-out:{message.message_id}"
    if not to:
        return SendResult(ok=True, external_id=external_id)
    org: Organization = ticket.organization
    link = mail.portal_url(org.slug, "portal:ticket", number=ticket.number)
    try:
        mail.answered(to, org.name, message.protocol, message.subject, message.text, link)
    except (smtplib.SMTPException, OSError) as exc:
        logger.warning("portal answer mail for message %s failed: %s", message.message_id, exc)
        return SendResult(ok=False, error=str(exc), retryable=True)
    return SendResult(ok=True, external_id=external_id)


def check_connection(channel: Channel) -> TestResult:
    return TestResult(ok=True, step="portal", message=_("The portal needs no connection."))
