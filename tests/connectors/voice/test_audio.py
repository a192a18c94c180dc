"""Prompts are real audio: espeak-ng's speech and uploads converted by sox to what the PBX
plays (8 kHz, mono, 16-bit), measured, with their limits."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.utils import translation

from atende.connectors.voice import audio
from tests.fakes.asterisk import tone_wav

SILENCE_RMS = 50  # 16-bit samples; espeak-ng's speech is far above this


@pytest.fixture(autouse=True)
def in_english() -> Iterator[None]:
    with translation.override("en"):
        yield


@pytest.mark.parametrize("voice,text", [("pt-br", "Digite 1 para suporte."),
                                        ("en-us", "Press 1 for support.")])
def test_text_is_spoken_as_an_8khz_mono_wav_with_speech(voice: str, text: str) -> None:
    data = audio.speak(text, voice, 150)
    found = audio.measure(data)
    assert (found.rate, found.channels, found.sample_width) == (8000, 1, 2)
    assert 0.5 < found.seconds < 10
    assert found.rms > SILENCE_RMS * 10, found


def test_a_slower_voice_takes_longer() -> None:
    text = "Bem-vindo à central de atendimento da Acme."
    slow = audio.measure(audio.speak(text, "pt-br", 90)).seconds
    fast = audio.measure(audio.speak(text, "pt-br", 220)).seconds
    assert slow > fast * 1.5


def test_silence_measures_as_silence() -> None:
    silent = tone_wav(1.0, hz=0.0)
    assert audio.measure(silent).rms < SILENCE_RMS


def test_an_uploaded_wav_at_another_rate_is_converted(tmp_path: Path) -> None:
    source = tmp_path / "in.wav"
    source.write_bytes(tone_wav(1.5, rate=44100))
    found = audio.measure(audio.convert_upload("boas-vindas.wav", source.read_bytes()))
    assert (found.rate, found.channels) == (8000, 1)
    assert abs(found.seconds - 1.5) < 0.05 and found.rms > 1000


def test_an_uploaded_mp3_is_converted(tmp_path: Path) -> None:
    wav, mp3 = tmp_path / "in.wav", tmp_path / "in.mp3"
    wav.write_bytes(tone_wav(1.0, rate=22050))
    subprocess.run(["sox", str(wav), str(mp3)], check=True)
    found = audio.measure(audio.convert_upload("menu.MP3", mp3.read_bytes()))
    assert found.rate == 8000 and found.rms > 1000 and 0.9 < found.seconds < 1.2


@pytest.mark.parametrize("name,data,message", [
    ("x.ogg", b"OggS....", "Send an .mp3 or .wav file."),
    ("x.wav", b"<html>not audio</html>", "The file is not the audio its name says."),
    ("x.mp3", b"RIFF\x00\x00\x00\x00WAVE", "The file is not the audio its name says."),
    ("x.wav", b"RIFF\x24\x00\x00\x00WAVEfmt garbage", "The audio could not be converted."),
])
def test_bad_uploads_are_refused_with_a_reason(name: str, data: bytes, message: str) -> None:
    with pytest.raises(audio.AudioError, match=message):
        audio.convert_upload(name, data)


def test_size_and_length_are_limited(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(audio.AudioError, match="larger than"):
        audio.convert_upload("x.wav", b"RIFF" + b"\x00" * audio.MAX_UPLOAD_BYTES)
    monkeypatch.setattr(audio, "MAX_SECONDS", 1)
    with pytest.raises(audio.AudioError, match="longer than 1 seconds"):
        audio.convert_upload("x.wav", tone_wav(2.0))


def test_text_limits() -> None:
    with pytest.raises(audio.AudioError):
        audio.speak("   ")
    with pytest.raises(audio.AudioError):
        audio.speak("x" * (audio.MAX_TEXT + 1))
    with pytest.raises(audio.AudioError):
        audio.speak("oi", voice="--help")


def test_a_text_that_looks_like_an_option_is_read_not_obeyed() -> None:
    data = audio.speak("--version -w /tmp/x.wav")
    assert audio.measure(data).rms > SILENCE_RMS
