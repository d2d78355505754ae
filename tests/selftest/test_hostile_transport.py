"""Hostile peers below the protocol (issue 15, defects 1, 3 and 6's pongs): every wait of the harness has a
deadline, the handshake never leaves the address given, and neither side's write buffer grows without limit.

The hostile adapters here are small servers on 127.0.0.1 port 0: raw asyncio TCP servers where the WebSocket
layer itself is hostile (a handshake never answered, answered a byte at a time, redirected), websockets
servers where the frames are (a flood of pings, a close never answered). Each test asserts the verdict a slow
machine gives too: a bound is the profile's own timeouts plus ``MARGIN``, and a test that needs work done in
time (parsing a ping flood) gives it a step timeout far longer than that work takes on an idle machine.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

import pytest
from hostile.transport import (
    CONNECT_TIMEOUT,
    FLOOD_STEP_TIMEOUT,
    MARGIN,
    PING,
    STEP_TIMEOUT,
    RawServer,
    held,
    hostile_server,
    run,
    settings_of,
    startup_then,
    timed_flow,
)
from websockets.asyncio.server import ServerConnection
from websockets.http11 import Request as HttpRequest
from websockets.http11 import Response as HttpResponse

from harness.core.messages import encode
from harness.core.simulate import Platform
from harness.core.violations import Category, Verdict
from harness.paths import default_profile
from harness.reference.server import ReferenceAdapter
from harness.runner.connection import CLOSE_SECONDS, Connection
from harness.runner.transport import SHOWN_CHARS, Transport
from harness.spec.catalogue import Catalogue
from harness.suite import load_profile

pytestmark = pytest.mark.selftest

SECRET = "X-Secret", "s3cret-header-value"


async def silence(head: bytes, writer: asyncio.StreamWriter) -> None:
    await asyncio.sleep(10)  # the TCP connection accepted, the handshake never answered


async def drip(head: bytes, writer: asyncio.StreamWriter) -> None:
    """The 101 answer a byte at a time, 0.2 s apart: it would take about 30 s."""
    for byte in b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"[:50]:
        writer.write(bytes((byte,)))
        await writer.drain()
        await asyncio.sleep(0.2)


def redirect_to(location: str, status: int = 302) -> Callable[[bytes, asyncio.StreamWriter], Awaitable[None]]:
    async def answer(head: bytes, writer: asyncio.StreamWriter) -> None:
        answer = f"HTTP/1.1 {status} Found\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n"
        writer.write(answer.encode("latin-1"))  # a header's bytes over 0x7f are allowed (RFC 9110 obs-text)
        await writer.drain()

    return answer


# -- the handshake --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("answer", [silence, drip], ids=["accepts-then-silent", "handshake-drips"])
def test_a_handshake_never_completed_ends_in_error_within_the_connect_timeout(
    catalogue: Catalogue, answer: Callable[[bytes, asyncio.StreamWriter], Awaitable[None]]
) -> None:
    async def scenario() -> tuple[Any, float]:
        async with RawServer(answer) as server:
            return await timed_flow(server.url, catalogue, settings_of(catalogue))

    result, took = run(scenario())
    assert result.verdict is Verdict.ERROR
    assert "handshake" in result.reason and f"within {CONNECT_TIMEOUT:g}s" in result.reason
    assert took < CONNECT_TIMEOUT + MARGIN


def answering(raw: bytes) -> Callable[[bytes, asyncio.StreamWriter], Awaitable[None]]:
    async def answer(head: bytes, writer: asyncio.StreamWriter) -> None:
        writer.write(raw)
        await writer.drain()
        await asyncio.sleep(10)  # and holds the connection

    return answer


UPGRADE = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
ODD_HANDSHAKES = {
    "wrong-accept-key": UPGRADE + b"Sec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n",
    "thousands-of-headers": UPGRADE + b"X-Pad: x\r\n" * 5000 + b"\r\n",
    "esc-in-status-line": b"HTTP/1.1 401 \x1b[2JCERTIFIED\r\nContent-Length: 0\r\n\r\n",
    "c1-csi-long-status-line": b"HTTP/1.1 401 \x9b2JCERTIFIED" + b"!" * 3000 + b"\r\nContent-Length: 0\r\n\r\n",
    "endless-body": b"HTTP/1.1 200 OK\r\nContent-Length: 999999999\r\n\r\n" + b"x" * 100000,
    "not-http": b"\x00\xff" * 5000,
}


@pytest.mark.parametrize("raw", ODD_HANDSHAKES.values(), ids=ODD_HANDSHAKES.keys())
def test_an_odd_handshake_answer_ends_in_error_shown_bounded_and_escaped(catalogue: Catalogue, raw: bytes) -> None:
    async def scenario() -> tuple[Any, float]:
        async with RawServer(answering(raw)) as server:
            return await timed_flow(server.url, catalogue, settings_of(catalogue))

    result, took = run(scenario())
    assert result.verdict is Verdict.ERROR
    # refused at once (a wrong accept key), or the handshake deadline (websockets waits for the server to close
    # the TCP connection after an answer it cannot use, and this one holds it)
    assert result.reason.startswith(("cannot connect to ws://127.0.0.1:", "connecting to ws://127.0.0.1:"))
    assert result.reason.isprintable() and len(result.reason) < SHOWN_CHARS + 600
    assert took < CONNECT_TIMEOUT + MARGIN


@pytest.mark.parametrize("status", [301, 302, 307])
def test_a_redirect_is_an_error_that_says_where_and_the_other_host_is_never_contacted(
    catalogue: Catalogue, status: int
) -> None:
    async def scenario() -> tuple[Any, RawServer, str]:
        async with RawServer(silence) as elsewhere, RawServer(redirect_to(elsewhere.url, status)) as adapter:
            settings = settings_of(catalogue, transport=Transport(headers=(SECRET,)))
            result, _ = await timed_flow(adapter.url, catalogue, settings)
            assert adapter.connections == 1 and SECRET[1].encode() in adapter.heads[0]
            return result, elsewhere, elsewhere.url

    result, elsewhere, where = run(scenario())
    assert result.verdict is Verdict.ERROR
    assert f"HTTP {status}, a redirect to {where!r}" in result.reason
    assert "follow_redirects" in result.reason
    assert elsewhere.connections == 0  # not even a TCP connection, so certainly not the secret


@pytest.mark.parametrize("follow", [False, True], ids=["refused", "followed"])
def test_a_redirect_to_no_websocket_address_is_an_error_shown_escaped(catalogue: Catalogue, follow: bool) -> None:
    location = "http://127.0.0.1:1/\x9b2J" + "x" * 3000

    async def scenario() -> Any:
        async with RawServer(redirect_to(location)) as adapter:
            settings = settings_of(catalogue, transport=Transport(follow_redirects=follow))
            result, _ = await timed_flow(adapter.url, catalogue, settings)
            return result

    result = run(scenario())
    assert result.verdict is Verdict.ERROR
    assert ("a redirect to 'http://127.0.0.1:1/\\x9b2J" in result.reason) is not follow
    assert ("not a WebSocket address: 'http://127.0.0.1:1/\\x9b2J" in result.reason) is follow
    assert result.reason.isprintable() and len(result.reason) < SHOWN_CHARS + 600


def test_a_redirect_target_is_shown_cut_and_escaped(catalogue: Catalogue) -> None:
    location = "ws://127.0.0.1:1/" + "\x9b2J" + "x" * 5000  # a terminal's 8-bit CSI (clear the screen), long

    async def scenario() -> Any:
        async with RawServer(redirect_to(location)) as adapter:
            result, _ = await timed_flow(adapter.url, catalogue, settings_of(catalogue))
            return result

    result = run(scenario())
    assert result.verdict is Verdict.ERROR
    assert "\x9b" not in result.reason and "\\x9b2J" in result.reason
    assert len(result.reason) < SHOWN_CHARS + 600


class Recording(ReferenceAdapter):
    """The reference adapter, recording the headers of every handshake it is sent."""

    seen: list[dict[str, str]]

    async def process_request(self, connection: ServerConnection, request: HttpRequest) -> HttpResponse | None:
        self.seen.append({name.lower(): value for name, value in request.headers.raw_items()})
        return await super().process_request(connection, request)


def test_a_followed_redirect_to_another_origin_goes_without_the_headers(catalogue: Catalogue) -> None:
    """The legal variant: the profile asks to follow redirects; the test passes against the adapter redirected
    to, which never sees the secret header (another origin: another port)."""
    adapter = Recording(catalogue)
    adapter.seen = []

    async def scenario() -> Any:
        server = await adapter.serve("127.0.0.1", 0)
        async with server:
            target = f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}/"
            async with RawServer(redirect_to(target, 307)) as front:
                transport = Transport(headers=(SECRET,), follow_redirects=True)
                result, _ = await timed_flow(front.url, catalogue, settings_of(catalogue, transport=transport))
                assert front.connections == 1 and SECRET[1].encode() in front.heads[0]
                return result

    result = run(scenario())
    assert result.verdict is Verdict.PASS, result.reason
    assert len(adapter.seen) == 1
    assert SECRET[0].lower() not in adapter.seen[0]
    assert all(SECRET[1] not in value for value in adapter.seen[0].values())


def test_a_followed_redirect_on_the_same_origin_keeps_the_headers(catalogue: Catalogue) -> None:
    """The other legal variant: a redirect to another path of the same host and port keeps the headers."""
    seen: list[tuple[str, str | None]] = []

    async def process_request(connection: ServerConnection, request: HttpRequest) -> HttpResponse | None:
        seen.append((request.path, request.headers.get(SECRET[0])))
        if request.path == "/":
            response = connection.respond(HTTPStatus.FOUND, "")
            response.headers["Location"] = "/mediabar"
            return response
        return None

    async def scenario() -> None:
        handler = startup_then(catalogue, held)
        async with hostile_server(handler, process_request=process_request) as server:
            url = f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}/"
            transport = Transport(headers=(SECRET,), follow_redirects=True)
            connection = await Connection.for_settings(
                url, settings_of(catalogue, transport=transport), lambda e: None
            )
            await connection.close()

    run(scenario())
    assert seen == [("/", SECRET[1]), ("/mediabar", SECRET[1])]


def test_a_profile_may_ask_to_follow_redirects(catalogue: Catalogue, tmp_path: Any) -> None:
    profile = tmp_path / "redirected.yaml"
    text = default_profile().read_text(encoding="utf-8")
    profile.write_text(text + "\nconnection:\n  follow_redirects: true\n", encoding="utf-8")
    assert load_profile(profile, catalogue).settings().transport.follow_redirects
    assert not load_profile(default_profile(), catalogue).settings().transport.follow_redirects


# -- frames: a peer that does not read, a close never answered -----------------------------------------------


async def flood_pings_never_read(socket: ServerConnection) -> None:
    """Stop reading, then flood pings (written below websockets, as fast as the harness takes them): at most
    400,000 (51 MB), until the harness drops the connection."""
    socket.transport.pause_reading()
    for _ in range(400):
        if socket.transport.is_closing():
            return
        socket.transport.write(PING * 1000)
        await asyncio.sleep(0.005)
    await held(socket)


def test_a_ping_flood_from_an_adapter_that_never_reads_ends_in_error(catalogue: Catalogue) -> None:
    """Defect 1 and 6: the pongs pile up unread; the harness drops the adapter when they pass the write buffer
    limit, or when a send is not read within the step timeout, whichever comes first: error, never a hang.
    The step timeout (15 s) is far longer than answering the flood takes (1 s idle, 5 s beside two CPU hogs)."""
    settings = settings_of(catalogue, step_timeout=FLOOD_STEP_TIMEOUT)

    async def scenario() -> tuple[Any, float]:
        async with hostile_server(startup_then(catalogue, flood_pings_never_read), 4096) as server:
            port = server.sockets[0].getsockname()[1]
            return await timed_flow(f"ws://127.0.0.1:{port}", catalogue, settings)

    result, took = run(scenario(), 40)
    assert result.verdict is Verdict.ERROR, result.reason
    assert "dropped the connection" in result.reason
    assert "does not read" in result.reason or "did not read" in result.reason
    assert [v.category for _, v in result.violations] == [Category.CONNECTION_LOST]
    assert took < CONNECT_TIMEOUT + settings.step_timeout + CLOSE_SECONDS + MARGIN


def flood_before_ready(catalogue: Catalogue) -> Callable[[ServerConnection], Awaitable[None]]:
    """The start-up's events but the ready event; then stop reading and flood pings (at most 150,000: 19 MB)
    until the harness has taken them all; then the ready event: the harness's first send comes after the flood
    (defect 1 as measured: that send waited in websockets' drain forever)."""

    async def handler(socket: ServerConnection) -> None:
        *events, ready = Platform(catalogue).startup([{}], "S1")
        for event in events:
            await socket.send(encode(event))
        socket.transport.pause_reading()
        for _ in range(150):
            if socket.transport.is_closing():
                return
            socket.transport.write(PING * 1000)
            await asyncio.sleep(0)
        for _ in range(3000):  # until the harness read every ping (at most 30 s)
            if socket.transport.is_closing() or not socket.transport.get_write_buffer_size():
                break
            await asyncio.sleep(0.01)
        if not socket.transport.is_closing():
            await socket.send(encode(ready))
        await held(socket)

    return handler


def test_a_send_after_a_ping_flood_from_an_adapter_that_never_reads_ends_in_error(catalogue: Catalogue) -> None:
    """Defect 1 as reported: the harness is dropped from the flood (its pongs pass the write buffer limit), so
    the session never starts and its send never waits: error, within the step timeout."""
    settings = settings_of(catalogue, step_timeout=FLOOD_STEP_TIMEOUT)

    async def scenario() -> tuple[Any, float]:
        async with hostile_server(flood_before_ready(catalogue), 4096) as server:
            port = server.sockets[0].getsockname()[1]
            return await timed_flow(f"ws://127.0.0.1:{port}", catalogue, settings)

    result, took = run(scenario(), 40)
    assert result.verdict is Verdict.ERROR, result.reason
    assert "dropped the connection" in result.reason and "does not read" in result.reason
    assert took < CONNECT_TIMEOUT + settings.step_timeout + CLOSE_SECONDS + MARGIN


async def endless_fragments(socket: ServerConnection) -> None:
    """Answers each request with a text message that never ends: a first fragment, then a one-byte
    continuation frame every 50 ms (at most 400)."""
    async for _ in socket:
        socket.transport.write(b"\x01\x01{")  # text, FIN clear
        for _ in range(400):
            if socket.transport.is_closing():
                return
            socket.transport.write(b"\x00\x01 ")  # continuation, FIN clear
            await asyncio.sleep(0.05)


def test_a_message_that_never_ends_fails_within_the_step_timeout(catalogue: Catalogue) -> None:
    settings = settings_of(catalogue)

    async def scenario() -> tuple[Any, float]:
        async with hostile_server(startup_then(catalogue, endless_fragments)) as server:
            return await timed_flow(f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}", catalogue, settings)

    result, took = run(scenario())
    assert result.verdict is Verdict.FAIL
    assert [v.category for _, v in result.violations] == [Category.TIMEOUT]
    assert took < CONNECT_TIMEOUT + STEP_TIMEOUT + CLOSE_SECONDS + MARGIN


async def never_read(socket: ServerConnection) -> None:
    socket.transport.pause_reading()
    await held(socket)


def test_a_send_the_adapter_never_reads_ends_in_error_within_the_step_timeout(catalogue: Catalogue) -> None:
    """An adapter that stops reading (its receive window closes): the harness's send waits at most the step
    timeout, then the test ends in error naming the send. The request is padded to 8 MiB so that it cannot
    fit in the loopback's socket buffers."""
    settings = settings_of(catalogue)

    async def scenario() -> tuple[Any, float]:
        async with hostile_server(startup_then(catalogue, never_read), 4096) as server:
            connection = await Connection.for_settings(
                f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}", settings, lambda event: None
            )
            started = time.monotonic()
            try:
                await connection.send({"command": "channel.activate", "target": "S1.x", "data": "x" * (8 << 20)})
            except Exception as exc:  # the verdict's exception, checked below
                return exc, time.monotonic() - started
            finally:
                await connection.close()
            return None, time.monotonic() - started

    raised, took = run(scenario())
    assert type(raised).__name__ == "ConnectionLost"
    assert str(raised).startswith("sending channel.activate on S1.x: nothing more within 1s")
    assert "did not read" in str(raised)
    assert took < STEP_TIMEOUT + MARGIN


async def never_close(socket: ServerConnection) -> None:
    """Stops reading (the close frame is never read, so never answered), holds the TCP connection open."""
    socket.transport.pause_reading()
    await held(socket)


def test_a_close_handshake_never_answered_is_cut_short(catalogue: Catalogue) -> None:
    async def scenario() -> float:
        async with hostile_server(startup_then(catalogue, never_close)) as server:
            connection = await Connection.for_settings(
                f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}", settings_of(catalogue), lambda e: None
            )
            started = time.monotonic()
            await connection.close()
            return time.monotonic() - started

    took = run(scenario())
    assert took < CLOSE_SECONDS + MARGIN
