"""A resolver for test names: `socket.getaddrinfo` answers the names it was told, one answer
per lookup (the last one repeated), and passes every other name to the real resolver. It
stands for a DNS server whose answer changes between lookups (DNS rebinding).

    dns = FakeDns().install(monkeypatch)
    dns.answer("rebind.test", "203.0.113.7", "127.0.0.1")  # first lookup, then the rest
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from typing import Any

import pytest


@dataclass
class FakeDns:
    answers: dict[str, list[str]] = field(default_factory=dict)
    lookups: list[str] = field(default_factory=list)

    def answer(self, name: str, *addresses: str) -> None:
        self.answers[name] = list(addresses)

    def install(self, monkeypatch: pytest.MonkeyPatch) -> FakeDns:
        real = socket.getaddrinfo

        def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
            name = host.decode() if isinstance(host, bytes) else host
            if name not in self.answers:
                return real(host, port, *args, **kwargs)
            self.lookups.append(name)
            queue = self.answers[name]
            address = queue.pop(0) if len(queue) > 1 else queue[0]
            if ":" in address:
                return [(socket.AF_INET6, socket.SOCK_STREAM, socket.IPPROTO_TCP, "",
                         (address, int(port or 0), 0, 0))]
            return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "",
                     (address, int(port or 0)))]

        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
        return self
