"""Gunicorn's thread worker, with a deadline on reading each request.

Gunicorn's ``gthread`` worker keeps idle keep-alive connections in a poller
(no thread held) and never kills a long streamed response, but a client
that sends half its headers and stalls holds a thread for as long as it
likes. Here every read of a request (headers and body) must make progress
within ``READ_IDLE_SECONDS`` and the headers must be complete within
``HEADER_SECONDS`` of the first byte being awaited; past either the
connection is closed, so slow or hostile clients cost a thread for seconds,
not forever. Responses are written under ``SEND_SECONDS`` per chunk.
"""

from __future__ import annotations

import socket
import time
from typing import Any

from gunicorn.workers.gthread import TConn, ThreadWorker  # type: ignore[import-untyped]

READ_IDLE_SECONDS = 10.0
HEADER_SECONDS = 10.0
# Writing a response: each chunk (``sendall``) may take this long, so a client
# that stops reading frees its thread, while a slow link still gets big bodies.
SEND_SECONDS = 120.0


class DeadlineSocket:
    """The socket a request is parsed from: each ``recv`` waits at most until
    the request's deadline (and ``READ_IDLE_SECONDS``)."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.deadline = time.monotonic() + HEADER_SECONDS

    def restart(self) -> None:
        self.deadline = time.monotonic() + HEADER_SECONDS

    def headers_done(self) -> None:
        self.deadline = float("inf")  # the body is bounded by the idle timeout only

    def recv(self, size: int) -> bytes:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("the request headers took too long")
        self.sock.settimeout(min(READ_IDLE_SECONDS, remaining))
        try:
            return self.sock.recv(size)
        finally:
            self.sock.settimeout(SEND_SECONDS)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.sock, name)


class DeadlineConn(TConn):
    def init(self) -> None:
        fresh = not self.initialized
        super().init()
        if fresh and not self.is_http2:
            self.parser.unreader.sock = DeadlineSocket(self.sock)


class Worker(ThreadWorker):
    """``gthread`` with bounded request reads (``worker_class`` in gunicorn_conf)."""

    def accept(self, listener: Any) -> None:
        try:
            client_sock, client_addr = listener.accept()
        except BlockingIOError:
            return
        except ConnectionAbortedError:
            return
        self.nr_conns += 1
        client_sock.setblocking(True)
        self.enqueue_req(DeadlineConn(self.cfg, client_sock, client_addr, listener.getsockname()))

    def handle(self, conn: Any) -> Any:
        reader = conn.parser.unreader.sock if conn.parser is not None else None
        if isinstance(reader, DeadlineSocket):
            reader.restart()  # a kept-alive connection starts its next request
        return super().handle(conn)

    def handle_request(self, req: Any, conn: Any) -> Any:
        reader = conn.parser.unreader.sock
        if isinstance(reader, DeadlineSocket):
            reader.headers_done()
        return super().handle_request(req, conn)
