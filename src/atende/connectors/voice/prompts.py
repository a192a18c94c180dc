"""An IVR's messages as audio: each saved as the PBX plays it (`audio`), kept in storage
for the settings screen's player, and written to the voice folder the PBX reads
(`settings.VOICE_DIR`). The menu prompt is spoken from the menu's options."""

from __future__ import annotations

import hashlib
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from atende.connectors.voice import audio
from atende.connectors.voice.models import Ivr, Prompt, PromptRole, PromptSource


def menu_text(ivr: Ivr) -> str:
    """"Press 1 for Support. Press 2 for Billing." in the language of the IVR's voice."""
    language = "pt-br" if ivr.voice == "pt-br" else "en"
    with translation.override(language):
        return " ".join(_("Press %(key)s for %(name)s.") % {"key": o.position, "name": o.spoken}
                        for o in ivr.options.select_related("service"))


def _store(ivr: Ivr, role: str, source: str, text: str, data: bytes) -> Prompt:
    digest = hashlib.sha256(data).hexdigest()
    prompt = Prompt.objects.filter(ivr=ivr, role=role).first() or Prompt(
        organization_id=ivr.organization_id, ivr=ivr, role=role)
    if prompt.pk and prompt.sha256 == digest and prompt.text == text:
        return prompt
    prompt.source, prompt.text, prompt.sha256 = source, text, digest
    prompt.duration_ms = int(audio.measure(data).seconds * 1000)
    prompt.updated_at = timezone.now()
    prompt.audio.save("prompt.wav", ContentFile(data), save=False)
    prompt.save()
    write_spool(prompt, data)
    return prompt


def speak_prompt(ivr: Ivr, role: str, text: str) -> Prompt | None:
    """The message read by the IVR's voice; an empty text removes it. Raises AudioError."""
    if not text.strip():
        Prompt.objects.filter(ivr=ivr, role=role).delete()
        return None
    return _store(ivr, role, PromptSource.TTS, text.strip(),
                  audio.speak(text, ivr.voice, ivr.speed))


def upload_prompt(ivr: Ivr, role: str, name: str, data: bytes) -> Prompt:
    """An uploaded .mp3/.wav as the message. Raises AudioError."""
    return _store(ivr, role, PromptSource.UPLOAD, "", audio.convert_upload(name, data))


def refresh_menu(ivr: Ivr) -> Prompt | None:
    """The menu prompt spoken again from the options (after they changed)."""
    return speak_prompt(ivr, PromptRole.MENU, menu_text(ivr))


@transaction.atomic
def respeak(ivr: Ivr) -> None:
    """Every text prompt read again (the voice or speed changed)."""
    for prompt in list(ivr.prompts.filter(source=PromptSource.TTS)):
        speak_prompt(ivr, prompt.role, prompt.text)


def spool_name(prompt: Prompt) -> str:
    """The prompt's path in the voice folder, without extension (as AGI names sounds)."""
    return f"prompts/{prompt.organization_id}/{prompt.ivr_id}/{prompt.role}-{prompt.sha256[:16]}"


def spool_path(prompt: Prompt) -> Path:
    return Path(settings.VOICE_DIR) / f"{spool_name(prompt)}.wav"


def write_spool(prompt: Prompt, data: bytes | None = None) -> Path:
    """The prompt's file where the PBX reads it (written again if it went missing)."""
    path = spool_path(prompt)
    if path.exists() and data is None:
        return path
    if data is None:
        with prompt.audio.open("rb") as stored:
            data = stored.read()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".part")
    partial.write_bytes(data)
    partial.replace(path)
    return path
