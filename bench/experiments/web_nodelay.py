"""`atende web` with uvicorn's listening socket created with proto=IPPROTO_TCP.

uvicorn 0.54's `Config.bind_socket()` (used with `--workers N > 1`) creates the listener
with proto 0; accepted sockets inherit it and asyncio only sets TCP_NODELAY when proto is
IPPROTO_TCP, so every keep-alive response waits on the client's delayed ACK (~40 ms on
Linux). Upstream: Kludex/uvicorn issue #3149. Run as `python -m bench.experiments.web_nodelay
web --workers 2 …` (the arguments of `atende`).
"""

import socket
import sys

import uvicorn.config

_bind_socket = uvicorn.config.Config.bind_socket


def bind_socket(self: uvicorn.config.Config) -> socket.socket:
    sock = _bind_socket(self)
    if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.proto == 0:
        return socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())
    return sock


uvicorn.config.Config.bind_socket = bind_socket  # type: ignore[method-assign]

if __name__ == "__main__":
    from atende.cli import main

    sys.exit(main(sys.argv[1:]))
