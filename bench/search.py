"""Full-text search at scale (CORE-16, PO-3): search p50/p95 for one- and two-word queries
over tickets, messages, contacts and articles; the help centre's article search at 10,000
articles; and what keeping the index current adds to ingesting one message.

    .venv/bin/python bench/search.py                       # SQLite (FTS5)
    .venv/bin/python bench/search.py --postgres            # throwaway PostgreSQL database
    .venv/bin/python bench/search.py --tickets 20000 --messages-per-ticket 5 --articles 10000

Tickets and messages get Portuguese sentences drawn from a fixed vocabulary (seeded), so a
word's frequency is realistic-ish: some queries match thousands of rows, some a handful.
The ingest cost is `tickets.services.ingest` per message with the index in place, against
the same with the index removed (SQLite triggers dropped, PostgreSQL GIN index dropped).
"""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(_HERE.parent))

import argparse  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

from bench.scratch_db import throwaway_database  # noqa: E402

VOCABULARY = (
    "boleto pagamento pix cartão crédito recusado fatura nota fiscal senha acesso conta "
    "cadastro pedido entrega frete prazo transportadora rastreamento troca devolução "
    "reembolso assinatura cancelamento endereço aplicativo erro tela login produto defeito "
    "garantia atendimento protocolo cobrança duplicada desconto cupom promoção estoque loja "
    "site compra valor parcela juros multa vencimento código barras comprovante banco "
    "transferência saldo extrato limite bloqueio desbloqueio verificação segurança celular "
    "notificação mensagem email whatsapp suporte técnico instalação configuração internet "
    "lenta sinal modem roteador visita agendamento horário técnico contrato plano upgrade "
)
WORDS = VOCABULARY.split()
FILLER_TEXT = "olá bom dia por favor preciso de ajuda com o meu não consigo já tentei obrigado"
FILLER = FILLER_TEXT.split()
QUERIES_ONE = ["boleto", "boletos", "reembolso", "senhas", "transportadora", "cupom",
               "instalacao", "roteador", "garantia", "extrato"]
QUERIES_TWO = ["boleto vencido", "cartao recusado", "nota fiscal", "troca produto",
               "pagamento pix", "senha acesso", "entrega atrasada", "cobranca duplicada",
               "internet lenta", "plano upgrade"]


def sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) if rng.random() < 0.6 else rng.choice(FILLER)
                    for _ in range(n)).capitalize() + "."


def seed(tickets: int, per_ticket: int, articles: int) -> tuple[Any, float]:
    from django.contrib.auth import get_user_model

    from atende.contacts.models import Contact
    from atende.kb.models import Article, ArticleStatus, ArticleTranslation
    from atende.tenancy.models import Membership, Organization, Role
    from atende.tickets.models import Message, Ticket

    rng = random.Random(7)
    org = Organization.objects.create(name="Bench", slug="bench-search")
    user = get_user_model().objects.create_user("bench@example.com", "x-bench-password-1")
    membership = Membership.objects.create(organization=org, user=user, role=Role.ADMIN)
    started = time.perf_counter()
    contacts = Contact.objects.bulk_create(
        Contact(organization=org, name=f"{rng.choice(['Ana', 'João', 'Maria', 'Pedro'])} "
                f"{rng.choice(['Silva', 'Souza', 'Costa', 'Lima'])} {n}")
        for n in range(max(1, tickets // 10)))
    for start in range(0, tickets, 2000):
        batch = Ticket.objects.bulk_create(
            Ticket(organization=org, number=10_000_000 + n, subject=sentence(rng, 5), origin="api",
                   description=sentence(rng, 20), contact=rng.choice(contacts))
            for n in range(start, min(tickets, start + 2000)))
        Message.objects.bulk_create(
            Message(organization=org, ticket=t, direction="inbound",
                    text=sentence(rng, rng.randint(8, 60)))
            for t in batch for _ in range(per_ticket))
    for start in range(0, articles, 2000):
        rows = Article.objects.bulk_create(
            Article(organization=org, slug=f"artigo-{n}", status=ArticleStatus.PUBLISHED)
            for n in range(start, min(articles, start + 2000)))
        ArticleTranslation.objects.bulk_create(
            ArticleTranslation(organization=org, article=a, language="pt-br",
                               title=sentence(rng, 6), body_text=sentence(rng, 120))
            for a in rows)
    return membership, time.perf_counter() - started


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[max(0, int(len(ordered) * 0.95) - 1)]
    return f"p50 {statistics.median(ordered):.1f} ms, p95 {p95:.1f} ms"


def timed(fn: Any, queries: list[str], rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        for q in queries:
            t0 = time.perf_counter()
            fn(q)
            samples.append((time.perf_counter() - t0) * 1000)
    return samples


def ingest_cost(org: Any, n: int, with_index: bool) -> float:
    from django.db import connection

    from atende.channels.connector import ContactRef, InboundMessage
    from atende.channels.models import Channel, ChannelKind
    from atende.fulltext import indexes
    from atende.tickets.services.ingest import ingest

    if not with_index:
        with connection.schema_editor() as editor:
            for statement in indexes.drop_sql(indexes.MESSAGE, connection.vendor):
                if "DROP TABLE" not in statement:  # SQLite: the triggers only
                    editor.execute(statement)
    channel = Channel.objects.create(organization=org, kind=ChannelKind.API,
                                     name=f"bench {with_index}")
    rng = random.Random(11)
    texts = [sentence(rng, 30) for _ in range(n)]
    t0 = time.process_time()
    for i, text in enumerate(texts):
        ingest(InboundMessage(channel_id=channel.pk, external_id=f"{with_index}-{i}", text=text,
                              contact=ContactRef("email", f"c{i % 50}@example.com", "Cliente"),
                              thread_keys=(f"t{i % 50}",), thread_key=f"t{i % 50}"))
    return (time.process_time() - t0) * 1000 / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--messages-per-ticket", type=int, default=5)
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--ingest", type=int, default=300)
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="atende-search-bench-")
    os.environ.update(ATENDE_DATA_DIR=work, DJANGO_SETTINGS_MODULE="atende.settings",
                      ATENDE_LOG_LEVEL="WARNING", ATENDE_TASKS_IMMEDIATE="1")
    os.environ.pop("REDIS_URL", None)
    with throwaway_database(args.postgres, "atende_bench_search"):
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0)
        from django.db import connection

        from atende.kb.search import search_articles
        from atende.search.everything import search_everything

        membership, seconds = seed(args.tickets, args.messages_per_ticket, args.articles)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        print(f"{connection.vendor}: {args.tickets} tickets, "
              f"{args.tickets * args.messages_per_ticket} messages, {args.articles} articles "
              f"(seeded and indexed in {seconds:.0f} s)")
        org_id = membership.organization_id
        for label, queries in (("one word", QUERIES_ONE), ("two words", QUERIES_TWO)):
            samples = timed(lambda q: search_everything(membership, q), queries, args.rounds)
            print(f"search everything, {label}: {percentiles(samples)}")
        for label, queries in (("one word", QUERIES_ONE), ("two words", QUERIES_TWO)):
            samples = timed(lambda q: search_articles(org_id, q, limit=10), queries,
                            args.rounds)
            print(f"help-centre article search, {label}: {percentiles(samples)}")
        with_index = ingest_cost(membership.organization, args.ingest, True)
        without = ingest_cost(membership.organization, args.ingest, False)
        print(f"ingest CPU per message: {with_index:.2f} ms with the index, "
              f"{without:.2f} ms without ({with_index - without:+.2f} ms)")


if __name__ == "__main__":
    main()
