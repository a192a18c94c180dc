"""A channel's survey settings, kept in its `settings["csat"]`: on or off, the delay after
the resolution, and the wording in each language (empty: the default wording)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from atende.channels.models import Channel

LANGUAGES = ("pt-br", "en")
MAX_DELAY_MINUTES = 7 * 24 * 60
PLACEHOLDERS = ("{protocol}", "{subject}", "{name}")


@dataclass(frozen=True)
class CsatSettings:
    enabled: bool = False
    delay_minutes: int = 0
    texts: tuple[tuple[str, str], ...] = ()  # (language, wording) when customised

    @classmethod
    def of(cls, channel: Channel) -> CsatSettings:
        raw: Any = (channel.settings or {}).get("csat") or {}
        if not isinstance(raw, dict):
            return cls()
        try:
            delay = max(0, min(int(raw.get("delay_minutes") or 0), MAX_DELAY_MINUTES))
        except (TypeError, ValueError):
            delay = 0
        found = raw.get("texts")
        texts: dict[str, Any] = found if isinstance(found, dict) else {}
        return cls(enabled=bool(raw.get("enabled")), delay_minutes=delay,
                   texts=tuple((lang, str(texts[lang])) for lang in LANGUAGES
                               if str(texts.get(lang) or "").strip()))

    def as_json(self) -> dict[str, Any]:
        return {"enabled": self.enabled, "delay_minutes": self.delay_minutes,
                "texts": dict(self.texts)}

    def wording(self, language: str) -> str:
        """The invitation's text in `language` (unfilled)."""
        own = dict(self.texts).get(language)
        return own if own else default_wording(language)


def default_wording(language: str) -> str:
    with translation.override(language):
        return _("How would you rate our service on ticket {protocol}? Choose a score from "
                 "1 (very bad) to 5 (excellent). You may add a comment.")


def fill(text: str, *, protocol: str, subject: str, name: str) -> str:
    """The placeholders replaced; anything else in the text is left as written."""
    return (text.replace("{protocol}", protocol).replace("{subject}", subject)
            .replace("{name}", name))


def score_labels(language: str) -> tuple[tuple[int, str], ...]:
    """Each score with its label, best first (the order buttons and lists show)."""
    with translation.override(language):
        return (
            (5, pgettext("csat score", "5 - Excellent")),
            (4, pgettext("csat score", "4 - Good")),
            (3, pgettext("csat score", "3 - Fair")),
            (2, pgettext("csat score", "2 - Bad")),
            (1, pgettext("csat score", "1 - Very bad")),
        )


def language_of(organization_language: str) -> str:
    """Contacts record no language yet: the organisation's, as the other notices do."""
    return "en" if (organization_language or "").lower().startswith("en") else "pt-br"
