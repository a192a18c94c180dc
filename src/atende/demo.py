"""The demo organisation `atende demo` creates (or refreshes): an admin, services, an API
channel, tags and a handful of sample tickets."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from atende.channels.models import Channel, ChannelKind
from atende.contacts.models import IdentityKind
from atende.contacts.services import find_or_create_contact
from atende.kb.demo_articles import add_demo_articles
from atende.tenancy.api_keys import generate_api_key
from atende.tenancy.models import (
    AccessProfile,
    ApiKey,
    Membership,
    Organization,
    Permission,
    Role,
    Service,
    User,
)
from atende.tickets.models import FinalizationTag, Ticket
from atende.tickets.services.actor import Actor
from atende.tickets.services.create import open_ticket

DEMO_SLUG = "demo"
DEMO_EMAIL = "admin@demo.atende.local"
DEMO_KEY_NAME = "Demo key"

SAMPLES = [
    ("maria.souza@example.com", "Maria Souza", "Não consigo acessar minha conta",
     "Desde ontem aparece 'senha inválida', mesmo depois de redefinir.", "high"),
    ("joao.lima@example.com", "João Lima", "Segunda via do boleto",
     "Preciso da segunda via do boleto de novembro.", "normal"),
    ("ana.costa@example.com", "Ana Costa", "Produto chegou com defeito",
     "A tela do aparelho veio trincada. Quero a troca.", "urgent"),
    ("carlos.pereira@example.com", "Carlos Pereira", "Dúvida sobre o plano",
     "O plano anual inclui suporte por WhatsApp?", "low"),
]


@dataclass(frozen=True)
class DemoLogin:
    organization: str
    url: str
    email: str
    password: str
    api_key: str


@transaction.atomic
def create_demo(base_url: str) -> DemoLogin:
    """Idempotent: running it again resets the admin's password and issues a fresh demo key
    (revoking the previous one); sample tickets are created once."""
    org, _created = Organization.objects.get_or_create(
        slug=DEMO_SLUG, defaults={"name": "Atende Demo"}
    )
    support, _ = Service.objects.get_or_create(organization=org, name="Suporte")
    Service.objects.get_or_create(organization=org, name="Financeiro")
    profile, _ = AccessProfile.objects.get_or_create(
        organization=org, name="Configurações gerais",
        defaults={"permissions": [p.value for p in Permission]},
    )
    password = secrets.token_urlsafe(12)
    user = User.objects.filter(email=DEMO_EMAIL).first()
    # The organisation's administrator (its role below), never a Django superuser or staff:
    # /admin/ shows every organisation. A demo of an earlier release made it one.
    if user is None:
        user = User.objects.create_user(DEMO_EMAIL, password, name="Demo Admin")
    else:
        user.set_password(password)
        user.is_staff = user.is_superuser = False
        user.save(update_fields=["password", "is_staff", "is_superuser"])
    membership, _ = Membership.objects.get_or_create(
        organization=org, user=user,
        defaults={"role": Role.ADMIN, "access_profile": profile},
    )
    membership.services.add(support)
    Channel.objects.get_or_create(
        organization=org, kind=ChannelKind.API, name="Integração ERP",
        defaults={"service": support},
    )
    for name in ("Resolvido", "Sem retorno do cliente", "Duplicado"):
        FinalizationTag.objects.get_or_create(organization=org, name=name)

    ApiKey.objects.for_org(org).filter(name=DEMO_KEY_NAME, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    _key, raw = generate_api_key(org, DEMO_KEY_NAME, created_by_id=user.pk)

    if not Ticket.objects.for_org(org).exists():
        actor = Actor(user=user)
        for email, name, subject, text, priority in SAMPLES:
            contact = find_or_create_contact(org, IdentityKind.EMAIL, email, name)
            open_ticket(organization=org, contact=contact, subject=subject, description=text,
                        priority=priority, actor=actor, origin="api", service=support)
    add_demo_articles(org.pk)  # the help centre at /p/<slug>/kb/ (idempotent)
    return DemoLogin(org.name, base_url, DEMO_EMAIL, password, raw)
