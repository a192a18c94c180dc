"""The demo organisation `atende demo` creates (or refreshes): an admin, services, an API
channel, the customer portal with one customer, the website chat widget, a phone channel with
its IVR, tags and a handful of sample tickets (the first ones opened by that customer through
the portal's form)."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from atende.channels.models import Channel, ChannelKind
from atende.connectors.portal import inbound as portal_inbound
from atende.connectors.portal.accounts import open_account
from atende.connectors.portal.channels import create_portal_channel, portal_channel
from atende.connectors.portal.mail import portal_url
from atende.connectors.portal.models import Category
from atende.connectors.voice.demo import ensure_demo_voice
from atende.connectors.webchat.channels import demo_widget
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
PORTAL_CUSTOMER = ("maria.souza@example.com", "Maria Souza")
CATEGORIES = ("Acesso e senha", "Financeiro", "Produto com defeito", "Dúvida comercial")

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
    portal_url: str = ""
    portal_email: str = ""
    portal_password: str = ""
    widget_test_url: str = ""


@transaction.atomic
def create_demo(base_url: str) -> DemoLogin:
    """Idempotent: running it again resets the admin's password and issues a fresh demo key
    (revoking the previous one); sample tickets are created once."""
    org, _created = Organization.objects.get_or_create(
        slug=DEMO_SLUG, defaults={"name": "Atende Demo"}
    )
    support, _ = Service.objects.get_or_create(organization=org, name="Suporte")
    billing, _ = Service.objects.get_or_create(organization=org, name="Financeiro")
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
    ensure_demo_voice(org, [support, billing])
    for name in ("Resolvido", "Sem retorno do cliente", "Duplicado"):
        FinalizationTag.objects.get_or_create(organization=org, name=name)

    ApiKey.objects.for_org(org).filter(name=DEMO_KEY_NAME, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    _key, raw = generate_api_key(org, DEMO_KEY_NAME, created_by_id=user.pk)

    portal = portal_channel(org.pk) or create_portal_channel(
        org, name="Portal de atendimento", service=support)
    for position, category in enumerate(CATEGORIES):
        Category.objects.get_or_create(organization=org, name=category,
                                       defaults={"position": position})
    portal_password = secrets.token_urlsafe(12)
    open_account(org, PORTAL_CUSTOMER[0], PORTAL_CUSTOMER[1], portal_password)

    if not Ticket.objects.for_org(org).exists():
        actor = Actor(user=user)
        for email, name, subject, text, priority in SAMPLES:
            if email == PORTAL_CUSTOMER[0]:  # the portal customer's ticket: through the form
                portal_inbound.receive(portal, portal_inbound.payload(
                    submission=str(uuid.uuid4()), email=email, name=name, subject=subject,
                    text=text, fields={"priority": priority, "category": CATEGORIES[0]}))
                continue
            contact = find_or_create_contact(org, IdentityKind.EMAIL, email, name)
            open_ticket(organization=org, contact=contact, subject=subject, description=text,
                        priority=priority, actor=actor, origin="api", service=support)
    # The portal's address is on the same host as the workspace.
    portal_address = base_url.rstrip("/") + portal_url(org.slug).removeprefix(
        settings.PUBLIC_URL)
    widget = demo_widget(org, support)
    add_demo_articles(org.pk)  # the help centre at /p/<slug>/kb/ (idempotent)
    return DemoLogin(org.name, base_url, DEMO_EMAIL, password, raw, portal_address,
                     PORTAL_CUSTOMER[0], portal_password,
                     f"{base_url}/widget/test/{widget.settings['public_id']}")
