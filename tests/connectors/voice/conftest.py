"""A voice channel with an IVR (two services in the menu), the production FastAGI server on
a free port in a thread, and the fake Asterisk that calls it."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from atende.automation.models import BusinessCalendar
from atende.channels.models import Channel
from atende.connectors.voice.agi_server import AgiServer
from atende.connectors.voice.channels import IvrSettings, configure_ivr, create_voice_channel
from atende.tenancy.models import Service
from tests.conftest import Tenant
from tests.fakes.asterisk import Caller, FakeAsterisk, Transcript

NUMBER = "+55 11 3030-0000"


@pytest.fixture(autouse=True)
def voice_dir(settings: Any, tmp_path: Path) -> Path:
    settings.VOICE_DIR = tmp_path / "voice"
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.VOICE_DIR


def make_voice_channel(tenant: Tenant, *, open_hours: bool = True, voicemail: bool = True,
                       repeats: int = 1, number: str = NUMBER, language: str = "en") -> Channel:
    tenant.org.language = language
    tenant.org.save(update_fields=["language"])
    calendar = BusinessCalendar.objects.create(
        organization=tenant.org, name=f"Horário {number}", timezone="America/Sao_Paulo",
        always_open=open_hours, hours={})
    billing = Service.objects.create(organization=tenant.org, name="Financeiro")
    channel = create_voice_channel(tenant.org, "Central", [number], service=tenant.service,
                                   calendar=calendar)
    configure_ivr(channel, IvrSettings(
        name="URA principal", welcome="Bem-vindo à Acme.",
        closed="Estamos fechados. Deixe sua mensagem após o sinal.",
        unanswered="Não recebemos sua opção. Até logo.", timeout_seconds=1,
        repeats=repeats, voicemail=voicemail), [tenant.service, billing])
    return channel


class RunningServer:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.server = AgiServer("127.0.0.1", 0)
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.server.start(), self.loop).result(10)
        self.peer = FakeAsterisk("127.0.0.1", self.server.port)

    def call(self, caller: Caller) -> Transcript:
        transcript = asyncio.run(self.peer.call(caller))
        self.wait_idle()
        return transcript

    def wait_idle(self, timeout: float = 20.0) -> None:
        """Until the server recorded every call it took (its `finish` runs after the peer
        sees the connection close)."""
        async def idle() -> None:
            while any(not t.done() for t in asyncio.all_tasks()
                      if t is not asyncio.current_task()
                      and "serve" not in repr(t.get_coro())):
                await asyncio.sleep(0.01)
        asyncio.run_coroutine_threadsafe(idle(), self.loop).result(timeout)

    def stop(self) -> None:
        async def close() -> None:
            if self.server.server is not None:
                self.server.server.close()
                await self.server.server.wait_closed()
        asyncio.run_coroutine_threadsafe(close(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.server.executor.shutdown(wait=True)


@pytest.fixture
def agi() -> Iterator[RunningServer]:
    running = RunningServer()
    yield running
    running.stop()
