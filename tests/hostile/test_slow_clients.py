"""Slow-header clients (slowloris) do not stop anyone else being served."""

from __future__ import annotations

import socket
import time

import pytest
import requests

from tests.hostile.conftest import TOKEN, make_data_set

SLOW = 50
LEGITIMATE = 20


@pytest.mark.parametrize("app", ["read", "write"])
def test_fifty_slow_header_connections_do_not_block_twenty_requests(start, app):
    running = start(app)
    host, port = running.url.removeprefix("http://").split(":")
    slow = []
    try:
        for _ in range(SLOW):
            sock = socket.create_connection((host, int(port)), timeout=5)
            sock.sendall(b"GET /_status HTTP/1.1\r\nHost: x\r\nX-Slow: ")  # and never ends
            slow.append(sock)
        time.sleep(0.5)  # every slow connection has been accepted and is being read
        durations = []
        for _ in range(LEGITIMATE):
            began = time.monotonic()
            response = requests.get(f"{running.url}/_status", timeout=5)
            durations.append(time.monotonic() - began)
            assert response.status_code == 200
        assert max(durations) < 1, durations
    finally:
        for sock in slow:
            sock.close()


def test_a_client_that_stalls_mid_headers_is_cut_off(start):
    running = start("read")
    host, port = running.url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=30)
    sock.sendall(b"GET /_status HTTP/1.1\r\nHost: x\r\n")
    began = time.monotonic()
    try:
        while time.monotonic() - began < 25:
            sock.sendall(b"X")  # a trickle: one byte a second never completes a header
            time.sleep(1)
    except OSError:
        pass  # the server closed the connection
    else:
        assert sock.recv(1) == b"", "the server still holds a connection stalled for 25 s"
    assert time.monotonic() - began < 15  # HEADER_SECONDS (10 s) and a margin
    sock.close()


def test_a_body_that_stops_arriving_is_a_json_408(start):
    running = start("write")
    make_data_set(running.url)
    host, port = running.url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=30)
    sock.sendall(
        b"POST /data/hostile/hostile HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Authorization: Bearer " + TOKEN.encode() + b"\r\nContent-Length: 100\r\n\r\n[{"
    )
    began = time.monotonic()
    answer = b""
    while chunk := sock.recv(65536):
        answer += chunk
    sock.close()
    assert time.monotonic() - began < 15
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert b"The request body stopped arriving" in answer
