"""The reference adapter (``mbconform serve``) against a hostile media bar below the protocol (issue 15,
defect 6's pongs): a client that floods pings and never reads, one that never reads its frames, one that grows a
session's objects; and the legal variant, an adapter that pings a lot, is not dropped by the harness."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hostile.transport import CLIENT_PING, PING, open_raw, run, settings_of, timed_flow
from websockets.asyncio.client import connect
from websockets.asyncio.server import Server, ServerConnection
from websockets.exceptions import ConnectionClosed

from harness.core.backpressure import WRITE_BUFFER_BYTES, BoundedServerConnection
from harness.core.messages import encode
from harness.core.violations import Verdict
from harness.reference.faults import parse_fault
from harness.reference.server import MAX_SESSION_OBJECTS, ReferenceAdapter
from harness.spec.catalogue import Catalogue

pytestmark = pytest.mark.selftest


def test_the_reference_adapter_drops_a_client_that_floods_pings_and_never_reads(catalogue: Catalogue) -> None:
    """Defect 6 in ``mbconform serve``: its unread pongs stay under the write buffer limit (plus one read's
    worth of replies), and the client is dropped; measured on the server's own transport, not by timing."""
    adapter = ReferenceAdapter(catalogue)
    biggest = 0

    async def scenario() -> ServerConnection:
        nonlocal biggest
        server = await adapter.serve("127.0.0.1", 0)
        assert isinstance(server, Server)
        async with server:
            _reader, writer = await open_raw(server.sockets[0].getsockname()[1])
            for _ in range(100):  # 100 MB of pings at most
                if not server.connections:
                    break
                (connection,) = server.connections
                biggest = max(biggest, connection.transport.get_write_buffer_size())
                try:
                    writer.write(CLIENT_PING * 8000)
                    await asyncio.wait_for(writer.drain(), 10)
                except (OSError, TimeoutError):
                    break
            writer.close()
            return connection

    connection = run(scenario(), 60)
    assert biggest <= WRITE_BUFFER_BYTES + (1 << 20)
    assert isinstance(connection, BoundedServerConnection)
    assert connection.dropped is not None and "does not read" in connection.dropped


def test_the_reference_adapter_drops_a_client_that_never_reads_its_frames(catalogue: Catalogue) -> None:
    """A 16 MiB answer (fault ``huge-frame``, more than the loopback's socket buffers hold) to a media bar that
    sends a request and never reads: the adapter's send waits at most its ``send_timeout``, then it drops the
    client."""
    adapter = ReferenceAdapter(catalogue, faults=[parse_fault("huge-frame:16777216", catalogue)], send_timeout=1.0)

    async def scenario() -> ServerConnection:
        server = await adapter.serve("127.0.0.1", 0)
        assert isinstance(server, Server)
        async with server:
            _reader, writer = await open_raw(server.sockets[0].getsockname()[1])
            (connection,) = server.connections
            request = encode({"command": "channel.activate", "target": "S1.chan1", "data": {}}).encode()
            writer.write(b"\x81" + bytes((0x80 | len(request),)) + b"\0\0\0\0" + request)
            await writer.drain()
            await asyncio.wait_for(connection.wait_closed(), 20)
            writer.close()
            return connection

    connection = run(scenario(), 30)
    assert isinstance(connection, BoundedServerConnection)
    assert connection.dropped is not None and "did not read what was sent within 1s" in connection.dropped


def test_the_reference_adapter_closes_a_session_that_grows_past_its_object_limit(catalogue: Catalogue) -> None:
    """Each ``session.addchannelgroup`` adds a group and its channels: past ``MAX_SESSION_OBJECTS`` live objects
    the session is closed (1008, saying why), so a client cannot grow one session's state without limit."""
    adapter = ReferenceAdapter(catalogue)
    example = catalogue.commands["session.addchannelgroup"].example_for(catalogue.default_platform)
    request = encode({"command": "session.addchannelgroup", "target": "S1", "data": dict(example)})

    async def scenario() -> str:
        server = await adapter.serve("127.0.0.1", 0)
        assert isinstance(server, Server)
        async with server, connect(f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}") as client:
            for _ in range(MAX_SESSION_OBJECTS):  # each adds at least one object
                await client.send(request)
            try:
                for _ in range(MAX_SESSION_OBJECTS * 20):
                    await asyncio.wait_for(client.recv(), 10)
            except ConnectionClosed as exc:
                return str(exc)
            return "not closed"

    said = run(scenario(), 60)
    assert "1008" in said and f"over {MAX_SESSION_OBJECTS} live objects" in said
    assert not adapter.live


class Pinging(ReferenceAdapter):
    """The legal variant: an adapter that pings the media bar 20,000 times (2.5 MB) and reads its pongs."""

    async def handler(self, socket: ServerConnection) -> None:
        for _ in range(20):
            socket.transport.write(PING * 1000)
            await socket.drain()
        await super().handler(socket)


def test_an_adapter_that_pings_a_lot_and_reads_is_not_dropped(catalogue: Catalogue) -> None:
    adapter = Pinging(catalogue)

    async def scenario() -> Any:
        server = await adapter.serve("127.0.0.1", 0)
        async with server:
            url = f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}"
            result, _ = await timed_flow(url, catalogue, settings_of(catalogue, step_timeout=5.0))
            return result

    result = run(scenario(), 30)
    assert result.verdict is Verdict.PASS, result.reason
