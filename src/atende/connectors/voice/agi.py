"""The AGI protocol as Asterisk speaks it over FastAGI (TCP, `agi://host:4573/ivr`).

Asterisk opens the connection and sends its environment, `agi_<name>: <value>` lines ended
by a blank line. Then the application sends one command per line and Asterisk answers each
with `200 result=<n> [(<data>)] [endpos=<n>]`; `510` is an unknown command, `520-…` a usage
text over several lines ending with `520 End of proper usage.`, and `511` a command on a
channel that hung up. With AGISIGHUP on, a bare `HANGUP` line arrives when the caller hangs
up (before or between answers).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from dataclasses import dataclass

ENV_LIMIT = 200  # lines: a peer that never ends its environment is cut off
LINE_LIMIT = 8192
REPLY = re.compile(r"(?P<code>\d{3})(?:[ -](?P<rest>.*))?")
RESULT = re.compile(
    r"result=(?P<result>\S*)(?:\s+\((?P<data>[^)]*)\))?(?:.*endpos=(?P<endpos>\d+))?")


class AgiError(Exception):
    """The peer broke the protocol (a line too long, an environment that never ends)."""


class ChannelGone(Exception):
    """The caller hung up or the connection closed: no command can be carried out now."""


@dataclass(frozen=True)
class Reply:
    code: int
    result: str = ""
    data: str = ""
    endpos: int | None = None
    text: str = ""

    @property
    def hangup(self) -> bool:
        return self.code == 511 or (self.code == 200 and self.result == "-1")


def parse_reply(line: str) -> Reply:
    found = REPLY.fullmatch(line.strip())
    if not found:
        raise AgiError(f"not an AGI reply: {line[:80]!r}")
    code, rest = int(found["code"]), found["rest"] or ""
    result = RESULT.match(rest) if code == 200 else None
    if result is None:
        return Reply(code, text=rest)
    endpos = result["endpos"]
    return Reply(code, result["result"], result["data"] or "",
                 int(endpos) if endpos else None, rest)


def quote(value: str) -> str:
    """A command argument: one token, never a second command (no quotes, no newlines)."""
    cleaned = re.sub(r'[\s"\\]+', "", value)
    return cleaned or '""'


class AgiSession:
    """One FastAGI connection: the environment, then commands and their replies."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.env: dict[str, str] = {}
        self.hung_up = False  # a HANGUP line (AGISIGHUP) was seen

    async def _line(self) -> str:
        try:
            raw = await self.reader.readuntil(b"\n")
        except asyncio.IncompleteReadError as exc:
            raise ChannelGone("connection closed") from exc
        except asyncio.LimitOverrunError as exc:
            raise AgiError("line too long") from exc
        return raw.decode("utf-8", "replace").rstrip("\r\n")

    async def read_env(self) -> dict[str, str]:
        for _ in range(ENV_LIMIT):
            line = await self._line()
            if not line.strip():
                return self.env
            name, sep, value = line.partition(":")
            if sep and name.startswith("agi_"):
                self.env[name.strip()] = value.strip()
        raise AgiError("the AGI environment did not end")

    async def command(self, line: str) -> Reply:
        """Send one command and read its reply; raises ChannelGone once the channel is
        dead (511, result -1, a closed connection)."""
        if self.writer.is_closing():
            raise ChannelGone("connection closed")
        self.writer.write(line.encode() + b"\n")
        try:
            await self.writer.drain()
        except (ConnectionError, OSError) as exc:
            raise ChannelGone("connection closed") from exc
        while True:
            text = await self._line()
            if text.strip() == "HANGUP":
                self.hung_up = True
                continue  # the reply to the command still follows
            if text.startswith("520-"):  # usage text, up to "520 End of proper usage."
                while not (await self._line()).startswith("520 "):
                    pass
                return Reply(520, text="invalid command syntax")
            reply = parse_reply(text)
            if reply.hangup:
                self.hung_up = True
                raise ChannelGone(f"{reply.code} {reply.text}")
            return reply

    async def close(self) -> None:
        if not self.writer.is_closing():
            self.writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await self.writer.wait_closed()
