"""Every URL and API operation has a decided permission (CORE-10, docs/permissions.md).

The walk signs in, for each permission, with a profile holding every permission but that
one, and requests every URL of the project: the URLs guarded by it answer 403, the others
do not. A URL or API operation added without a line in SCREENS or OPERATIONS fails
`test_every_url_has_a_decision`, naming it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from atende.api import api
from atende.channels.models import Channel, ChannelKind
from atende.tenancy.api_keys import generate_api_key
from atende.tenancy.models import AccessProfile, Membership, Permission, Role, User
from atende.webhooks.services import create_subscription
from atende.workspace.settings.sections import SECTIONS

pytestmark = pytest.mark.django_db

PUBLIC = "public"  # no sign-in (health, sign-in pages, provider webhooks signed their way)
AGENT = "agent"  # any agent of the organisation; which tickets is tickets/visibility.py
CHANNEL_KEY = "channel key"  # API operations for a channel's own key, no agent behind it

GS, MA, AK = Permission.GENERAL_SETTINGS, Permission.MANAGE_AGENTS, Permission.API_KEYS
RP = Permission.REPORTS
VIEW_ALL = Permission.VIEW_ALL_TICKETS

# URL name -> who may open it: PUBLIC, AGENT, or the permissions of which one is enough.
SCREENS: dict[str, str | tuple[str, ...]] = {
    "api-docs": PUBLIC, "livez": PUBLIC, "readyz": PUBLIC, "healthz": PUBLIC,
    "realtime-stream": AGENT,
    "whatsapp:webhook": PUBLIC, "telegram:webhook": PUBLIC,
    # The website chat's public side: the visitor's signed token guards each call.
    "webchat:script": PUBLIC, "webchat:test-page": PUBLIC, "webchat:config": PUBLIC,
    "webchat:session": PUBLIC, "webchat:messages": PUBLIC, "webchat:typing": PUBLIC,
    "webchat:stream": PUBLIC,
    "instagram:webhook": PUBLIC, "messenger:webhook": PUBLIC,
    # The signed link of a satisfaction survey: the token is the authorisation.
    "csat:rate": PUBLIC,
    "workspace:login": PUBLIC, "workspace:logout": PUBLIC,
    "workspace:switch-organization": AGENT,
    "workspace:password-reset": PUBLIC, "workspace:password-reset-done": PUBLIC,
    "workspace:password-reset-confirm": PUBLIC, "workspace:password-reset-complete": PUBLIC,
    "workspace:set-language": PUBLIC,
    "workspace:profile": AGENT, "workspace:invitations": AGENT,
    "workspace:queue": AGENT, "workspace:ticket": AGENT, "workspace:ticket-live": AGENT,
    "workspace:ticket-timeline": AGENT, "workspace:ticket-presence": AGENT,
    "workspace:ticket-chat-typing": AGENT,
    "workspace:ticket-reply": AGENT, "workspace:ticket-change": AGENT,
    "workspace:ticket-finalize": AGENT, "workspace:ticket-whatsapp": AGENT,
    # The complaint's CPF is masked without PERSONAL_DATA; the page itself is any agent's.
    "workspace:ticket-consumidor": AGENT, "workspace:complaints": AGENT,
    "workspace:ticket-meta-window": AGENT,
    "workspace:attachment": AGENT, "workspace:message-eml": AGENT,
    "workspace:presence": AGENT, "workspace:heartbeat": AGENT,
    "workspace:saved_replies": AGENT,
    # Search and articles follow tickets/visibility.py; the public help centre needs no
    # sign-in and shows only published public articles.
    "workspace:search": AGENT, "workspace:kb-article": AGENT,
    "workspace:ticket-articles": AGENT,
    "kb-public:home": PUBLIC, "kb-public:suggest": PUBLIC, "kb-public:article": PUBLIC,
    "kb-public:vote": PUBLIC,
    "workspace:contacts:list": AGENT, "workspace:contacts:detail": AGENT,
    "workspace:contacts:edit": AGENT,
    # A merge moves tickets the agent might not see.
    "workspace:contacts:merge": (VIEW_ALL,),
    # Reports, dashboards and exports (RP-1..4): figures of the agent's services.
    **{f"reports:{name}": (RP,) for name in (
        "dashboard", "period", "agents", "sla", "exports", "export-status", "export-download",
        "export-cancel")},
    # The settings index lists what each settings permission opens.
    "workspace:settings:index": (GS, MA, AK),
    "workspace:settings:organization": (GS,),
    "workspace:settings:agents": (MA,), "workspace:settings:agent_invite": (MA,),
    "workspace:settings:agent_edit": (MA,), "workspace:settings:agent_toggle": (MA,),
    "workspace:settings:api_keys": (AK,), "workspace:settings:api_key_revoke": (AK,),
    **{f"workspace:settings:{name}": (GS,) for name in (
        "channels", "channel_create", "channel_edit", "channel_created", "channel_toggle",
        "channel_test", "channel_log", "channel_log_event", "channel_log_eml",
        "channel_log_payload", "channel_log_reprocess", "email_signature",
        "email_signature_preview", "email_signature_images", "email_signature_image",
        "channel_oauth_connect", "channel_oauth_callback", "channel_notifications",
        "channel_meta_connect", "channel_meta_callback",
        "channel_notifications_preview", "channel_csat", "email_rules", "email_rule_create",
        "email_rule_edit", "email_rule_move", "email_rule_toggle", "email_rule_delete",
        "webhooks", "webhook_toggle", "webhook_deliveries",
        "services", "services_create", "services_edit", "services_toggle",
        "profiles", "profiles_create", "profiles_edit",
        "tags", "tags_create", "tags_edit",
        "finalization_tags", "finalization_tags_create", "finalization_tags_edit",
        "finalization_tags_toggle",
        "custom_fields", "custom_fields_create", "custom_fields_edit",
        "saved_replies", "saved_replies_create", "saved_replies_edit", "saved_replies_toggle",
        "business_hours", "business_hours_create", "business_hours_edit",
        "business_hours_toggle",
        "bots", "bots_create", "bots_edit", "bots_toggle",
        "sla_policies", "sla_policies_create", "sla_policies_edit", "sla_policies_toggle",
        "portal", "ticket_categories", "ticket_categories_create", "ticket_categories_edit",
        "ticket_categories_toggle",
        "kb_articles", "kb_article_create", "kb_article_edit",
        "kb_categories", "kb_categories_create", "kb_categories_edit",
    )},
    # The customer portal: its own sign-in (a customer's cookie), never an agent's session.
    **{f"portal:{name}": PUBLIC for name in (
        "home", "signup", "sent", "verify", "signin", "signin-link", "link", "reset",
        "reset-confirm", "signout", "new-ticket", "ticket", "attachment", "brand",
    )},
}
# Walked as API operations (OPERATIONS), or Django's admin (staff of the installation only).
NOT_SCREENS = ("api-v1:", "admin:")

# (method, path) -> CHANNEL_KEY, or every permission the key's issuing agent must hold.
OPERATIONS: dict[tuple[str, str], str | tuple[str, ...]] = {
    ("POST", "/api/v1/tickets"): (VIEW_ALL,),
    ("GET", "/api/v1/tickets"): (VIEW_ALL,),
    ("GET", "/api/v1/tickets/{ticket_id}"): (VIEW_ALL,),
    ("PATCH", "/api/v1/tickets/{ticket_id}"): (VIEW_ALL,),
    ("POST", "/api/v1/tickets/{ticket_id}/comments"): (VIEW_ALL,),
    ("POST", "/api/v1/tickets/{ticket_id}/attachments"): (VIEW_ALL,),
    ("GET", "/api/v1/attachments/{attachment_id}"): (VIEW_ALL,),
    ("POST", "/api/v1/webhooks"): (GS,),
    ("GET", "/api/v1/webhooks"): (GS,),
    ("DELETE", "/api/v1/webhooks/{subscription_id}"): (GS,),
    ("GET", "/api/v1/webhooks/{subscription_id}/deliveries"): (GS,),
    ("POST", "/api/v1/webhooks/{subscription_id}/deliveries/{delivery_id}/redeliver"): (GS,),
    ("POST", "/api/v1/channels/{channel_id}/messages"): CHANNEL_KEY,
    ("GET", "/api/v1/channels/{channel_id}/attachments/{attachment_id}"): CHANNEL_KEY,
    ("GET", "/api/v1/channels/{channel_id}/audit"): CHANNEL_KEY,
    # Creating an API channel issues its first key.
    ("POST", "/api/v1/channels"): (GS, AK),
    ("GET", "/api/v1/channels"): (GS,),
    ("GET", "/api/v1/channels/{channel_id}"): (GS,),
    ("PATCH", "/api/v1/channels/{channel_id}"): (GS,),
    ("POST", "/api/v1/channels/{channel_id}/keys"): (AK,),
    ("POST", "/api/v1/channels/{channel_id}/test"): (GS,),
    ("GET", "/api/v1/whatsapp/channels/{channel_id}/templates"): (GS,),
    ("POST", "/api/v1/whatsapp/channels/{channel_id}/test-message"): (GS,),
    ("GET", "/api/v1/tickets/{ticket_id}/whatsapp/window"): (VIEW_ALL,),
    ("POST", "/api/v1/tickets/{ticket_id}/whatsapp/template"): (VIEW_ALL,),
    ("POST", "/api/v1/whatsapp/conversations/{conversation_id}/messages"): (VIEW_ALL,),
    ("POST", "/api/v1/whatsapp/conversations/{conversation_id}/handoff"): (VIEW_ALL,),
    # Contacts are the organisation's, as on the contacts screen; a merge moves tickets.
    ("GET", "/api/v1/contacts"): (),
    ("POST", "/api/v1/contacts"): (),
    ("GET", "/api/v1/contacts/{contact_id}"): (),
    ("PATCH", "/api/v1/contacts/{contact_id}"): (),
    ("POST", "/api/v1/contacts/{contact_id}/merge"): (VIEW_ALL,),
    ("GET", "/api/v1/tickets/{ticket_id}/csat"): (VIEW_ALL,),
    ("POST", "/api/v1/tickets/{ticket_id}/csat"): (VIEW_ALL,),
    ("POST", "/api/v1/channels/{channel_id}/csat"): CHANNEL_KEY,
    # Answers of every ticket, for reports.
    ("GET", "/api/v1/csat"): (Permission.REPORTS, VIEW_ALL),
    # Tickets found follow the issuing agent's visibility (tickets/visibility.py).
    ("GET", "/api/v1/search"): (),
}
MISSING_ID = 987654321  # rows the walk has no need to create: their views answer 404
# Subscriptions the walk creates: an event it never causes, at a name that never resolves.
QUIET_HOOK, QUIET_EVENT = "https://walk.invalid/hook", "ticket.sla_breached"
# Valid bodies: the permission is checked after the payload is read.
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/api/v1/tickets"): {"title": "Hi", "requester_email": "ana@example.com"},
    ("PATCH", "/api/v1/tickets/{ticket_id}"): {"priority": "high"},
    ("POST", "/api/v1/tickets/{ticket_id}/comments"): {"text": "note", "public": False},
    ("POST", "/api/v1/webhooks"): {"url": QUIET_HOOK, "events": [QUIET_EVENT]},
    ("POST", "/api/v1/channels"): {"name": "Walk"},
    ("PATCH", "/api/v1/channels/{channel_id}"): {"name": "Walked"},
    ("POST", "/api/v1/whatsapp/channels/{channel_id}/test-message"): {"number": "+5511999990000"},
    ("POST", "/api/v1/tickets/{ticket_id}/whatsapp/template"): {"name": "hello"},
    ("POST", "/api/v1/whatsapp/conversations/{conversation_id}/messages"): {"text": "hi"},
    ("POST", "/api/v1/whatsapp/conversations/{conversation_id}/handoff"): {},
    ("POST", "/api/v1/contacts"): {"name": "Walk"},
    ("PATCH", "/api/v1/contacts/{contact_id}"): {"notes": "walked"},
    ("POST", "/api/v1/contacts/{contact_id}/merge"): {"source_id": MISSING_ID},
    ("POST", "/api/v1/tickets/{ticket_id}/csat"): {"score": 4},
    ("POST", "/api/v1/channels/{channel_id}/csat"): {"ticket_id": MISSING_ID, "score": 4},
}


def _url_patterns(patterns: list[Any], namespace: str = "") -> Iterator[tuple[str, Any]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _url_patterns(entry.url_patterns, inner)
        elif isinstance(entry, URLPattern):
            yield f"{namespace}{entry.name}", entry


def _screen_names() -> list[str]:
    return [name for name, _p in _url_patterns(get_resolver().url_patterns)
            if not name.startswith(NOT_SCREENS)]


def _operations() -> list[tuple[str, str]]:
    paths = api.get_openapi_schema()["paths"]
    return [(method.upper(), path) for path, ops in paths.items() for method in ops]


def test_every_url_has_a_decision() -> None:
    undecided = sorted(set(_screen_names()) - set(SCREENS))
    assert not undecided, (
        "URL names with no permission decided: add each to SCREENS in "
        f"tests/workspace/test_permission_walk.py and docs/permissions.md: {undecided}")
    undecided_ops = sorted(set(_operations()) - set(OPERATIONS))
    assert not undecided_ops, (
        "API operations with no permission decided: add each to OPERATIONS in "
        f"tests/workspace/test_permission_walk.py and docs/permissions.md: {undecided_ops}")
    assert not set(SCREENS) - set(_screen_names()), "SCREENS lists URLs that no longer exist"
    assert not set(OPERATIONS) - set(_operations()), "OPERATIONS lists gone operations"


class World:
    """One organisation with a row behind every URL parameter the walk fills."""

    def __init__(self, tenant: Any, make_ticket: Any) -> None:
        self.org = tenant.org
        self.ticket = make_ticket(self.org, service=tenant.service)
        self.message = self.ticket.messages.order_by("pk").first()
        self.channel = Channel.objects.create(organization=self.org, kind=ChannelKind.API,
                                              name="Walk channel")
        colleague = User.objects.create_user("colleague@walk.test", None)
        self.colleague = Membership.objects.create(organization=self.org, user=colleague)
        self.key = tenant.key
        self.subscription, _secret = create_subscription(
            self.org.pk, QUIET_HOOK, [QUIET_EVENT])
        self.section_rows: dict[str, int] = {}
        for section in SECTIONS:
            existing = section.model.objects.filter(organization=self.org).first()  # type: ignore[attr-defined]
            self.section_rows[section.slug.replace("-", "_")] = (
                existing.pk if existing else MISSING_ID)
        self.section_rows["services"] = tenant.service.pk

    def kwargs(self, name: str, pattern: URLPattern) -> dict[str, Any]:
        short = name.rsplit(":", 1)[-1]
        values: dict[str, Any] = {}
        if name.startswith("portal:"):  # the slug is the include's, not the pattern's
            values["slug"] = self.org.slug
        if name.startswith("kb-public:"):  # the organisation is in the include's prefix
            values["org"] = self.org.slug
        for param in pattern.pattern.converters:  # type: ignore[attr-defined]
            if param == "pk":
                if short.startswith("agent"):
                    values[param] = self.colleague.pk
                elif short.startswith("api_key"):
                    values[param] = self.key.pk
                elif short.startswith("webhook"):
                    values[param] = self.subscription.pk
                elif short.startswith(("channel", "email_")):
                    values[param] = self.channel.pk
                else:
                    section = short.removesuffix("_edit").removesuffix("_toggle")
                    values[param] = self.section_rows[section]
            elif param == "ticket_id":
                values[param] = self.ticket.pk
            elif param == "message_id":
                values[param] = self.message.pk
            elif param == "contact_id":
                values[param] = self.ticket.contact_id
            elif param == "channel_id":
                values[param] = self.channel.pk
            elif param == "kind":
                values[param] = "api"
            else:  # uidb64, token, event, rule, image and attachment ids
                values[param] = "x" if param in ("uidb64", "token") else MISSING_ID
        return values

    def operation_path(self, path: str) -> str:
        return (path.replace("{ticket_id}", str(self.ticket.pk))
                .replace("{contact_id}", str(self.ticket.contact_id))
                .replace("{channel_id}", str(self.channel.pk))
                .replace("{subscription_id}", str(self.subscription.pk))
                .replace("{attachment_id}", str(MISSING_ID))
                .replace("{delivery_id}", str(MISSING_ID))
                .replace("{conversation_id}", str(MISSING_ID)))


def _agent(org: Any, email: str, permissions: list[str], role: str = Role.AGENT) -> User:
    user = User.objects.create_user(email, None)
    profile = AccessProfile.objects.create(organization=org, name=email,
                                           permissions=permissions)
    Membership.objects.create(organization=org, user=user, role=role, access_profile=profile)
    return user


def _client(user: User) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en", raise_request_exception=False)
    client.force_login(user)
    return client


def _screens(world: World) -> list[tuple[str, str]]:
    return [(name, reverse(name, kwargs=world.kwargs(name, pattern)))
            for name, pattern in _url_patterns(get_resolver().url_patterns)
            if not name.startswith(NOT_SCREENS)]


def _walk_screens(client: Client, world: World, refused: set[str]) -> None:
    """Every URL in `refused` answers 403 to GET and POST (405 to the method it does not
    serve at all); every other GET answers something else than 403."""
    wrong = []
    for name, url in _screens(world):
        status = client.get(url).status_code
        if name in refused:
            post = client.post(url).status_code
            if {status, post} - {403, 405} or 403 not in (status, post):
                wrong.append(f"{name} {url}: GET {status}, POST {post}, expected 403")
        elif status == 403:
            wrong.append(f"{name} {url}: 403, but SCREENS says {SCREENS[name]!r}")
    assert not wrong, "\n".join(wrong)


@pytest.fixture
def world(tenant: Any, make_ticket: Any) -> World:
    return World(tenant, make_ticket)


@pytest.mark.parametrize("missing", [p.value for p in Permission])
def test_a_profile_missing_one_permission_is_refused_exactly_its_screens(
        world: World, missing: str) -> None:
    held = [p for p in Permission.values if p != missing]
    user = _agent(world.org, f"no-{missing}@walk.test", held)
    refused = {name for name, needs in SCREENS.items() if needs == (missing,)}
    _walk_screens(_client(user), world, refused)


def test_a_profile_with_no_permission_is_refused_every_guarded_screen(world: World) -> None:
    user = _agent(world.org, "nothing@walk.test", [])
    _walk_screens(_client(user), world,
                  {name for name, needs in SCREENS.items() if isinstance(needs, tuple)})


def test_a_supervisor_reads_reports_but_opens_no_settings(world: World) -> None:
    user = _agent(world.org, "supervisor@walk.test", [], role=Role.SUPERVISOR)
    membership = Membership.objects.get(user=user)
    assert membership.has_permission(Permission.REPORTS)
    assert not membership.has_permission(Permission.GENERAL_SETTINGS)
    _walk_screens(_client(user), world,
                  {name for name, needs in SCREENS.items()
                   if isinstance(needs, tuple) and RP not in needs})


def test_an_administrator_is_refused_nothing(world: World, tenant: Any) -> None:
    _walk_screens(_client(tenant.admin), world, set())


def _call(client: Client, key: str, method: str, path: str, body: dict[str, Any] | None) -> Any:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}", "HTTP_ACCEPT_LANGUAGE": "en"}
    if path.endswith("/attachments") and method == "POST":
        return client.post(path, {"files": SimpleUploadedFile("a.txt", b"hi")}, **headers)
    if method == "GET":
        return client.get(path, **headers)
    return getattr(client, method.lower())(
        path, data=json.dumps(body or {}), content_type="application/json", **headers)


def _walk_operations(world: World, raw_key: str, refused: set[tuple[str, str]]) -> None:
    client = Client(raise_request_exception=False)
    wrong = []
    for op in _operations():
        method, path = op
        response = _call(client, raw_key, method, world.operation_path(path), BODIES.get(op))
        if op in refused:
            if response.status_code != 403 or response.json()["error"]["code"] != "forbidden":
                wrong.append(f"{method} {path}: {response.status_code}, expected 403")
        elif response.status_code == 403 and OPERATIONS[op] != CHANNEL_KEY:
            wrong.append(f"{method} {path}: 403, but OPERATIONS says {OPERATIONS[op]!r}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("missing", [p.value for p in Permission])
def test_a_key_acts_with_its_issuers_permissions(world: World, missing: str) -> None:
    held = [p for p in Permission.values if p != missing]
    issuer = _agent(world.org, f"issuer-{missing}@walk.test", held)
    _key, raw = generate_api_key(world.org, "walk", created_by_id=issuer.pk)
    refused = {op for op, needs in OPERATIONS.items()
               if isinstance(needs, tuple) and missing in needs}
    _walk_operations(world, raw, refused)


def test_a_key_stops_at_guarded_operations_once_its_issuer_leaves(world: World) -> None:
    issuer = _agent(world.org, "leaver@walk.test", Permission.values)
    _key, raw = generate_api_key(world.org, "walk", created_by_id=issuer.pk)
    Membership.objects.filter(user=issuer).update(is_active=False)
    _walk_operations(world, raw, {op for op, needs in OPERATIONS.items()
                                  if isinstance(needs, tuple)})


def test_an_organisation_key_is_refused_nothing(world: World, tenant: Any) -> None:
    _walk_operations(world, tenant.raw_key, set())
