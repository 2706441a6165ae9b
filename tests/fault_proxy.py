"""A fault-injecting HTTP proxy on loopback, between the `http` adapter and a real store.

Each request to a path the plan covers takes the next planned fault (or a random one with
`chaos`); the rest pass through. Faults either never reach the store (`*_before`: the shop stores
nothing) or reach it and spoil the answer (`*_after`: the shop stored the order, the caller cannot
know). One connection per request, as the adapter makes them.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import struct
from collections import Counter, deque
from dataclasses import dataclass, field

import httpx

#: Every fault the proxy can inject.
FAULTS = (
    "500_before",
    "502_after",
    "503_before",
    "429_before",
    "slow_after",
    "hang_before",
    "hang_after",
    "reset_mid_body",
    "truncated_json",
)
ERROR_BODY = b'{"error": {"code": "injected", "message": "injected fault"}}'


@dataclass
class FaultProxy:
    """Forwards to `upstream`; `plan` and `chaos` choose the faults."""

    upstream: str
    slow_s: float = 0.0
    """Extra delay of every answer (a slow but healthy store)."""
    retry_after: str = "0"
    """Retry-After sent with 429 and 503."""
    hang_s: float = 30.0
    """How long a hang holds the connection (longer than any client timeout)."""
    slow_fault_s: float = 0.2
    """Delay a `slow_after` answer gets (slow, but within the client's timeout)."""
    paths: tuple[str, ...] = ("/orders", "/quote")
    """Path prefixes faults apply to."""
    injected: Counter[str] = field(default_factory=Counter)
    """Faults injected so far, by kind."""
    requests: Counter[str] = field(default_factory=Counter)
    """Requests received, by "METHOD /path"."""
    _plan: deque[str] = field(default_factory=deque)
    _chaos: tuple[float, random.Random] | None = None
    _server: asyncio.Server | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _client: httpx.AsyncClient | None = None

    def plan(self, *faults: str) -> None:
        """The next requests (on covered paths) get these faults, in order."""
        unknown = set(faults) - set(FAULTS)
        if unknown:
            raise ValueError(f"unknown faults {unknown}; known: {FAULTS}")
        self._plan.extend(faults)

    def chaos(self, rate: float, seed: int) -> None:
        """From now on a covered request gets a random fault with probability `rate`."""
        self._chaos = (rate, random.Random(seed))

    def calm(self) -> None:
        self._plan.clear()
        self._chaos = None

    async def start(self) -> str:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        if self._client is not None:
            await self._client.aclose()

    def _next_fault(self, path: str) -> str | None:
        if not path.startswith(self.paths):
            return None
        if self._plan:
            return self._plan.popleft()
        if self._chaos and self._chaos[1].random() < self._chaos[0]:
            return self._chaos[1].choice(FAULTS)
        return None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await self._exchange(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:  # the proxy is closing: drop the connection quietly
            pass
        finally:
            self._tasks.discard(task)
            with contextlib.suppress(Exception):
                writer.close()

    async def _exchange(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        request_line, *header_lines = head.decode("latin-1").split("\r\n")
        method, target, _ = request_line.split(" ", 2)
        headers = dict(line.split(": ", 1) for line in header_lines if ": " in line)
        length = int(next((v for k, v in headers.items() if k.lower() == "content-length"), "0"))
        body = await reader.readexactly(length) if length else b""
        self.requests[f"{method} {target.split('?')[0]}"] += 1
        fault = self._next_fault(target.split("?")[0])
        if fault:
            self.injected[fault] += 1
        if fault in ("500_before", "503_before", "429_before"):
            await _answer(writer, int(fault[:3]), ERROR_BODY, self.retry_after)
            return
        if fault == "hang_before":
            await asyncio.sleep(self.hang_s)
            return
        status, answer = await self._forward(method, target, headers, body)
        await asyncio.sleep(self.slow_s + (self.slow_fault_s if fault == "slow_after" else 0))
        if fault == "hang_after":
            await asyncio.sleep(self.hang_s)
        elif fault == "502_after":
            await _answer(writer, 502, ERROR_BODY)
        elif fault == "truncated_json":
            await _answer(writer, status, answer[: len(answer) // 2])
        elif fault == "reset_mid_body":
            await _reset_mid_body(writer, status, answer)
        else:
            await _answer(writer, status, answer)

    async def _forward(self, method: str, target: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        keep = {k: v for k, v in headers.items() if k.lower() in ("authorization", "content-type", "idempotency-key")}
        # One client for the proxy's life: making one per request (its TLS context alone) took long enough on
        # a loaded 2-core machine to push a fault-free call past the rig's 0.5 s client timeout.
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=60, trust_env=False)
        response = await self._client.request(method, self.upstream + target, headers=keep, content=body)
        return response.status_code, response.content


async def _answer(writer: asyncio.StreamWriter, status: int, body: bytes, retry_after: str | None = None) -> None:
    extra = f"Retry-After: {retry_after}\r\n" if retry_after is not None and status in (429, 503) else ""
    head = (
        f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        f"{extra}Connection: close\r\n\r\n"
    )
    writer.write(head.encode() + body)
    await writer.drain()


async def _reset_mid_body(writer: asyncio.StreamWriter, status: int, body: bytes) -> None:
    """Headers promise the whole body; half of it is sent, then the connection is reset (RST)."""
    head = f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    writer.write(head.encode() + body[: len(body) // 2])
    await writer.drain()
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()
