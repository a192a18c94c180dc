"""Prompt audio: text spoken by espeak-ng, or an uploaded .mp3/.wav, always ending as the
PBX plays it: an 8 kHz, mono, 16-bit WAV (converted by sox). Also the measure a test and
the settings screen use: duration and loudness (RMS) of a WAV."""

from __future__ import annotations

import array
import io
import math
import shutil
import subprocess
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path

from django.utils.translation import gettext as _

RATE = 8000
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_SECONDS = 120
MAX_TEXT = 1000
VOICES = {"pt-br", "en-us", "en"}
TOOL_SECONDS = 30


class AudioError(ValueError):
    """The audio cannot be made or read; the message is for a person."""


@dataclass(frozen=True)
class Measure:
    rate: int
    channels: int
    sample_width: int
    seconds: float
    rms: float  # of the 16-bit samples, 0 … 32767


def measure(data: bytes) -> Measure:
    """Duration and loudness of a WAV; raises AudioError for anything else."""
    try:
        with wave.open(io.BytesIO(data)) as wav:
            rate, channels, width = wav.getframerate(), wav.getnchannels(), wav.getsampwidth()
            frames = wav.readframes(wav.getnframes())
    except (wave.Error, EOFError) as exc:
        raise AudioError(_("This is not a WAV file.")) from exc
    rms = 0.0
    if width == 2 and frames:
        samples = array.array("h", frames[: len(frames) // 2 * 2])
        rms = math.sqrt(sum(s * s for s in samples) / len(samples))
    seconds = len(frames) / (rate * channels * width) if rate and channels and width else 0.0
    return Measure(rate, channels, width, seconds, rms)


def _run(args: list[str]) -> None:
    try:
        subprocess.run(args, check=True, capture_output=True, timeout=TOOL_SECONDS)  # noqa: S603
    except FileNotFoundError as exc:
        raise AudioError(_("The audio tool %(tool)s is not installed.") % {
            "tool": args[0]}) from exc
    except subprocess.TimeoutExpired as exc:
        raise AudioError(_("The audio took too long to convert.")) from exc
    except subprocess.CalledProcessError as exc:
        raise AudioError(_("The audio could not be converted.")) from exc


def _tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise AudioError(_("The audio tool %(tool)s is not installed.") % {"tool": name})
    return found


def _to_pbx(source: Path, folder: Path) -> bytes:
    target = folder / "pbx.wav"
    _run([_tool("sox"), "-q", str(source), "-r", str(RATE), "-c", "1", "-b", "16",
          "-e", "signed-integer", str(target)])
    data = target.read_bytes()
    found = measure(data)
    if found.seconds > MAX_SECONDS:
        raise AudioError(_("The audio is longer than %(seconds)s seconds.") % {
            "seconds": MAX_SECONDS})
    return data


def speak(text: str, voice: str = "pt-br", speed: int = 150) -> bytes:
    """The text read by espeak-ng in `voice` at `speed` words per minute, as an 8 kHz WAV."""
    text = " ".join(text.split())
    if not text:
        raise AudioError(_("Write the text to be read."))
    if len(text) > MAX_TEXT:
        raise AudioError(_("The text is longer than %(count)s characters.") % {
            "count": MAX_TEXT})
    if voice not in VOICES:
        raise AudioError(_("Unknown voice."))
    speed = max(80, min(260, int(speed)))
    with tempfile.TemporaryDirectory(prefix="atende-tts-") as name:
        folder = Path(name)
        spoken = folder / "spoken.wav"
        # The text goes through stdin: never an argument espeak-ng could read as an option.
        try:
            subprocess.run([_tool("espeak-ng"), "-v", voice, "-s", str(speed),  # noqa: S603
                            "-w", str(spoken), "--stdin"], input=text.encode(),
                           check=True, capture_output=True, timeout=TOOL_SECONDS)
        except subprocess.TimeoutExpired as exc:
            raise AudioError(_("The audio took too long to convert.")) from exc
        except subprocess.CalledProcessError as exc:
            raise AudioError(_("The text could not be read aloud.")) from exc
        return _to_pbx(spoken, folder)


def convert_upload(name: str, data: bytes) -> bytes:
    """An uploaded .mp3 or .wav as an 8 kHz WAV; raises AudioError (size, type, length,
    or audio sox cannot read)."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise AudioError(_("The file is larger than %(size)s MB.") % {
            "size": MAX_UPLOAD_BYTES // (1024 * 1024)})
    suffix = Path(name).suffix.lower()
    if suffix not in (".mp3", ".wav"):
        raise AudioError(_("Send an .mp3 or .wav file."))
    looks_wav = data[:4] == b"RIFF" and data[8:12] == b"WAVE"
    looks_mp3 = data[:3] == b"ID3" or (len(data) > 1 and data[0] == 0xFF
                                       and data[1] & 0xE0 == 0xE0)
    if (suffix == ".wav" and not looks_wav) or (suffix == ".mp3" and not looks_mp3):
        raise AudioError(_("The file is not the audio its name says."))
    with tempfile.TemporaryDirectory(prefix="atende-upload-") as folder_name:
        folder = Path(folder_name)
        source = folder / f"upload{suffix}"
        source.write_bytes(data)
        return _to_pbx(source, folder)
