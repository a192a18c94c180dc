"""Browser tests: Debian's Chromium driven by Playwright against a real `atende web`
process (uvicorn, so the SSE stream really streams) on a fresh embedded-profile data
directory, with a fake integrator endpoint for the generic API channel's webhook."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import REQUIRE_SERVICES
from tests.fakes import processes
from tests.fakes.http_receiver import HttpReceiver

CHROMIUM = "/usr/bin/chromium"
PASSWORD = "a-long-password-1"

SEED = """
import json
from atende.connectors.api.channels import create_api_channel
from atende.tenancy.models import AccessProfile, Membership, Organization, Role, Service, User
from atende.tickets.models import FinalizationTag
org = Organization.objects.create(name="Loja Exemplo", slug="loja")
service = Service.objects.create(organization=org, name="Suporte")
ana = User.objects.create_user("ana@loja.test", "PASSWORD", name="Ana Lima")
Membership.objects.create(organization=org, user=ana, role=Role.ADMIN)
bruno = User.objects.create_user("bruno@loja.test", "PASSWORD", name="Bruno Reis")
plain = AccessProfile.objects.create(organization=org, name="Atendimento", permissions=[])
Membership.objects.create(organization=org, user=bruno, role=Role.AGENT, access_profile=plain
                          ).services.add(service)
FinalizationTag.objects.create(organization=org, name="Resolvido no primeiro contato")
channel, raw_key, _secret = create_api_channel(org, name="Loja online", service=service,
                                               webhook_url="WEBHOOK_URL")
print(json.dumps({"channel": channel.pk, "key": raw_key}))
"""


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    if not os.path.exists(CHROMIUM):
        message = f"Chromium is not installed at {CHROMIUM}"
        if REQUIRE_SERVICES:
            pytest.fail(message)
        pytest.skip(message)
    return {**browser_type_launch_args, "executable_path": CHROMIUM,
            "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--no-first-run"]}


@dataclass
class Site:
    url: str
    channel_id: int
    key: str
    receiver: HttpReceiver
    counter: int = 0
    env: dict[str, str] = field(default_factory=dict)  # the web process's, for more seeding

    def customer_writes(self, subject: str, text: str, name: str = "Carla Dias") -> dict[str, Any]:
        """A customer's message arriving through the generic API channel's REST endpoint."""
        self.counter += 1
        response = httpx.post(
            f"{self.url}/api/v1/channels/{self.channel_id}/messages",
            headers={"Authorization": f"Bearer {self.key}"},
            json={"message_id": f"m-{self.counter}", "conversation_id": f"c-{self.counter}",
                  "contact": {"id": f"cust-{self.counter}", "name": name},
                  "subject": subject, "text": text},
            timeout=10,
        )
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    base: Path = tmp_path_factory.mktemp("e2e")
    # Tasks run in the web process as soon as the reply commits: the webhook delivery
    # happens without waiting for a worker's poll.
    env = processes.profile_env(base / "data", ATENDE_TASKS_IMMEDIATE="1")
    with HttpReceiver() as receiver:
        receiver.default = (200, {"id": "ext-reply"})
        processes.manage(env, "migrate", "--noinput")
        seeded = json.loads(processes.run_django(
            SEED.replace("PASSWORD", PASSWORD).replace("WEBHOOK_URL", receiver.url), env))
        web = processes.start_web(env, base)
        try:
            yield Site(web.url, seeded["channel"], seeded["key"], receiver, env=env)
        finally:
            web.stop()
