"""Hostile peers below the protocol, for ``test_hostile_transport*.py``: the timeouts their tests give, small
servers on 127.0.0.1 port 0 (raw TCP where the WebSocket handshake is hostile, websockets where the frames are)
and a raw WebSocket client that never reads."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import socket as net
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from websockets.asyncio.server import ServerConnection, serve

from harness.core.messages import encode
from harness.core.simulate import Platform
from harness.core.steps import Step
from harness.paths import default_profile
from harness.runner.flow import Flow, run_flow
from harness.runner.settings import Settings
from harness.spec.catalogue import Catalogue
from harness.suite import load_profile

CONNECT_TIMEOUT = 1.0
STEP_TIMEOUT = 1.0
MARGIN = 3.0  # a loaded machine (two test workers on two cores)
FLOOD_STEP_TIMEOUT = 15.0  # far longer than taking a ping flood until the drop (1 s idle, 5 s beside two CPU hogs)
HOSTILE_CLOSE = 0.3  # how long a hostile server's own close waits at the end of a test
ACTIVATE = Flow((Step("command", "channel.activate", "$channel"),))
PING = b"\x89\x7d" + b"p" * 125  # a server's ping (unmasked), the largest payload a control frame may carry
CLIENT_PING = b"\x89\xfd" + b"\0\0\0\0" + b"p" * 125  # a client's (masked with a zero key)


def settings_of(catalogue: Catalogue, **changes: Any) -> Settings:
    base = load_profile(default_profile(), catalogue).settings()
    return replace(base, **{"connect_timeout": CONNECT_TIMEOUT, "step_timeout": STEP_TIMEOUT, **changes})


def run(coroutine: Awaitable[Any], seconds: float = 20) -> Any:
    """Every test is bounded even if the harness were not: a hang fails the test, it never holds the run."""

    async def bounded() -> Any:
        return await asyncio.wait_for(coroutine, seconds)

    return asyncio.run(bounded())


async def timed_flow(url: str, catalogue: Catalogue, settings: Settings) -> tuple[Any, float]:
    started = time.monotonic()
    result = await run_flow(ACTIVATE, url=url, catalogue=catalogue, settings=settings)
    return result, time.monotonic() - started


def listening(rcvbuf: int | None = None) -> net.socket:
    """A loopback listening socket; ``rcvbuf``: a small receive buffer (a peer that reads little)."""
    sock = net.socket(net.AF_INET, net.SOCK_STREAM)
    if rcvbuf is not None:
        sock.setsockopt(net.SOL_SOCKET, net.SO_RCVBUF, rcvbuf)
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    sock.setblocking(False)
    return sock


class RawServer:
    """A raw TCP server: ``answer`` gets what the client sent before the blank line of its handshake and the
    writer; it records every connection and every request head it was sent."""

    def __init__(self, answer: Callable[[bytes, asyncio.StreamWriter], Awaitable[None]]) -> None:
        self.answer = answer
        self.connections = 0
        self.heads: list[bytes] = []
        self.server: asyncio.Server | None = None

    async def __aenter__(self) -> RawServer:
        self.server = await asyncio.start_server(self._handle, sock=listening())
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"ws://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            self.heads.append(head)
            await self.answer(head, writer)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
            pass
        finally:
            writer.close()


async def held(socket: ServerConnection) -> None:
    """Until the connection is gone: the hostile server's own close (at the test's end) aborts it after
    ``HOSTILE_CLOSE`` seconds."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(socket.wait_closed(), 60)


def hostile_server(
    handler: Callable[[ServerConnection], Awaitable[None]], rcvbuf: int | None = None, **options: Any
) -> Any:
    return serve(handler, sock=listening(rcvbuf), compression=None, close_timeout=HOSTILE_CLOSE, **options)


def startup_then(
    catalogue: Catalogue, after: Callable[[ServerConnection], Awaitable[None]]
) -> Callable[[ServerConnection], Awaitable[None]]:
    """A handler that starts the session correctly, then does ``after``."""

    async def handler(socket: ServerConnection) -> None:
        for event in Platform(catalogue).startup([{}], "S1"):
            await socket.send(encode(event))
        await after(socket)

    return handler


async def open_raw(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A WebSocket client by hand, with a small receive buffer: the handshake, then nothing is read."""
    sock = net.socket(net.AF_INET, net.SOCK_STREAM)
    sock.setsockopt(net.SOL_SOCKET, net.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
    reader, writer = await asyncio.open_connection(sock=sock)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        (
            f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    head = await reader.readuntil(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101")
    return reader, writer
