"""The satisfaction survey by e-mail (CORE-14): a mail with the signed link, one link per
score so a single click rates, threaded into the customer's conversation. Sent as
automatic mail (loop headers, the channel's daily cap per address)."""

from __future__ import annotations

from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext as _

from atende.channels.connector import CsatInvitation, SendResult
from atende.channels.models import Channel
from atende.connectors.email import thread_keys
from atende.connectors.email.compose import Draft, references_chain
from atende.connectors.email.outbound import DAILY_CAP_REACHED, send_automatic
from atende.contacts.models import IdentityKind
from atende.tickets.models import Direction, Message


def invite(channel: Channel, invitation: CsatInvitation) -> SendResult:
    recipient = invitation.recipient
    if recipient is None or recipient.kind != IdentityKind.EMAIL:
        return SendResult(ok=False, error=_("The contact has no e-mail address."))
    own = str(channel.settings.get("address", "")).lower()
    if recipient.value.lower() == own:
        return SendResult(ok=False, error=_("The contact's address is the channel's own."))
    rows = list(Message.objects.for_org(channel.organization_id)
                .filter(ticket_id=invitation.ticket_id, channel=channel).exclude(external_id="")
                .order_by("created_at", "id").values_list("external_id", "direction"))
    inbound = [key for key, direction in rows if direction == Direction.INBOUND]
    number = int(invitation.protocol.rpartition("-")[2] or 0)
    with translation.override(invitation.language):
        subject = thread_keys.reply_subject(
            _("How did we do? %(subject)s") % {"subject": invitation.subject}, number)
        text, html = _bodies(invitation)
    draft = Draft(to=recipient.value, subject=subject, text=text, html=html,
                  in_reply_to=inbound[-1] if inbound else "",
                  references=references_chain([key for key, _d in rows]))
    result = send_automatic(channel, draft, "auto-generated", protocol=invitation.protocol)
    if result.error == DAILY_CAP_REACHED:  # tomorrow is too late for a survey
        return SendResult(ok=False, error=result.error)
    return result


def _bodies(invitation: CsatInvitation) -> tuple[str, str]:
    links = [(label, f"{invitation.url}?score={score}") for score, label in invitation.scores]
    open_page = _("Rate and comment")
    text = "\n".join([invitation.text, "", *(f"{label}: {url}" for label, url in links), "",
                      f"{open_page}: {invitation.url}"])
    buttons = "".join(
        f'<a href="{escape(url)}" style="display:inline-block;margin:4px;padding:8px 12px;'
        f'border:1px solid #2b5797;border-radius:4px;color:#2b5797;text-decoration:none">'
        f"{escape(label)}</a>" for label, url in links)
    html = (f"<p>{escape(invitation.text)}</p><p>{buttons}</p>"
            f'<p><a href="{escape(invitation.url)}">{escape(open_page)}</a></p>')
    return text, html
