"""A WebSocket peer that does not read cannot grow this side's memory, nor hold a send open forever.

websockets answers every ping with a pong, and a close frame with a close frame, as soon as it reads them:
written straight to the TCP transport whether or not the peer reads, so a peer that floods pings and never
reads grows this side's write buffer without limit (1M pings: +120 MB). And a send whose bytes the peer
does not read waits in websockets' ``drain`` forever.

Both sides of mbconform (the harness's client connection, the reference adapter's server connections) use
the connection classes here, which bound both:

- the write buffer: when the peer's data makes it grow past ``WRITE_BUFFER_BYTES`` (its replies pile up
  unread), the peer is dropped (the TCP connection aborted);
- a drain: it waits at most ``drain_seconds``, then the peer is dropped.

``dropped`` then says why the connection was dropped, for the message that ends the test (``websockets``
itself only knows "no close frame").
"""

from __future__ import annotations

import asyncio

from websockets.asyncio.client import ClientConnection
from websockets.asyncio.connection import Connection
from websockets.asyncio.server import ServerConnection

WRITE_BUFFER_BYTES = 1 << 20  # unread automatic replies (pongs, close frames) kept before the peer is dropped
DRAIN_SECONDS = 10.0  # the default wait for a peer to read what was sent (the harness uses its step timeout)


class PeerNotReading(Exception):
    """The peer did not read what was written to it; the connection was aborted."""


def _over_limit(connection: Connection, before: int) -> str | None:
    """Why the peer must be dropped after its data was read, if it must."""
    after = connection.transport.get_write_buffer_size()
    if after > WRITE_BUFFER_BYTES and after > before:
        return (
            f"the peer does not read: {after} bytes of replies to its frames (pongs) waited unread, over the "
            f"{WRITE_BUFFER_BYTES}-byte write buffer limit"
        )
    return None


class _Bounded(Connection):
    """What both sides add to websockets' connection."""

    drain_seconds = DRAIN_SECONDS
    dropped: str | None = None  # why this side dropped the peer

    def data_received(self, data: bytes) -> None:
        before = self.transport.get_write_buffer_size()
        super().data_received(data)
        reason = _over_limit(self, before)
        if reason is not None and self.dropped is None:
            self.dropped = reason
            self.transport.abort()

    async def drain(self) -> None:
        try:
            async with asyncio.timeout(self.drain_seconds):
                await super().drain()
        except TimeoutError:
            self.dropped = self.dropped or (
                f"the peer did not read what was sent within {self.drain_seconds:g}s "
                f"({self.transport.get_write_buffer_size()} bytes waited)"
            )
            raise PeerNotReading(self.dropped) from None


class BoundedClientConnection(_Bounded, ClientConnection):
    """The harness's connection to the adapter (``connect(create_connection=...)``)."""


class BoundedServerConnection(_Bounded, ServerConnection):
    """The reference adapter's connection to a media bar (``serve(create_connection=...)``)."""
