"""A TCP server on 127.0.0.1 that answers every connection with fixed bytes: another
service's banner where a mail or HTTP server was expected, or silence.

    with RawServer(b"SSH-2.0-OpenSSH_9.6\\r\\n", speaks_first=True) as server:
        ...  # connect to server.host, server.port
"""

from __future__ import annotations

import socket
import threading


class RawServer:
    def __init__(self, answer: bytes, *, host: str = "127.0.0.1", speaks_first: bool = False,
                 hold_seconds: float = 0.0) -> None:
        self.answer = answer
        self.speaks_first = speaks_first  # a greeting (mail) rather than an answer (HTTP)
        self.hold_seconds = hold_seconds  # keep the connection open this long after answering
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.sock.listen()
        self.connections = 0
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def host(self) -> str:
        return str(self.sock.getsockname()[0])

    @property
    def port(self) -> int:
        return int(self.sock.getsockname()[1])

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/hook"

    def _serve(self) -> None:
        self.sock.settimeout(0.05)  # a closed socket does not wake a blocked accept()
        while not self.stopped.is_set():
            try:
                conn, _addr = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            with conn:
                conn.settimeout(2)
                try:
                    if not self.speaks_first:
                        conn.recv(65536)
                    conn.sendall(self.answer)
                    self.stopped.wait(self.hold_seconds)
                except OSError:
                    pass

    def __enter__(self) -> RawServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped.set()
        self.thread.join(timeout=5)
        self.sock.close()
