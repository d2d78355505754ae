"""The WebSocket connection to the IUT: sends and receives frames, keeps the transcript.

Memory is bounded whatever the IUT sends: websockets enforces the frame size limit (``max_size``) and its
own receive queue (``max_queue``); the transcript keeps at most ``transcript_frames`` frames and at most
``TRANSCRIPT_FRAME_CHARS`` characters of each; replies websockets writes by itself (pongs) that the IUT does
not read are bounded by ``core.backpressure`` (the IUT is dropped past 1 MiB).

Every wait has a deadline: the handshake the connect timeout (redirects included), a send the step timeout
(:meth:`Connection._send`, the one place frames are sent), a receive its step's deadline, closing
``CLOSE_SECONDS`` (then the TCP connection is aborted).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI
from websockets.frames import CloseCode
from websockets.typing import Subprotocol

from ..core.backpressure import BoundedClientConnection
from ..core.messages import Event, Malformed, Message, Request, Response, classify, encode
from ..core.redact import Redactor
from ..core.runevents import FrameReceived, FrameSent, Listener
from ..core.shown import shown as escaped
from ..core.violations import Category
from .deadline import Deadline, StepTimeout, within
from .settings import Settings
from .transport import Handshake, Transport, TransportError, explain_failure

TRANSCRIPT_FRAME_CHARS = 16384  # of one frame
TRANSCRIPT_CHARS = 4_000_000  # of the whole transcript: older frames go first
SEND_SECONDS = 5.0  # a send's deadline where no step timeout is given
CLOSE_SECONDS = 1.0  # a close handshake the IUT does not finish is cut short (the TCP connection aborted)


class ConnectionLost(Exception):
    """The IUT closed the connection, or it could not be opened, or the harness had to close it.

    ``category`` says how the flow ends: a lost connection is an error (the test could not be judged), but
    a text frame that is not UTF-8 breaks RFC 6455 and is the IUT's malformed frame (a failure).
    """

    def __init__(self, message: str, category: Category = Category.CONNECTION_LOST) -> None:
        super().__init__(message)
        self.category = category


def _lost(exc: ConnectionClosed, socket: ClientConnection) -> ConnectionLost:
    dropped = getattr(socket, "dropped", None)
    if isinstance(dropped, str):
        return ConnectionLost(f"the harness dropped the connection: {dropped.replace('the peer', 'the adapter')}")
    sent = exc.sent
    if sent is not None and sent.code == CloseCode.INVALID_DATA:
        return ConnectionLost(
            f"the adapter sent a text frame that is not valid UTF-8 ({sent.reason}); RFC 6455 §8.1 makes the "
            f"media bar close the connection (code 1007)",
            Category.MALFORMED_FRAME,
        )
    if sent is not None and sent.code == CloseCode.PROTOCOL_ERROR:
        return ConnectionLost(
            f"the adapter broke the WebSocket framing ({sent.reason}); RFC 6455 §5 makes the media bar close the "
            f"connection (code 1002)",
            Category.MALFORMED_FRAME,
        )
    if sent is not None and sent.code == CloseCode.MESSAGE_TOO_BIG:
        return ConnectionLost(
            f"the harness closed the connection: the adapter sent a frame larger than the profile's "
            f"limits.max_frame_bytes ({sent.reason}); raise the limit if frames that large are intended"
        )
    return ConnectionLost(f"the IUT closed the connection ({_close_reason(exc)})")


@dataclass(frozen=True)
class TranscriptEntry:
    at: float  # seconds since the connection opened
    direction: str  # ">" sent by the harness, "<" received from the IUT
    text: str


class Transcript:
    def __init__(self, limit: int, redactor: Redactor | None = None) -> None:
        self.limit = limit
        self.redactor = redactor or Redactor()
        self.entries: deque[TranscriptEntry] = deque()
        self.chars = 0
        self.total = 0
        self.started = time.monotonic()

    def add(self, direction: str, text: str) -> str:
        """Record a frame; returns it as recorded (redacted), for the run event that shows it."""
        self.total += 1
        text = self.redactor.frame(text, learn=direction == ">")
        shown = text
        if len(text) > TRANSCRIPT_FRAME_CHARS:
            text = text[:TRANSCRIPT_FRAME_CHARS] + f"… [{len(text)} chars, cut]"
        self.entries.append(TranscriptEntry(time.monotonic() - self.started, direction, text))
        self.chars += len(text)
        while len(self.entries) > self.limit or self.chars > TRANSCRIPT_CHARS:
            self.chars -= len(self.entries.popleft().text)
        return shown

    def render(self) -> str:
        lines = ["# seconds since the connection opened, > sent by mbconform, < received from the adapter"]
        dropped = self.total - len(self.entries)
        if dropped:
            lines.append(f"[{dropped} earlier frames not kept]")
        for entry in self.entries:
            lines.append(f"{entry.at:9.4f} {entry.direction} {entry.text}")
        return "\n".join(lines) + "\n"


def summarize(message: Message) -> str:
    """One line about a frame: the adapter's names and ids in it bounded and escaped (``core.shown``)."""
    if isinstance(message, Event):
        return f"event {escaped(message.name)} about {escaped(message.target)}"
    if isinstance(message, Response):
        return f"response {escaped(message.result)} to {escaped(message.command)} on {escaped(message.target)}"
    if isinstance(message, Request):
        return f"request {escaped(message.command)} on {escaped(message.target)}"
    return f"malformed frame: {escaped(message.reason)}"


def kind_of(message: Message) -> str:
    return {Event: "event", Response: "response", Request: "request", Malformed: "malformed"}[type(message)]


class Connection:
    def __init__(self, socket: ClientConnection, transcript: Transcript, listener: Listener) -> None:
        self.socket = socket
        self.transcript = transcript
        self.listener = listener
        self.send_timeout = SEND_SECONDS  # how long a send waits for the adapter to read (:meth:`open` sets it)

    @classmethod
    async def for_settings(
        cls, url: str, settings: Settings, listener: Listener, redactor: Redactor | None = None
    ) -> Connection:
        """A connection opened as the profile's settings say: within the connect timeout, with its frame and
        queue limits, TLS, handshake headers and subprotocols; ``redactor``: one session's (default: a new one
        of the settings)."""
        redactor = redactor or settings.redactor.session()
        return await cls.open(
            url,
            Deadline(settings.connect_timeout, f"connecting to {redactor.url(url)}"),
            listener,
            max_frame_bytes=settings.max_frame_bytes,
            max_queue=settings.max_queue,
            transcript_frames=settings.transcript_frames,
            transport=settings.transport,
            redactor=redactor,
            send_timeout=settings.step_timeout,
        )

    @classmethod
    async def open(
        cls,
        url: str,
        deadline: Deadline,
        listener: Listener,
        *,
        max_frame_bytes: int,
        max_queue: int,
        transcript_frames: int,
        transport: Transport | None = None,
        redactor: Redactor | None = None,
        send_timeout: float | None = None,
    ) -> Connection:
        """``transport``: TLS, handshake headers, subprotocols and redirects; ``redactor``: what the transcript and
        the run events must not show (the frames themselves are sent as they are); ``send_timeout``: how long a
        send waits for the adapter to read (the step timeout; default: the deadline's time)."""
        transport = transport or Transport()
        shown = (redactor or Redactor()).url(url)
        opening = Handshake(
            url,
            ssl=transport.ssl_context(url),
            additional_headers=list(transport.headers) or None,
            subprotocols=[Subprotocol(name) for name in transport.subprotocols] or None,
            max_size=max_frame_bytes,
            max_queue=max_queue,
            open_timeout=None,  # the deadline helper bounds the handshake, redirects included
            close_timeout=CLOSE_SECONDS,
            ping_interval=None,
            compression=None,
            create_connection=BoundedClientConnection,
        )
        opening.follow = transport.follow_redirects
        try:
            socket = await within(
                deadline, opening, lambda: f"the WebSocket handshake with {shown} did not complete"
            )
        except (OSError, InvalidHandshake, InvalidURI, TransportError) as exc:
            raise ConnectionLost(f"cannot connect to {shown}: {explain_failure(exc, url)}") from exc
        connection = cls(socket, Transcript(transcript_frames, redactor), listener)
        connection.send_timeout = send_timeout or deadline.seconds
        if isinstance(socket, BoundedClientConnection):
            socket.drain_seconds = connection.send_timeout
        return connection

    async def send(self, message: dict[str, Any]) -> str:
        text = encode(message)
        shown = self.transcript.add(">", text)
        label = f"{message.get('command')} on {message.get('target')}"
        self.listener(FrameSent(shown, label))
        await self._send(text, label)
        return text

    async def send_frame(self, frame: str | bytes, label: str) -> None:
        """Send a frame as it is (the fuzzer's malformed and invalid requests)."""
        shown = frame if isinstance(frame, str) else f"[binary] {frame[:TRANSCRIPT_FRAME_CHARS].hex()}"
        shown = self.transcript.add(">", shown)
        self.listener(FrameSent(shown[: TRANSCRIPT_FRAME_CHARS + 1], label))
        await self._send(frame, label)

    async def _send(self, frame: str | bytes, label: str) -> None:
        """The one place a frame is sent: within the send timeout (the step timeout). An adapter that does not
        read what is sent (its TCP window stays full) is dropped and the test ends with verdict error."""
        deadline = Deadline(self.send_timeout, f"sending {label}")
        try:
            await within(
                deadline,
                self.socket.send(frame),
                lambda: "the adapter did not read it (its TCP window stayed full); the connection was dropped",
            )
        except StepTimeout as exc:
            self.socket.transport.abort()
            raise ConnectionLost(str(exc)) from None
        except ConnectionClosed as exc:
            raise _lost(exc, self.socket) from exc

    async def receive(self, deadline: Deadline, explain: Any) -> Message:
        try:
            frame = await within(deadline, self.socket.recv(), explain)
        except ConnectionClosed as exc:
            raise _lost(exc, self.socket) from exc
        return self._received(frame)

    def _received(self, frame: str | bytes) -> Message:
        message = classify(frame)
        shown = frame if isinstance(frame, str) else repr(frame[:TRANSCRIPT_FRAME_CHARS])
        shown = self.transcript.add("<", shown)[: TRANSCRIPT_FRAME_CHARS + 1]  # redacted whole, then cut
        self.listener(FrameReceived(shown, summarize(message), kind_of(message)))
        return message

    async def arrived(self, most: int) -> list[Message]:
        """The frames that have already arrived, without waiting for more (at most ``most``): the loop is
        given a turn so the reader can hand over what the socket holds, and a receive that would wait is
        cancelled at once (websockets' ``recv`` is safe to cancel: nothing is lost)."""
        messages: list[Message] = []
        while len(messages) < most:
            await asyncio.sleep(0)
            try:
                async with asyncio.timeout(0):
                    frame = await self.socket.recv()
            except TimeoutError:
                break
            except ConnectionClosed as exc:
                raise _lost(exc, self.socket) from exc
            messages.append(self._received(frame))
        return messages

    def lost(self, exc: ConnectionClosed) -> ConnectionLost:
        """What ends the test when websockets says the connection closed (a raw loop's)."""
        return _lost(exc, self.socket)

    async def close(self) -> None:
        try:
            await within(Deadline(CLOSE_SECONDS, "closing the connection"), self.socket.close(), lambda: "")
        except (StepTimeout, ConnectionClosed, OSError):
            self.socket.transport.abort()


def _close_reason(exc: ConnectionClosed) -> str:
    received = exc.rcvd
    if received is None:
        return "no close frame: the connection dropped"
    return f"close code {received.code}" + (f", reason {received.reason!r}" if received.reason else "")
