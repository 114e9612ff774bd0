"""Fake inbox servers for the benchmarks: N HTTP sinks on loopback that answer 202 and count.

This is benchmark harness, not a web server: each sink is a bare `asyncio.Protocol` that parses just
enough HTTP/1.1 for what the worker sends (a request line, headers, a body of `Content-Length` bytes,
keep-alive, pipelining) and answers every POST with an empty `202 Accepted`. It does not check
signatures; the test suite does that against the fake Mastodon in tests/fakes/fediverse.py. It is this light
so that receiving steals as little as possible of the CPU the worker being measured needs (on a small
machine both share the same cores).

Run as a separate process:
    python tests/bench/receivers.py N   → prints one port per line, then "ready". GET /count on any
    port answers JSON: {"n": POSTs received by all sinks, "connections": connections accepted,
    "cpu": CPU seconds this process has used}.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys

received = {"n": 0, "connections": 0}

ACCEPTED = b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n"
BAD = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


class Sink(asyncio.Protocol):
    def __init__(self) -> None:
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        received["connections"] += 1

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
            length, close = 0, False
            for line in head[1:]:
                name, _, value = line.partition(":")
                name = name.strip().lower()
                if name == "content-length":
                    length = int(value)
                elif name == "connection":
                    close = value.strip().lower() == "close"
                elif name == "transfer-encoding":  # not sent by the worker; refuse rather than misparse
                    self._answer(BAD, close=True)
                    return
            if len(self.buffer) < end + 4 + length:
                return  # the rest of the body is still on its way
            del self.buffer[:end + 4 + length]
            method, _, rest = head[0].partition(" ")
            if method == "GET" and rest.startswith("/count "):
                cpu = os.times()
                body = json.dumps({**received, "cpu": cpu.user + cpu.system}).encode()
                self._answer(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
                             b"Connection: close\r\n\r\n%s" % (len(body), body), close=True)
                return
            received["n"] += method == "POST"
            self._answer(ACCEPTED, close=close)
            if close:
                return

    def _answer(self, response: bytes, *, close: bool) -> None:
        assert self.transport is not None
        self.transport.write(response)
        if close:
            self.transport.close()


async def main(servers: int) -> None:
    loop = asyncio.get_running_loop()
    running = [await loop.create_server(Sink, "127.0.0.1", 0) for _ in range(servers)]
    for server in running:
        print(server.sockets[0].getsockname()[1], flush=True)
    print("ready", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
