r"""Two costs of the stdlib's MIME parser (`email.feedparser`) taken away, with the same
results.

It compiles one regular expression for each multipart it meets, from the part's boundary:
`--boundary`, an optional `--`, blanks, an optional line end. A boundary is unique per
mail, so `re`'s cache never helps and every multipart pays a full compile. `install()`
gives the feedparser module a `re` whose `compile` recognises that very pattern and
returns a matcher doing the same thing without a compile: the pattern is the boundary as
a literal, then a fixed tail, so it matches a line exactly when the line starts with the
boundary and the tail (compiled once) matches right after it. Any other pattern, or a
boundary whose text does not come back from `re.escape` unchanged, is compiled by `re` as
before.

The first is CPython's gh-106628 (fixed upstream by matching with `str.startswith` and one
generic pattern, as here); on a Python whose feedparser no longer builds that pattern the
shim is never asked for it and changes nothing.

It also looks for the line end that closes a part's payload with `(\r\n|\r|\n)\Z` as a
*search*, which tries every position of the payload, several times per mail with an
attachment. Only the last two characters can match; `EndOfLine` looks at
them alone. tests/connectors/email/test_boundary.py compares both with `re` on generated
text, and whole parses with and without them.
"""

from __future__ import annotations

import email.feedparser
import re
import types
from typing import Any

_HEAD = "(?P<sep>"
_TAIL_SOURCE = r")(?P<end>--)?(?P<ws>[ \t]*)(?P<linesep>\r\n|\r|\n)?$"
_TAIL = re.compile(_TAIL_SOURCE[1:])
_ESCAPED_CHAR = re.compile(r"\\(.)", re.DOTALL)


class _Match:
    __slots__ = ("_separator", "_tail")

    def __init__(self, separator: str, tail: re.Match[str]) -> None:
        self._separator, self._tail = separator, tail

    def group(self, name: str | int = 0) -> str | None:
        if name == "sep" or name == 1:
            return self._separator
        if name == 0:
            return self._separator + self._tail.group(0)
        return self._tail.group(name if isinstance(name, str) else name - 1)


class BoundaryMatcher:
    """`re.compile(pattern).match` for the feedparser's boundary pattern."""

    __slots__ = ("pattern", "separator")

    def __init__(self, pattern: str, separator: str) -> None:
        self.pattern, self.separator = pattern, separator

    def match(self, line: str) -> _Match | None:
        separator = self.separator
        if not line.startswith(separator):
            return None
        tail = _TAIL.match(line, len(separator))
        return None if tail is None else _Match(separator, tail)


def compile_pattern(pattern: Any, flags: int = 0) -> Any:
    """`re.compile`, but a BoundaryMatcher for the feedparser's boundary pattern."""
    if (flags == 0 and isinstance(pattern, str) and pattern.startswith(_HEAD)
            and pattern.endswith(_TAIL_SOURCE)):
        escaped = pattern[len(_HEAD):-len(_TAIL_SOURCE)]
        separator = _ESCAPED_CHAR.sub(r"\1", escaped)
        if re.escape(separator) == escaped:
            return BoundaryMatcher(pattern, separator)
    return re.compile(pattern, flags)


class _End:
    __slots__ = ("_text",)

    def __init__(self, text: str) -> None:
        self._text = text

    def group(self, index: int = 0) -> str:
        if index not in (0, 1):
            raise IndexError("no such group")
        return self._text


_EOL_SOURCE = r"(\r\n|\r|\n)\Z"


class EndOfLine:
    r"""`re.compile(r"(\r\n|\r|\n)\Z").search(text)`: the leftmost line end that ends the
    text (`\r\n` when the text ends with both)."""

    pattern = _EOL_SOURCE

    def __init__(self) -> None:
        self._regex = re.compile(_EOL_SOURCE)

    def search(self, text: str, *args: Any) -> _End | re.Match[str] | None:
        if args or not isinstance(text, str):
            return self._regex.search(text, *args)
        if text.endswith("\r\n"):
            return _End("\r\n")
        if text.endswith(("\r", "\n")):
            return _End(text[-1])
        return None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._regex, name)


class _FeedparserRe(types.ModuleType):
    """`re` for `email.feedparser` alone: everything but `compile` is `re`'s."""

    compile = staticmethod(compile_pattern)

    def __getattr__(self, name: str) -> Any:
        return getattr(re, name)


def install() -> None:
    """Idempotent; affects the feedparser of this process only."""
    namespace = vars(email.feedparser)
    if not isinstance(namespace["re"], _FeedparserRe):
        namespace["re"] = _FeedparserRe("re")
    eol = namespace["NLCRE_eol"]
    if not isinstance(eol, EndOfLine) and eol.pattern == _EOL_SOURCE:
        namespace["NLCRE_eol"] = EndOfLine()
