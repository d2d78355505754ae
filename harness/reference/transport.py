"""Transport faults: an adapter broken below the protocol, so the harness can prove it survives one.

A transport fault changes how a session's answers reach the media bar, not what they say: the answer is
the catalogue-driven one, then it is withheld, delayed, sent twice, re-addressed, cut, wrapped, padded,
dripped byte by byte or preceded by a flood, or the connection is dropped instead. Two act before any
session exists: ``refuse-connections`` (nothing accepts the TCP connection) and ``no-handshake`` (the
WebSocket handshake is never answered). They are selected with the same ``--fault`` switch (and ``?fault=``
session option) as the protocol faults; a fault that takes an amount is also a family (``flood:<count>``).

The reference adapter starts every session correctly (its start-up events are sent as they are); the faults
act on its answers to requests from then on.
"""

from __future__ import annotations

import asyncio
import json
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from websockets.asyncio.server import ServerConnection

from ..core.messages import encode

Message = dict[str, Any]
MEBIBYTE = 1 << 20


@dataclass(frozen=True)
class TransportFault:
    name: str  # the behaviour; a family member's full name is its Fault's
    description: str
    amount: float = 0.0  # events of a flood, bytes of a huge frame, seconds of a late answer or per byte dripped
    unit: str = ""  # what ``amount`` counts, for the family's listing

    def with_amount(self, text: str) -> TransportFault:
        """This behaviour with the amount of ``flood:<amount>`` and the like; ValueError if it is no positive
        number."""
        amount = float(text)
        if not amount > 0 or amount != amount or amount == float("inf"):
            raise ValueError(f"{self.name} needs a positive {self.unit}, got {text!r}")
        if self.unit in ("events", "bytes") and amount != int(amount):
            raise ValueError(f"{self.name} needs a whole number of {self.unit}, got {text!r}")
        return TransportFault(self.name, self.description, amount, self.unit)


TRANSPORT: dict[str, TransportFault] = {
    fault.name: fault
    for fault in (
        TransportFault("refuse-connections", "nothing accepts connections on the adapter's port (refused)"),
        TransportFault("no-handshake", "accepts the TCP connection and never answers the WebSocket handshake"),
        TransportFault("never-answers", "starts the session, then never answers a request"),
        TransportFault("late-answers", "answers every request, but only after a long pause", 6.0, "seconds"),
        TransportFault("close-clean", "closes the connection (close frame 1001) instead of answering"),
        TransportFault("close-abrupt", "drops the TCP connection without a close frame instead of answering"),
        TransportFault("not-json", "answers with a response cut short: a frame that is not JSON"),
        TransportFault("binary-frame", "answers with its response in a binary frame"),
        TransportFault("huge-frame", "pads its response to a huge text frame", 64 * MEBIBYTE, "bytes"),
        TransportFault("not-an-object", "answers with its response inside a JSON array"),
        TransportFault(
            "flood", "before its first answer, sends its last event again and again", 1_000_000, "events"
        ),
        TransportFault("drip", "sends its answers a byte at a time, slowly", 0.05, "seconds"),
        TransportFault("answers-twice", "sends every response twice"),
        TransportFault("answers-other", "answers with the command and target of the request before"),
        TransportFault("invalid-utf8", "answers with a text frame that is not valid UTF-8"),
        TransportFault("bad-framing", "answers with a text frame whose reserved bit RSV1 is set (no extension)"),
    )
}
BEFORE_SESSION = ("refuse-connections", "no-handshake")


class Delivery:
    """How one session's frames reach the media bar, through its transport faults (at most one acts)."""

    def __init__(
        self, socket: ServerConnection, faults: Sequence[TransportFault], events_first: bool = False
    ) -> None:
        self.socket = socket
        self.events_first = events_first  # a request's events before its response (ERRATA R2 allows both)
        self.fault = next((f for f in faults if f.name not in BEFORE_SESSION), None)
        self.last_event: Message | None = None
        self.previous: Mapping[str, Any] | None = None  # the request answered before
        self.flooded = False

    async def startup(self, events: Sequence[Message]) -> None:
        for event in events:
            await self._send(event)

    async def answer(self, request: Mapping[str, Any] | None, messages: Sequence[Message]) -> None:
        """Send the answer to one frame (the response first, then the events; or the events first), as the
        fault has it."""
        fault = self.fault
        response, events = (messages[0], list(messages[1:])) if messages else (None, [])
        name = fault.name if fault is not None and response is not None else ""
        previous, self.previous = self.previous, request
        if name == "never-answers":
            return
        if name == "late-answers":
            await asyncio.sleep(fault.amount if fault else 0)
        elif name == "close-clean":
            await self.socket.close(1001, "the adapter is going away (fault close-clean)")
            return
        elif name == "close-abrupt":
            self.socket.transport.abort()
            return
        elif name == "flood" and not self.flooded and fault is not None:
            self.flooded = True
            await self._flood(int(fault.amount))
        elif name == "drip" and fault is not None:
            await self._drip([encode(m).encode() for m in messages], fault.amount)
            return
        elif name == "bad-framing":
            self.socket.transport.write(_text_frame(encode(response).encode() if response else b"", rsv1=True))
            return
        if self.events_first:
            for event in events:
                await self._send(event)
        if response is not None:
            await self._respond(name, response, previous, fault)
        if not self.events_first:
            for event in events:
                await self._send(event)

    async def _respond(
        self, name: str, response: Message, previous: Mapping[str, Any] | None, fault: TransportFault | None
    ) -> None:
        text = encode(response)
        if name == "not-json":
            await self.socket.send(text[: max(1, len(text) // 2)])
        elif name == "binary-frame":
            await self.socket.send(text.encode())
        elif name == "not-an-object":
            await self.socket.send(encode([response]))  # type: ignore[arg-type]
        elif name == "invalid-utf8":
            raw = text.encode()
            await self.socket.send(raw[:-1] + b"\xff\xfe" + raw[-1:], text=True)
        elif name == "huge-frame" and fault is not None:
            padding = max(0, int(fault.amount) - len(text) - 14)
            await self.socket.send(f'{text[:-1]},"padding":"{"x" * padding}"}}')
        elif name == "answers-other":
            other = dict(previous) if previous is not None else {}
            command = other.get("command") if isinstance(other.get("command"), str) else response.get("command")
            target = other.get("target") if isinstance(other.get("target"), str) else None
            await self._send({**response, "command": command, "target": target or f"{response.get('target')}0"})
        elif name == "answers-twice":
            await self._send(response)
            await self._send(response)
        else:
            await self._send(response)

    async def _send(self, message: Message) -> None:
        if message.get("messageType") is not None:
            self.last_event = message
        await self.socket.send(encode(message))

    async def _flood(self, count: int) -> None:
        """``count`` copies of the last event sent (an adapter stuck relaying one platform notification); a
        media bar that stops reading slows it down, one that closes the connection ends it."""
        if self.last_event is None:
            return
        text = encode(self.last_event)
        for _ in range(count):
            await self.socket.send(text)

    async def _drip(self, frames: list[bytes], seconds: float) -> None:
        """Each frame written a byte at a time, ``seconds`` apart, below websockets (a server frame is not
        masked: RFC 6455 §5.2); stops when the connection closes."""
        transport = self.socket.transport
        for payload in frames:
            for byte in _text_frame(payload):
                if transport.is_closing():
                    return
                transport.write(bytes((byte,)))
                await asyncio.sleep(seconds)


def _text_frame(payload: bytes, rsv1: bool = False) -> bytes:
    """One final, unmasked text frame (RFC 6455 §5.2); ``rsv1``: with the first reserved bit set, which only a
    negotiated extension may use."""
    first = 0x81 | (0x40 if rsv1 else 0)
    size = len(payload)
    if size < 126:
        header = struct.pack("!BB", first, size)
    elif size < 1 << 16:
        header = struct.pack("!BBH", first, 126, size)
    else:
        header = struct.pack("!BBQ", first, 127, size)
    return header + payload


def request_of(frame: str | bytes) -> dict[str, Any] | None:
    """The frame as a JSON object, if it is one."""
    try:
        value = json.loads(frame)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None
