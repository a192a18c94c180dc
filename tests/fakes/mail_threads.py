"""Generated e-mail conversations for threading tests and the ingest benchmark.

A conversation is a customer's first mail and 1 to 11 more: the customer's follow-ups, each
answering an earlier mail of the conversation, and out-of-office auto-replies of a
colleague in copy. Headers vary as real clients write them: full References chains,
chains cut to the root and the newest ids (RFC 5322 §3.6.4), ids of mails we never saw in
the chain (our agents' answers, a forward), Outlook-style In-Reply-To naming an id never
seen, no In-Reply-To, no References, no Date, no Message-ID, `Auto-Submitted` or
`X-Autoreply`, the same mail delivered twice.

What the corpus never holds: a reply naming only ids of its conversation other than the
root (In-Reply-To alone, to a follow-up). Taken in before the rest, it would share no id
with the ticket the root opens, and only a merge could join them (docs/email.md).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime

KEEP_REFERENCES = 6  # a cut chain keeps the root and the newest ids
SUBJECTS = ["Pedido atrasado", "Cobrança em duplicidade", "Troca de produto", "Nota fiscal",
            "Não consigo acessar minha conta", "Produto chegou com defeito"]


@dataclass(frozen=True)
class CorpusMail:
    conversation: int
    message_id: str  # "" when the mail has no Message-ID header
    raw: bytes
    sent_at: datetime
    dated: bool  # has a Date header (a mail without one is dated when taken in)
    sender: str
    auto: bool  # an auto-reply: never acknowledged


@dataclass
class Conversation:
    number: int
    customer: str
    mails: list[CorpusMail] = field(default_factory=list)  # by date, each once


def outlook_id(rng: random.Random) -> str:
    box = "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(12))
    return (f"{box}{rng.getrandbits(48):012X}@{box[:8]}.namprd{rng.randint(10, 99)}"
            ".prod.outlook.com")


def plain_id(rng: random.Random, domain: str) -> str:
    return f"{rng.getrandbits(64):016x}.{rng.randint(1, 9999)}@{domain}"


@dataclass
class _Draft:
    message_id: str
    sent_at: datetime
    sender: str
    kind: str
    headers: dict[str, str]
    chain: list[str]  # the References a reply to this mail carries before its id


def conversation(rng: random.Random, number: int, to: str, start: datetime) -> Conversation:
    """One conversation of 2 to 12 mails, dated from `start`."""
    domain = f"cliente{number}.example.com.br"
    customer, colleague = f"cliente{number}@{domain}", f"colega{number}@{domain}"
    subject = rng.choice(SUBJECTS)
    outlook = rng.random() < 0.4
    drafts: list[_Draft] = []
    when = start
    for position in range(rng.randint(2, 12)):
        when += timedelta(minutes=rng.randint(1, 600))
        message_id = outlook_id(rng) if outlook else plain_id(rng, domain)
        headers: dict[str, str] = {}
        if position == 0:
            drafts.append(_Draft(message_id, when, customer, "root", headers, []))
            continue
        parent = rng.choice([d for d in drafts if d.kind != "auto"])
        chain = [*parent.chain, parent.message_id]
        if rng.random() < 0.3:  # our agent's answer in between, never seen by the corpus
            chain.insert(-1, plain_id(rng, "atende.example"))
        if len(chain) > KEEP_REFERENCES:
            chain = [chain[0], *chain[-(KEEP_REFERENCES - 1):]]
        kind = rng.choice(["auto", "full", "full", "refs_only", "outlook", "irt_only"])
        if kind == "irt_only" and parent is not drafts[0]:
            kind = "full"  # see the module's docstring
        if kind == "auto":  # the colleague in copy is away and answers the customer's mail
            if rng.random() < 0.5:
                headers["Auto-Submitted"] = "auto-replied"
            else:
                headers["X-Autoreply"] = "yes"
        if kind in ("full", "auto", "irt_only"):
            headers["In-Reply-To"] = f"<{parent.message_id}>"
        elif kind == "outlook":  # names a draft or a copy we never saw
            headers["In-Reply-To"] = f"<{outlook_id(rng)}>"
        if kind != "irt_only":
            headers["References"] = " ".join(f"<{i}>" for i in chain)
        drafts.append(_Draft(message_id, when, colleague if kind == "auto" else customer,
                             kind, headers, chain))
    answered = {i.strip("<>") for d in drafts for name in ("In-Reply-To", "References")
                for i in d.headers.get(name, "").split()}
    result = Conversation(number, customer)
    for position, draft in enumerate(drafts):
        # Missing headers where threading can still tell: no Message-ID on a mail nothing
        # answers, no Date on a customer's follow-up.
        has_id = draft.message_id in answered or rng.random() < 0.8
        dated = draft.kind in ("root", "auto") or rng.random() < 0.85
        msg = EmailMessage()
        msg["From"] = draft.sender
        msg["To"] = to
        msg["Subject"] = subject if position == 0 else rng.choice(
            [f"Re: {subject}", f"RES: {subject}", f"AW: {subject}", "Ainda sem resposta"])
        if dated:
            msg["Date"] = format_datetime(draft.sent_at)
        if has_id:
            msg["Message-ID"] = f"<{draft.message_id}>"
        for name, value in draft.headers.items():
            msg[name] = value
        msg.set_content(f"Mensagem {position + 1} da conversa {number}.")
        result.mails.append(CorpusMail(
            number, draft.message_id if has_id else "", msg.as_bytes(), draft.sent_at, dated,
            draft.sender, draft.kind == "auto"))
    return result


def corpus(rng: random.Random, conversations: int, to: str) -> list[Conversation]:
    start = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)
    return [conversation(rng, n, to, start + timedelta(days=n)) for n in range(conversations)]


def deliveries(rng: random.Random, conversations: list[Conversation]) -> list[CorpusMail]:
    """Every mail in a random order, some twice (the same bytes again, or the same
    Message-ID with one more trace header, as a second delivery path adds)."""
    mails = [m for c in conversations for m in c.mails]
    again = [m for m in mails if rng.random() < 0.1]
    for mail in again:
        if mail.message_id and rng.random() < 0.5:
            mails.append(replace(
                mail, raw=b"Received: from relay2.example by mx.example\n" + mail.raw))
        else:
            mails.append(mail)
    rng.shuffle(mails)
    return mails


def batches(rng: random.Random, mails: list[CorpusMail]) -> list[list[CorpusMail]]:
    """The mails cut into batches of random sizes (a poll takes what arrived since the last)."""
    cut: list[list[CorpusMail]] = []
    start = 0
    while start < len(mails):
        size = rng.choice([1, 2, 5, 20, len(mails)])
        cut.append(mails[start:start + size])
        start += size
    return cut
