"""The feedparser's line buffer with base64 runs queued as blocks: the same parses."""

from __future__ import annotations

import email.feedparser
import random
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from io import StringIO

from hypothesis import given, settings
from hypothesis import strategies as st

from atende.connectors.email import base64_lines
from atende.connectors.email.inbound import parse
from tests.connectors.email import hostile
from tests.connectors.email.conftest import customer_mail

STDLIB_BUFFER = base64_lines.Base64Lines.__mro__[1]


@contextmanager
def stdlib_buffer() -> Iterator[None]:
    email.feedparser.BufferedSubFile = STDLIB_BUFFER  # type: ignore[attr-defined,misc]
    try:
        yield
    finally:
        base64_lines.install()


def shape(raw: bytes) -> str:
    msg = message_from_bytes(raw, policy=default)
    return repr([(part.get_content_type(), part.preamble, part.epilogue,
                  None if part.is_multipart() else part.get_payload(), part.defects)
                 for part in msg.walk()])


def assert_same_parse(raw: bytes) -> None:
    ours = shape(raw), parse(raw)
    with stdlib_buffer():
        theirs = shape(raw), parse(raw)
    assert ours[0] == theirs[0]
    assert ours[1] == theirs[1]


def with_attachment(size: int, *, linesep: str = "\n", seed: int = 0) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "Ana <ana@example.com>", "s@example.com", "oi"
    msg.set_content("texto\n" * 30)
    msg.add_alternative("<p>texto</p>", subtype="html")
    msg.add_attachment(random.Random(seed).randbytes(size), maintype="application",
                       subtype="pdf", filename="a.pdf")
    return msg.as_bytes(policy=default.clone(linesep=linesep))


def test_the_buffer_is_installed_and_queues_a_run_as_one_line() -> None:
    assert email.feedparser.BufferedSubFile is base64_lines.Base64Lines  # type: ignore[attr-defined]
    buffer = base64_lines.Base64Lines()
    head = ["Content-Type: application/pdf\r\n", "\r\n"]
    run = ["QUJD\r\n"] * 8
    buffer.push("".join([*head, *run, "--b--\r\n", "tail"]))
    buffer.close()
    assert list(buffer) == [*head, "".join(run), "--b--\r\n", "tail"]
    short = base64_lines.Base64Lines()
    short.push("QUJD\n" * 7)  # too short a run to gain anything: line by line
    short.close()
    assert list(short) == ["QUJD\n"] * 7


def test_mails_with_attachments_parse_as_with_the_stdlib_buffer() -> None:
    for size in (0, 1, 57, 600, 8 * 1024, 100 * 1024, 300 * 1024 + 7):
        for linesep in ("\n", "\r\n"):
            assert_same_parse(with_attachment(size, linesep=linesep, seed=size))


def test_the_hostile_corpus_parses_as_with_the_stdlib_buffer() -> None:
    mails = [*hostile.corpus().values(), customer_mail(), hostile.deep_multipart(),
             hostile.many_recipients(300)]
    for raw in mails:
        assert_same_parse(raw)


BASE64_LINE = st.text(alphabet="ABCabc019+/=", min_size=1, max_size=12)
OTHER_LINE = st.sampled_from(["", "--b", "--b--", "Content-Type: text/plain", "a b",
                              "ção", "-", " QUJD", "QUJD ", "=?x?=", "QUJD:"])
ENDS = st.sampled_from(["\n", "\r\n", "\r"])
# Runs of base64 lines, long and short, among other lines and line ends.
LINES = st.lists(st.one_of(
    st.lists(st.tuples(BASE64_LINE, st.sampled_from(["\n", "\r\n"])), max_size=40),
    st.lists(st.tuples(st.one_of(BASE64_LINE, OTHER_LINE), ENDS), max_size=4),
), max_size=12).map(lambda groups: [line for group in groups for line in group])


@settings(max_examples=300, deadline=None)
@given(LINES, st.integers(min_value=1, max_value=300))
def test_any_lines_in_any_chunks_read_back_the_same(lines: list[tuple[str, str]],
                                                    chunk: int) -> None:
    text = "".join(line + end for line, end in lines)
    ours, theirs = base64_lines.Base64Lines(), STDLIB_BUFFER()
    for buffer in (ours, theirs):
        for start in range(0, len(text), chunk):
            buffer.push(text[start:start + chunk])
        buffer.close()
    ours_lines, theirs_lines = list(ours), list(theirs)
    # Ours are the stdlib's lines with runs of base64 lines joined, and nothing else.
    split = [line for block in ours_lines for line in StringIO(block, newline="").readlines()]
    assert split == theirs_lines
    for block in ours_lines:
        if block.count("\n") > 1:
            assert base64_lines._RUN.fullmatch(block), block


@settings(max_examples=150, deadline=None)
@given(LINES, st.sampled_from(["\n", "\r\n"]))
def test_any_body_in_a_multipart_parses_the_same(lines: list[tuple[str, str]],
                                                 linesep: str) -> None:
    body = "".join(line + end for line, end in lines)
    raw = (f"Content-Type: multipart/mixed; boundary=b{linesep}{linesep}--b{linesep}"
           f"Content-Type: application/pdf{linesep}Content-Transfer-Encoding: base64"
           f"{linesep}{linesep}{body}{linesep}--b--{linesep}").encode("utf-8",
                                                                     "surrogateescape")
    assert_same_parse(raw)
