"""Running the ASGI app under uvicorn (`atende web`)."""

from __future__ import annotations

import os
import socket

import uvicorn
from uvicorn.supervisors import Multiprocess


class TcpConfig(uvicorn.Config):
    """uvicorn's Config with a listener that keeps TCP_NODELAY on accepted connections.

    uvicorn creates the shared listener of `--workers N` with proto 0; asyncio then never
    sets TCP_NODELAY on accepted sockets, and every keep-alive response waits for the
    client's delayed ACK (uvicorn issue #3149; measured in docs/benchmarks-history.md).
    """

    def bind_socket(self) -> socket.socket:
        sock = super().bind_socket()
        if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.proto == 0:
            sock = socket.socket(sock.family, sock.type, socket.IPPROTO_TCP,
                                 fileno=sock.detach())
            sock.set_inheritable(True)
        return sock


def config(host: str, port: int, workers: int = 1) -> TcpConfig:
    return TcpConfig(
        "atende.asgi:application",
        host=host,
        port=port,
        workers=workers,
        log_level=os.environ.get("ATENDE_UVICORN_LOG_LEVEL", "warning"),
        lifespan="off",
        # Forwarded headers are read by Django, from ATENDE_TRUSTED_PROXIES only
        # (atende.client_address): uvicorn's default trusts any peer on loopback.
        proxy_headers=False,
    )


def serve(host: str, port: int, workers: int) -> None:
    cfg = config(host, port, workers)
    if cfg.workers > 1:
        Multiprocess(cfg, sockets=[cfg.bind_socket()]).run()
    else:
        uvicorn.Server(cfg).run()


def listen(host: str, port: int) -> socket.socket:
    """The listener `serve_on` takes: bound by a supervisor once, so that a restarted web
    process serves on the same socket (and a port in use fails before anything starts)."""
    return config(host, port).bind_socket()


def serve_on(sock: socket.socket, host: str, port: int) -> None:
    """One uvicorn process on a listener from `listen`."""
    uvicorn.Server(config(host, port)).run(sockets=[sock])
