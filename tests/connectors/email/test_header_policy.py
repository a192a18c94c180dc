"""The reusing header policy parses like `policy.default` and really reuses its work."""

from __future__ import annotations

from email import message_from_bytes, policy

import pytest

from atende.connectors.email import mime

HEADERS = [
    ("Subject", "=?utf-8?q?Pedido_n=C3=A3o_chegou?="),
    ("From", "=?iso-8859-1?q?Jo=E3o?= <joao@example.com.br>"),
    ("To", "a@x.example, \"B, C\" <b@x.example>, undisclosed-recipients:;"),
    ("Content-Type", 'multipart/mixed; boundary="=-=-="'),
    ("Content-Disposition", "attachment; filename*=utf-8''relat%C3%B3rio.pdf"),
    ("Date", "Fri, 20 Nov 2026 14:30:00 -0300"),
    ("Date", "not a date at all"),
    ("From", "<<<@@@>>>"),
    ("Subject", "=?bogus-charset?b?////?="),
]


@pytest.mark.parametrize(("name", "value"), HEADERS)
def test_parses_like_policy_default(name: str, value: str) -> None:
    ours = mime.POLICY.header_fetch_parse(name, value)
    stdlib = policy.default.header_fetch_parse(name, value)
    assert str(ours) == str(stdlib)
    assert type(ours).__name__ == type(stdlib).__name__  # classes are built per registry
    assert [type(d) for d in ours.defects] == [type(d) for d in stdlib.defects]


def test_a_value_read_again_is_not_parsed_again() -> None:
    raw = (b"From: a@x.example\r\nContent-Type: text/plain; charset=utf-8\r\n"
           b"Subject: oi\r\n\r\nbody\r\n")
    msg = message_from_bytes(raw, policy=mime.POLICY)
    assert msg.get_content_type() == "text/plain"
    assert msg["Content-Type"] is msg["Content-Type"]
    long_value = "x" * (mime._CACHED_HEADER_CHARS + 1)
    assert str(mime.POLICY.header_fetch_parse("Subject", long_value)) == long_value
