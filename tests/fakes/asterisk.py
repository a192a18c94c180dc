"""A fake Asterisk that calls Atende's FastAGI server the way `AGI(agi://host:4573/ivr)`
does: the `agi_*` environment and a blank line, then one reply per command, byte for byte
as Asterisk writes them (CONTRACTS.md §7.4): `200 result=…`, `200 result= (timeout)`,
`510` for an unknown command, `511` on a dead channel, and a bare `HANGUP` line when the
caller hangs up (AGISIGHUP).

The caller is a script: what they press at each menu (a key, `None` to let it time out,
`"hangup"`), and whether they hang up while a prompt plays or while recording. A prompt
Asterisk is asked to play must exist as `<name>.wav` (Asterisk adds the extension); a
recording is written where RECORD FILE says, as Asterisk would, an 8 kHz WAV with a tone.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import math
import shlex
import struct
import time
import wave
from dataclasses import dataclass, field
from pathlib import Path

HANGUP = "hangup"


def tone_wav(seconds: float = 2.0, rate: int = 8000, hz: float = 440.0) -> bytes:
    frames = b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * hz * n / rate)))
                      for n in range(int(seconds * rate)))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(frames)
    return buffer.getvalue()


@dataclass
class Caller:
    """What the person on the line does."""

    number: str = "11987654321"
    dialled: str = "+551130300000"
    uniqueid: str = "1715520667.42"
    keys: list[str | None] = field(default_factory=list)  # per menu: key, None, "hangup"
    hangup_on_prompt: int | None = None  # hang up while the n-th STREAM FILE plays (0-based)
    voicemail_seconds: float = 2.0  # what they say after the beep (0: silence, no file)
    hangup_in_voicemail: bool = False
    request: str = "agi://127.0.0.1:4573/ivr"


@dataclass
class Transcript:
    commands: list[str] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)
    played: list[str] = field(default_factory=list)
    missing_sounds: list[str] = field(default_factory=list)
    variables: dict[str, str] = field(default_factory=dict)
    queues: list[str] = field(default_factory=list)
    recordings: list[Path] = field(default_factory=list)
    closed_by_server: bool = False
    # Seconds from each reply sent to the server's next command (the IVR step's latency).
    gaps: list[float] = field(default_factory=list)


class FakeAsterisk:
    """Places calls into a FastAGI server on 127.0.0.1."""

    def __init__(self, host: str, port: int, *, sighup: bool = True) -> None:
        self.host, self.port, self.sighup = host, port, sighup

    def environment(self, caller: Caller) -> bytes:
        env = {
            "agi_network": "yes", "agi_network_script": "ivr", "agi_request": caller.request,
            "agi_channel": "PJSIP/trunk-00000012", "agi_language": "pt_BR",
            "agi_type": "PJSIP", "agi_uniqueid": caller.uniqueid, "agi_version": "20.5.0",
            "agi_callerid": caller.number, "agi_calleridname": "unknown",
            "agi_callingpres": "0", "agi_callingani2": "0", "agi_callington": "0",
            "agi_callingtns": "0", "agi_dnid": caller.dialled, "agi_rdnis": "unknown",
            "agi_context": "from-trunk", "agi_extension": caller.dialled,
            "agi_priority": "1", "agi_enhanced": "0.0", "agi_accountcode": "",
            "agi_threadid": "140536391431744",
        }
        return "".join(f"{k}: {v}\n" for k, v in env.items()).encode() + b"\n"

    async def call(self, caller: Caller, timeout: float = 30.0) -> Transcript:
        return await asyncio.wait_for(self._call(caller), timeout)

    async def _call(self, caller: Caller) -> Transcript:
        reader, writer = await asyncio.open_connection(self.host, self.port)
        transcript = Transcript()
        writer.write(self.environment(caller))
        await writer.drain()
        keys = list(caller.keys)
        prompts = 0
        dead = False

        def send(*lines: str) -> None:
            for line in lines:
                transcript.replies.append(line)
                writer.write(line.encode() + b"\n")

        def hang_up() -> None:
            nonlocal dead
            dead = True
            if self.sighup:
                send("HANGUP")

        replied_at: float | None = None
        try:
            while True:
                raw = await reader.readline()
                if not raw:
                    transcript.closed_by_server = True
                    break
                if replied_at is not None:
                    transcript.gaps.append(time.perf_counter() - replied_at)
                line = raw.decode().rstrip("\n")
                transcript.commands.append(line)
                words = shlex.split(line) if line.count('"') % 2 == 0 else line.split()
                verb = " ".join(words[:2]).upper() if words else ""
                if dead:
                    send("511 Command Not Permitted on a dead channel or intercept routine")
                elif not words:
                    send("510 Invalid or unknown command")
                elif words[0].upper() == "ANSWER":
                    send("200 result=0")
                elif verb == "STREAM FILE":
                    sound = words[2]
                    transcript.played.append(sound)
                    if not Path(f"{sound}.wav").is_file():
                        transcript.missing_sounds.append(sound)
                        send("200 result=-1 endpos=0")
                    elif caller.hangup_on_prompt == prompts:
                        hang_up()
                        send("200 result=-1 endpos=1200")
                    else:
                        send("200 result=0 endpos=12345")
                    prompts += 1
                elif verb == "GET DATA" or verb == "WAIT FOR":
                    if verb == "GET DATA":
                        transcript.played.append(words[2])
                        if not Path(f"{words[2]}.wav").is_file():
                            transcript.missing_sounds.append(words[2])
                    choice = keys.pop(0) if keys else None
                    if choice == HANGUP:
                        hang_up()
                        send("200 result=-1")
                    elif choice is None:
                        send("200 result= (timeout)" if verb == "GET DATA" else "200 result=0")
                    else:
                        send(f"200 result={choice}" if verb == "GET DATA"
                             else f"200 result={ord(choice)}")
                elif verb == "RECORD FILE":
                    path = Path(f"{words[2]}.{words[3]}")
                    if caller.voicemail_seconds > 0:
                        path.parent.mkdir(parents=True, exist_ok=True)
                        path.write_bytes(tone_wav(caller.voicemail_seconds))
                        transcript.recordings.append(path)
                    samples = int(caller.voicemail_seconds * 8000)
                    if caller.hangup_in_voicemail:
                        hang_up()
                        send(f"200 result=-1 (hangup) endpos={samples}")
                    else:
                        send(f"200 result=0 (timeout) endpos={samples}")
                elif verb == "SET VARIABLE":
                    transcript.variables[words[2]] = words[3] if len(words) > 3 else ""
                    send("200 result=1")
                elif words[0].upper() == "EXEC":
                    if words[1].lower() == "queue":
                        transcript.queues.append(words[2] if len(words) > 2 else "")
                    send("200 result=0")
                elif words[0].upper() == "VERBOSE":
                    send("200 result=1")
                elif words[0].upper() == "HANGUP":
                    send("200 result=1")
                    dead = True
                    if self.sighup:
                        send("HANGUP")
                else:
                    send("510 Invalid or unknown command")
                await writer.drain()
                replied_at = time.perf_counter()
        except (ConnectionError, OSError):
            transcript.closed_by_server = True
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()
        return transcript


def main() -> None:
    """`scripts/voice-call-demo`: one call into a running FastAGI server, as Asterisk
    would place it (the server and this script must see the same voice folder)."""
    import argparse

    parser = argparse.ArgumentParser(description="Place a simulated call into Atende's IVR")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4573)
    parser.add_argument("--to", default="+551130300000", help="the number called")
    parser.add_argument("--from", dest="caller", default="11987654321")
    parser.add_argument("--keys", default="2",
                        help="keys pressed at each menu; '-' lets one time out")
    args = parser.parse_args()
    keys: list[str | None] = [None if k == "-" else k for k in args.keys]
    caller = Caller(number=args.caller, dialled=args.to, keys=keys,
                    uniqueid=f"demo.{time.time_ns()}")
    transcript = asyncio.run(FakeAsterisk(args.host, args.port).call(caller))
    for command, reply in zip(transcript.commands, transcript.replies, strict=False):
        print(f"-> {command}\n<- {reply}")
    if transcript.missing_sounds:
        print("Prompts this machine cannot see:", ", ".join(transcript.missing_sounds))


if __name__ == "__main__":
    main()
