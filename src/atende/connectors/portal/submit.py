"""A customer's form or comment → the portal channel (`inbound.receive`)."""

from __future__ import annotations

from django.core.files.uploadedfile import UploadedFile

from atende.channels.models import Channel
from atende.connectors.portal import form_fields, inbound
from atende.connectors.portal.forms import CommentForm, TicketForm
from atende.connectors.portal.models import CustomerAccount
from atende.tickets.models import Ticket


def _uploads(files: list[UploadedFile]) -> list[inbound.Upload]:
    return [inbound.Upload(f.name or "file", f.content_type or "application/octet-stream",
                           f.read()) for f in files]


def open_from_form(channel: Channel, account: CustomerAccount, form: TicketForm) -> Ticket:
    """The ticket the valid form opens (the same one if this form was sent before)."""
    values = form.values()
    extras = [(f.display_label, str(values.get(f.key) or "")) for f in form.layout
              if f.key not in form_fields.BUILT_IN and values.get(f.key)]
    data = inbound.payload(
        submission=str(form.cleaned_data["submission"]), email=account.email,
        name=account.contact.name, subject=str(values.get(form_fields.SUBJECT) or ""),
        text=str(values.get(form_fields.DESCRIPTION) or ""),
        fields={k: str(v) for k, v in values.items()
                if k not in (form_fields.SUBJECT, form_fields.DESCRIPTION) and v},
        extras=extras, uploads=_uploads(form.uploads()))
    return inbound.receive(channel, data)


def comment(channel: Channel, account: CustomerAccount, ticket: Ticket,
            form: CommentForm) -> Ticket:
    """The customer's comment on their ticket (reopening a finished one: the caller has
    checked the reopen period)."""
    data = inbound.payload(
        submission=str(form.cleaned_data["submission"]), email=account.email,
        name=account.contact.name, text=form.cleaned_data["text"] or "",
        uploads=_uploads(form.cleaned_data["attachments"] or []), ticket_number=ticket.number)
    return inbound.receive(channel, data)
