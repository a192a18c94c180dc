"""A stored trâmite (one step of a complaint's history) → what it becomes in Atende.

The platform gives a complaint's whole history on every detail call; each trâmite is stored
as its own raw event keyed `<protocol>:<trâmite code>`, so a repeated sync stores nothing
twice. The consumer's steps become the customer's messages (the first, the complaint itself,
shown as an internal comment: CG-2); the evaluation and the company's own steps are read
here and written by `process`."""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _

from atende.channels.connector import ContactRef, InboundMessage
from atende.channels.models import Channel, InboundEvent
from atende.channels.reasons import Unreadable
from atende.connectors.consumidor_gov.client import parse_time
from atende.connectors.consumidor_gov.config import ApiConfig
from atende.contacts.models import IdentityKind

COMPLAINT_TYPE = "reclamacao"


def normalized(text: Any) -> str:
    """Lower case without accents: how the platform's descriptions are compared."""
    decomposed = unicodedata.normalize("NFKD", str(text or "")).lower().strip()
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def description(value: Any) -> str:
    return str(value.get("descricao") or "") if isinstance(value, dict) else str(value or "")


def thread_key(protocol: str) -> str:
    return f"cg:{protocol}"


def provider_id(protocol: str, tramite: dict[str, Any]) -> str:
    return f"{protocol}:{tramite.get('codigo')}"


def consumer_ref(complaint: dict[str, Any]) -> ContactRef:
    """The consumer as a contact: keyed by a digest of the CPF (the CPF itself stays on the
    complaint, shown masked), so the same person's complaints meet on one contact."""
    person = as_dict(complaint.get("reclamante"))
    document = "".join(c for c in str(person.get("documento") or "") if c.isdigit())
    key = hashlib.sha256(f"consumidor.gov.br:{document}".encode()).hexdigest()[:24] \
        if document else f"protocol-{complaint.get('protocolo')}"
    return ContactRef(IdentityKind.EXTERNAL, f"consumidor.gov.br:{key}",
                      str(person.get("nome") or "")[:200])


def consumer_email(complaint: dict[str, Any]) -> str:
    person = as_dict(complaint.get("reclamante"))
    emails = person.get("emails")
    for item in emails if isinstance(emails, list) else []:
        if isinstance(item, dict) and item.get("email"):
            return str(item["email"]).strip()
    return ""


@dataclass(frozen=True)
class Step:
    """One trâmite, read."""

    protocol: str
    code: int
    kind: str  # normalised type description
    by_company: bool
    at: datetime | None
    texts: list[tuple[str, str]]
    evaluation: dict[str, Any] | None

    @property
    def is_complaint(self) -> bool:
        return self.kind == COMPLAINT_TYPE

    def text(self) -> str:
        """The first text as written (the narrative), the others under their label
        ("Pedido: …")."""
        parts = [value.strip() if n == 0 or not label else f"{label}: {value.strip()}"
                 for n, (label, value) in enumerate(self.texts) if value.strip()]
        return "\n\n".join(parts)


def read_step(event: InboundEvent, config: ApiConfig) -> tuple[dict[str, Any], Step]:
    """The complaint header and the trâmite of a stored event; raises Unreadable."""
    payload = event.payload if isinstance(event.payload, dict) else {}
    complaint, tramite = payload.get("complaint"), payload.get("tramite")
    if not isinstance(complaint, dict) or not isinstance(tramite, dict):
        raise Unreadable("not a Consumidor.gov.br trâmite: no complaint or trâmite")
    protocol = str(complaint.get("protocolo") or "")
    if not protocol or tramite.get("codigo") in (None, ""):
        raise Unreadable("a trâmite without its protocol or code")
    try:
        code = int(str(tramite["codigo"]))
    except ValueError:
        raise Unreadable(f"a trâmite code that is not a number: {tramite['codigo']!r}") from None
    texts = [(description(t.get("tipo")), str(t.get("texto") or ""))
             for t in tramite.get("textos") or [] if isinstance(t, dict)]
    kind = normalized(description(tramite.get("tipo")))
    evaluation = tramite.get("avaliacao") if isinstance(tramite.get("avaliacao"), dict) else None
    if kind == config.evaluation_type and evaluation is None:
        evaluation = {}
    return complaint, Step(protocol, code, kind, normalized(tramite.get("autor")) ==
                           config.company_author, parse_time(tramite.get("data")), texts,
                           evaluation)


def to_inbound(channel: Channel, complaint: dict[str, Any], step: Step) -> InboundMessage:
    """A consumer's step as the customer's message on the complaint's ticket."""
    text = step.text()
    subject = ""
    if step.is_complaint:
        problem = description(complaint.get("problema")) or description(complaint.get("assunto"))
        subject = _("Complaint %(protocol)s: %(problem)s") % {
            "protocol": step.protocol, "problem": problem or "—"}
    elif not text:
        text = _("(the consumer sent a step without text)")
    extras: tuple[ContactRef, ...] = ()
    email = consumer_email(complaint)
    if email:
        extras = (ContactRef(IdentityKind.EMAIL, email),)
    return InboundMessage(
        channel_id=channel.pk, external_id=f"{step.protocol}:{step.code}",
        contact=consumer_ref(complaint), text=text or subject, subject=subject[:300],
        sent_at=step.at, thread_keys=(thread_key(step.protocol),),
        thread_key=thread_key(step.protocol), extra_identities=extras,
        metadata={"protocol": step.protocol, "step": step.code, "kind": step.kind},
        # A reply after the attendance finished opens the next one on the same ticket.
        reopen_closed=True)


def parse(channel: Channel, event: InboundEvent) -> InboundMessage:
    complaint, step = read_step(event, ApiConfig.of(channel.settings))
    if step.by_company or step.evaluation is not None:
        raise Unreadable("not a consumer's message (the company's step or the evaluation)")
    return to_inbound(channel, complaint, step)
