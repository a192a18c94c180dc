"""The feedparser's boundary matcher without a compile: the same matches as `re`."""

from __future__ import annotations

import email.feedparser
import re
import sys
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from atende.connectors.email import boundary
from atende.connectors.email.inbound import parse
from tests.connectors.email.conftest import customer_mail

pytestmark = pytest.mark.skipif(
    sys.version_info >= (3, 13),
    reason="boundary is installed only before 3.13, whose feedparser has gh-106628")


# What the feedparser builds (email/feedparser.py, `_parsegen`).
def _pattern(separator: str) -> str:
    return ('(?P<sep>' + re.escape(separator)
            + r')(?P<end>--)?(?P<ws>[ \t]*)(?P<linesep>\r\n|\r|\n)?$')


BOUNDARY_CHARS = st.text(alphabet=st.sampled_from(
    "abcAZ09'()+_,-./:=? \t.*[]\\^$|{}~\"ção\r\n"), min_size=1, max_size=12)
TAILS = st.lists(st.sampled_from(["--", "-", " ", "\t", "\r\n", "\n", "\r", "x", "--\n",
                                  "\r\r", "\n\n", ""]), max_size=4).map("".join)


@settings(max_examples=600, deadline=None)
@given(BOUNDARY_CHARS, st.text(max_size=3), TAILS, st.booleans())
def test_matches_as_the_compiled_pattern(raw: str, prefix: str, tail: str,
                                         same: bool) -> None:
    separator = "--" + raw
    pattern = _pattern(separator)
    expected = re.compile(pattern)
    ours = boundary.compile_pattern(pattern)
    line = (separator if same else prefix + separator[:-1]) + tail
    want, got = expected.match(line), ours.match(line)
    assert (want is None) == (got is None), line
    if want is not None and got is not None:
        for name in ("sep", "end", "ws", "linesep", 0, 1, 2, 3, 4):
            assert got.group(name) == want.group(name)


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab \r\n\t="), max_size=8))
def test_end_of_line_is_the_regex_search(text: str) -> None:
    want, got = re.compile(r"(\r\n|\r|\n)\Z").search(text), boundary.EndOfLine().search(text)
    assert (want is None) == (got is None)
    if want is not None and got is not None:
        assert got.group(0) == want.group(0) and got.group(1) == want.group(1)


def test_a_boundary_matcher_is_used_and_anything_else_is_compiled() -> None:
    assert isinstance(email.feedparser.re, boundary._FeedparserRe)
    assert isinstance(email.feedparser.NLCRE_eol, boundary.EndOfLine)
    assert email.feedparser.re.escape("a.b") == re.escape("a.b")
    assert isinstance(boundary.compile_pattern(_pattern("--abc=_1")), boundary.BoundaryMatcher)
    other = boundary.compile_pattern(r"(\r\n|\r|\n)")
    assert isinstance(other, re.Pattern)
    assert boundary.compile_pattern(_pattern("--x"), re.I).flags & re.I


def _shape(msg: object) -> object:
    parts = []
    for part in msg.walk():  # type: ignore[attr-defined]
        parts.append((part.get_content_type(), part.preamble, part.epilogue,
                      None if part.is_multipart() else part.get_payload(), part.defects))
    return parts


def _mails() -> list[bytes]:
    rich = EmailMessage()
    rich["From"], rich["To"], rich["Subject"] = "Ana <ana@example.com>", "s@example.com", "oi"
    rich.set_content("texto")
    rich.add_alternative("<p>texto</p>", subtype="html")
    rich.add_attachment(b"%PDF-1" * 300, maintype="application", subtype="pdf",
                        filename="a.pdf")
    return [customer_mail(), rich.as_bytes(),
            b"Content-Type: multipart/mixed; boundary=\"a.b*c\"\r\n\r\npre\r\n--a.b*c\r\n"
            b"Content-Type: text/plain\r\n\r\none\r\n--a.b*c  \r\n\r\ntwo\r\n--a.b*c--\r\nepi",
            b"Content-Type: multipart/mixed; boundary=x\n\n--x\n\nno end\n--xx\n--x-\n",
            b"Content-Type: multipart/mixed; boundary=y\r\n\r\n--y\r\n\r\na\r\r\n--y\r\n"
            b"Content-Type: multipart/alternative; boundary=z\r\n\r\n--z\r\n\r\nb\n\n--z--\r"
            b"\r\nafter z\r\n--y--"]


def test_parsed_messages_are_the_stdlibs() -> None:
    for raw in _mails():
        ours = (_shape(message_from_bytes(raw, policy=default)), parse(raw))
        email.feedparser.re = re  # type: ignore[attr-defined]
        email.feedparser.NLCRE_eol = re.compile(r"(\r\n|\r|\n)\Z")  # type: ignore[attr-defined]
        try:
            theirs = (_shape(message_from_bytes(raw, policy=default)), parse(raw))
        finally:
            boundary.install()
        assert repr(ours[0]) == repr(theirs[0])
        assert ours[1] == theirs[1]
