"""The stdlib's MIME parser (`email.feedparser`) handed a base64 body in blocks, not in
lines, with the same results.

The feedparser reads its input line by line: each line is popped from a queue, offered to
every open multipart's boundary matcher, and appended to the part's list of lines. A
100 KB attachment is some 1,400 lines of base64, and that loop was most of the parse of a
mail carrying one (`bench/email_ingest.py`). `Base64Lines` is the feedparser's line
buffer, except that in each chunk of input it is given (8 KB: `email.parser` feeds that
much at a time) a run of eight or more lines made of base64 characters alone is queued as
one "line". Nothing the parser does with a line can tell the difference for such lines:
none is blank, none starts with "--" as every boundary line does, none has the ":" of a
header line; a part's payload is its lines joined, and a run is those lines already
joined. Every other line (headers, text, a boundary, a blank line, one ending in a lone
"\\r") is queued alone as before. tests/connectors/email/test_base64_lines.py compares whole
parses with and without it.
"""

from __future__ import annotations

import email.feedparser
import re
from typing import Any

# Runs of complete lines of base64 characters, each ending in "\n" or "\r\n", none blank:
# from a line's start (after a "\n"; never after a lone "\r", which also ends a line) to
# a line's end. Shorter runs gain nothing from the join.
_MIN_LINES = 8
_RUN = re.compile(r"(?m)^(?:[A-Za-z0-9+/=]+\r?\n){" + str(_MIN_LINES) + ",}")
_LINE = re.compile(r"[A-Za-z0-9+/=]+\r?\n")


# Not in typeshed: the feedparser's own, undocumented line buffer.
_STDLIB_BUFFER: Any = email.feedparser.BufferedSubFile  # type: ignore[attr-defined]


class Base64Lines(_STDLIB_BUFFER):  # type: ignore[misc]
    def pushlines(self, lines: list[str]) -> None:
        queue = self._lines
        # A chunk of text or headers (most of them) is not searched for runs: the runs that
        # matter, an attachment's body over many chunks, cover the middle or the end of
        # each chunk they are in.
        if len(lines) < _MIN_LINES or not (_LINE.fullmatch(lines[len(lines) // 2])
                                           or _LINE.fullmatch(lines[-1])):
            queue.extend(lines)
            return
        block = "".join(lines)
        runs = [m.span() for m in _RUN.finditer(block)]
        if not runs:
            queue.extend(lines)
            return
        index = offset = 0  # the next line to queue, and where it starts in `block`
        for start, end in runs:
            while offset < start:  # the lines before the run, one by one
                queue.append(lines[index])
                offset += len(lines[index])
                index += 1
            queue.append(block[start:end])
            while offset < end:
                offset += len(lines[index])
                index += 1
        queue.extend(lines[index:])


def install() -> None:
    """Idempotent; affects the feedparser of this process only (FeedParser makes its
    buffer from the module's global name)."""
    namespace = vars(email.feedparser)
    if namespace["BufferedSubFile"] is not Base64Lines:
        namespace["BufferedSubFile"] = Base64Lines
