"""The destinations issue 16 found accepted, with the words the refusal must contain: shared
by the tests of every place a URL is saved (REST API, settings screens)."""

from __future__ import annotations

REFUSED_URLS: list[tuple[str, str]] = [
    ("http://127.0.0.1:8000/hook", "loopback"),
    ("http://[::1]/hook", "loopback"),
    ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("http://0x7f.0.0.1/hook", "unusual form"),
    ("http://2130706433/hook", "unusual form"),
    ("http://[::ffff:127.0.0.1]/hook", "loopback"),
    ("http://[64:ff9b::a9fe:a9fe]/hook", "link-local"),
    ("http://[::1/x", "not a valid URL"),
    ("http://hooks.example.com/a\r\nX-Injected: 1", "control characters"),
]
