"""The FastAGI adapter: an asyncio server Asterisk connects to from its dialplan
(`AGI(agi://atende-host:4573/ivr)`), one connection per call. It reads the call's
environment, drives the IVR state machine (`ivr`) with AGI commands, and records the call
(`calls`) in a thread pool so the event loop never waits on the database.

A routed call gets the dialplan variable `ATENDE_SERVICE` (the service id chosen) and is
put in the PBX queue `service-<id>` (`EXEC Queue`), so the AGI session lasts as long as the
call and knows its duration. The database work of a call runs in order, beside the IVR,
never between a reply and the next command (`CallHandler.defer`).
"""

from __future__ import annotations

import asyncio
import logging
import re
import signal
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection

from atende.connectors.voice import audio, calls, ivr
from atende.connectors.voice.agi import AgiError, AgiSession, ChannelGone, quote
from atende.connectors.voice.models import Call

logger = logging.getLogger(__name__)
ADAPTER = "fastagi"
POOLED = bool(settings.DATABASES["default"].get("OPTIONS", {}).get("pool"))
PLAN_SECONDS = 5.0  # an IVR edited in the settings answers the calls after this long


def _db[R](fn: Callable[..., R], *args: Any) -> R:
    close_old_connections()
    try:
        return fn(*args)
    finally:
        if POOLED:
            # Back to the pool between units of work: a thread of this executor must not
            # hold a pooled connection while its call waits on the caller.
            connection.close()


def pbx_voice_dir(channel_settings: dict[str, Any]) -> str:
    """The voice folder as the PBX sees it (a shared volume may be mounted elsewhere)."""
    return str(channel_settings.get("pbx_voice_dir") or settings.VOICE_DIR).rstrip("/")


class CallHandler:
    """One call on one connection."""

    def __init__(self, server: AgiServer, session: AgiSession) -> None:
        self.server, self.session = server, session
        self.call: Call | None = None
        self.answering: calls.Answering | None = None
        self.voicemail: Path | None = None
        self.call_id = ""
        self.state: ivr.CallState | None = None
        # This call's database work, in order, off the caller's path (`defer`).
        self.chain: asyncio.Future[None] | None = None

    def defer(self, work: Callable[[], Awaitable[None]]) -> None:
        """Run `work` after this call's earlier database work, without making the caller
        wait: the IVR goes on while the record is written. `finish` waits for it."""
        previous = self.chain

        async def after() -> None:
            if previous is not None:
                await previous
            await work()

        self.chain = asyncio.ensure_future(after())

    async def db[R](self, fn: Callable[..., R], *args: Any) -> R:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.server.executor, partial(_db, fn, *args))

    async def run(self) -> None:
        env = await self.session.read_env()
        dialled = env.get("agi_arg_1") or env.get("agi_dnid") or env.get("agi_extension", "")
        cached = await self.server.answering(self, dialled)
        if cached is None:
            logger.warning("FastAGI call to %r: no voice channel has this number", dialled)
            await self.session.command('VERBOSE "Atende: no channel for this number" 1')
            await self.session.command("HANGUP")
            return
        self.answering = answering = calls.for_this_call(cached)
        self.call_id = env.get("agi_uniqueid") or f"agi-{time.time_ns()}"

        async def open_call() -> None:
            self.call = await self.db(calls.open_call, answering.channel, ADAPTER, self.call_id,
                                      env.get("agi_callerid", ""), dialled,
                                      answering.plan.within_hours)

        self.defer(open_call)
        self.state, commands = ivr.start(answering.plan)
        while commands:
            event: ivr.Event = ivr.Done()
            for command in commands:
                event = await self.perform(command)
                if not isinstance(event, ivr.Done):
                    break
            self.state, commands = ivr.step(self.state, event)
            if isinstance(event, ivr.HungUp):
                break

    async def perform(self, command: ivr.Command) -> ivr.Event:
        try:
            return await self._perform(command)
        except ChannelGone:
            return ivr.HungUp()

    def sound(self, prompt: str) -> str:
        assert self.answering is not None
        name = self.answering.sounds.get(prompt, "")
        return f"{pbx_voice_dir(self.answering.channel.settings)}/{name}" if name else ""

    async def _perform(self, command: ivr.Command) -> ivr.Event:
        agi = self.session
        if isinstance(command, ivr.Answer):
            await agi.command("ANSWER")
        elif isinstance(command, ivr.Play):
            sound = self.sound(command.prompt)
            if sound:
                await agi.command(f'STREAM FILE {quote(sound)} ""')
        elif isinstance(command, ivr.Collect):
            return await self.collect(command)
        elif isinstance(command, ivr.Record):
            return await self.record(command)
        elif isinstance(command, ivr.Route):
            await self.route(command)
        elif isinstance(command, ivr.Hangup):
            await agi.command("HANGUP")
        if agi.hung_up:
            return ivr.HungUp()
        return ivr.Done()

    async def collect(self, command: ivr.Collect) -> ivr.Event:
        timeout_ms = command.timeout_seconds * 1000
        sound = self.sound(command.prompt)
        if sound:
            reply = await self.session.command(f"GET DATA {quote(sound)} {timeout_ms} 1")
            key = reply.result
        else:
            reply = await self.session.command(f"WAIT FOR DIGIT {timeout_ms}")
            key = chr(int(reply.result)) if reply.result.isdigit() and int(reply.result) else ""
        if self.session.hung_up:
            return ivr.HungUp()
        if reply.code != 200 or not key or (reply.data == "timeout" and not key):
            return ivr.Timeout()
        return ivr.Key(key[:1])

    async def record(self, command: ivr.Record) -> ivr.Event:
        assert self.answering is not None
        name = re.sub(r"[^A-Za-z0-9._-]", "_",
                      f"vm-{self.answering.channel.pk}-{self.call_id}")[:100]
        target = Path(settings.VOICE_DIR) / "incoming" / f"{name}.wav"
        target.parent.mkdir(parents=True, exist_ok=True)
        pbx = f"{pbx_voice_dir(self.answering.channel.settings)}/incoming/{name}"
        hung_up = False
        try:
            await self.session.command(
                f'RECORD FILE {quote(pbx)} wav "#" {command.max_seconds * 1000} BEEP s=5')
        except ChannelGone:
            hung_up = True  # Asterisk keeps what was recorded until the hang-up
        seconds = 0.0
        if target.is_file():
            try:
                seconds = audio.measure(target.read_bytes()).seconds
            except audio.AudioError:
                seconds = 0.0
            if seconds > 0:
                self.voicemail = target
        if hung_up or self.session.hung_up:
            assert self.state is not None
            # The recording counts, then the hang-up ends the call.
            self.state, _commands = ivr.step(self.state, ivr.Recorded(seconds))
            return ivr.HungUp()
        return ivr.Recorded(seconds)

    async def route(self, command: ivr.Route) -> None:
        """The ticket is opened while the caller is put in the service's queue."""
        assert self.state is not None
        state = self.state

        async def record() -> None:
            assert self.call is not None
            self.call = await self.db(calls.save_progress, self.call, state)
            self.call = await self.db(calls.record_on_ticket, self.call)

        self.defer(record)
        await self.session.command(f"SET VARIABLE ATENDE_SERVICE {command.service_id}")
        await self.session.command(f"EXEC Queue service-{command.service_id}")

    async def finish(self) -> None:
        """Whatever ended the connection, the call's record is completed and, for a missed
        call or a voicemail, put on a ticket."""
        if self.chain is not None:
            await self.chain
        if self.call is None or self.state is None:
            return
        state = self.state
        if not state.ended:
            state, _commands = ivr.step(state, ivr.HungUp())
        self.call = await self.db(calls.save_progress, self.call, state)
        if self.call.ticket_id is None:
            self.call = await self.db(calls.record_on_ticket, self.call, self.voicemail)


class AgiServer:
    """The FastAGI server (`start`, then `close`); `handled` counts the calls it finished."""

    def __init__(self, host: str | None = None, port: int | None = None,
                 workers: int | None = None) -> None:
        self.host = host or settings.VOICE_AGI_HOST
        self.port = settings.VOICE_AGI_PORT if port is None else port
        sqlite = settings.DATABASES["default"]["ENGINE"].endswith("sqlite3")
        # SQLite has one writer at a time: one database thread, no lock waits.
        self.executor = ThreadPoolExecutor(max_workers=workers or (1 if sqlite else 8),
                                           thread_name_prefix="atende-agi")
        # Per number called: the channel and its IVR, read at most every PLAN_SECONDS.
        self.plans: dict[str, tuple[float, calls.Answering | None]] = {}
        self.server: asyncio.Server | None = None
        self.handled = 0

    async def answering(self, handler: CallHandler, dialled: str) -> calls.Answering | None:
        found = self.plans.get(dialled)
        if found is None or time.monotonic() - found[0] > PLAN_SECONDS:
            plan = await handler.db(calls.answering_for, dialled)
            found = self.plans[dialled] = (time.monotonic(), plan)
        return found[1]

    async def start(self) -> asyncio.Server:
        self.server = await asyncio.start_server(self.handle, self.host, self.port,
                                                 limit=8192)
        sockets = self.server.sockets or ()
        if sockets:
            self.port = sockets[0].getsockname()[1]
        return self.server

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = AgiSession(reader, writer)
        handler = CallHandler(self, session)
        try:
            await handler.run()
        except (ChannelGone, AgiError, ConnectionError) as exc:
            logger.info("FastAGI call ended: %s", exc)
        except Exception:
            logger.exception("FastAGI call failed")
        finally:
            try:
                await handler.finish()
            except Exception:
                logger.exception("FastAGI call %s not recorded completely",
                                 handler.call.pk if handler.call else "?")
            await session.close()
            self.handled += 1

    def close(self) -> None:
        if self.server is not None:
            self.server.close()
        self.executor.shutdown(wait=True)


def serve(host: str | None = None, port: int | None = None) -> int:
    """`atende voice` (and the voice part of `atende run`): the FastAGI server until SIGTERM
    or SIGINT. A port already taken is logged once and the part idles rather than
    restarting in a loop: the rest of Atende keeps running."""
    server = AgiServer(host, port)

    async def main() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        try:
            await server.start()
        except OSError as exc:
            logger.warning("the FastAGI server cannot listen on %s:%s (%s); calls will not "
                         "be answered", server.host, server.port, exc)
            await stop.wait()
            return 1
        logger.info("FastAGI server on %s:%s", server.host, server.port)
        await stop.wait()
        return 0

    try:
        return asyncio.run(main())
    finally:
        server.close()
