"""How both profiles read Portuguese text: fold, stem, pick query terms, highlight.

`fold` is mirrored in SQL by `atende_fold` (fulltext.postgres_index): change one, change the
other and rebuild the indexes.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import snowballstemmer
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# Longer texts (an e-mail with a quoted history) are indexed up to here on both profiles.
INDEXED_CHARS = 20_000
MAX_QUERY_TERMS = 12
WORD = re.compile(r"[^\W_]+")
# The endings typed without their accents, put back before stemming; plurals in -ões go to
# -ão so that "cartões" and "cartão" share a stem (Snowball keeps them apart).
RESTORE = (
    (re.compile(r"c(?:ao|oes)\b"), "ção"),
    (re.compile(r"oes\b"), "ão"),
    (re.compile(r"(\w\w)ao\b"), r"\1ão"),
)

# Function words left out of a query (PostgreSQL also drops its own list from its queries
# and its index, so a word here is never required on one profile and not on the other).
STOPWORDS = frozenset((
    "a", "ao", "aos", "aquela", "aquelas", "aquele", "aqueles", "aquilo", "as", "ate", "com",
    "como", "da", "das", "de", "dela", "delas", "dele", "deles", "depois", "do", "dos", "e",
    "ela", "elas", "ele", "eles", "em", "entre", "era", "eram", "essa", "essas", "esse",
    "esses", "esta", "estao", "estas", "estava", "este", "estes", "eu", "foi", "for", "foram",
    "ha", "isso", "isto", "ja", "la", "lhe", "lhes", "mais", "mas", "me", "mesmo", "meu",
    "meus", "minha", "minhas", "muito", "na", "nas", "nao", "nem", "no", "nos", "nossa",
    "nossas", "nosso", "nossos", "num", "numa", "o", "os", "ou", "para", "pela", "pelas",
    "pelo", "pelos", "por", "qual", "quando", "que", "quem", "se", "sem", "ser", "seu", "seus",
    "so", "sua", "suas", "tambem", "te", "tem", "tinha", "to", "tu", "tua", "tuas", "um", "uma",
    "umas", "uns", "voce", "voces", "vos", "nao", "ter", "sao", "seja", "sou", "estou", "esta",
    "pra", "pro",
))

_stemmer = snowballstemmer.stemmer("portuguese")


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def fold(text: str) -> str:
    """Lower case, accents dropped, the common unaccented endings restored."""
    folded = strip_accents(text.lower())
    for pattern, replacement in RESTORE:
        folded = pattern.sub(replacement, folded)
    return folded


def words(text: str) -> list[str]:
    return WORD.findall(fold(text))


@lru_cache(maxsize=50_000)
def stem(word: str) -> str:
    """The stem of one folded word, without accents (FTS5's tokenizer drops them anyway)."""
    return strip_accents(_stemmer.stemWord(word))


def stems(text: str | None) -> str:
    """A text as the space-separated stems the SQLite index holds."""
    if not text:
        return ""
    return " ".join(stem(w) for w in words(text[:INDEXED_CHARS]))


@dataclass(frozen=True)
class Terms:
    """What a query asks for: folded words (PostgreSQL stems them itself) and their stems."""

    words: tuple[str, ...]
    stems: tuple[str, ...]

    @classmethod
    def parse(cls, text: str, limit: int = MAX_QUERY_TERMS) -> Terms:
        seen: dict[str, str] = {}
        for word in words(text[:2000]):
            if word in STOPWORDS or word in seen.values():
                continue
            key = stem(word)
            if key and key not in seen:
                seen[key] = word
            if len(seen) >= limit:
                break
        return cls(words=tuple(seen.values()), stems=tuple(seen))

    def __bool__(self) -> bool:
        return bool(self.stems)


def highlight(text: str, stems_: Iterable[str], width: int = 200) -> SafeString:
    """A window of `text` around its first matching word, escaped, matches in <mark>."""
    wanted = set(stems_)
    text = text[:INDEXED_CHARS]
    matches = [m for m in WORD.finditer(text) if _stem_of(m.group()) in wanted]
    if not matches:
        cut = text[:width]
        return SafeString(escape(cut) + ("…" if len(text) > width else ""))
    start = max(0, matches[0].start() - width // 4)
    if start:  # begin on a word
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < matches[0].start() else start
    end = min(len(text), start + width)
    parts: list[str] = ["…" if start else ""]
    pos = start
    for m in matches:
        if m.start() < start:
            continue
        if m.end() > end:
            break
        parts += [escape(text[pos:m.start()]), "<mark>", escape(m.group()), "</mark>"]
        pos = m.end()
    parts += [escape(text[pos:end]), "…" if end < len(text) else ""]
    return mark_safe("".join(parts))  # noqa: S308 - every piece of text is escaped above


def _stem_of(word: str) -> str:
    folded = words(word)
    return stem(folded[0]) if folded else ""
