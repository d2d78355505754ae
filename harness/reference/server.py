"""The reference adapter: a simulated contact-center platform speaking the media bar protocol.

Each WebSocket connection is one isolated session. What it answers and emits is computed from the
catalogue (core.simulate); this module only adds the transport, test control and deliberate faults.
Bad input gets a failure response that echoes what could be read, and the session goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import socket as net
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request as HttpRequest
from websockets.http11 import Response as HttpResponse
from websockets.typing import Subprotocol

from ..core.backpressure import DRAIN_SECONDS, BoundedServerConnection
from ..core.conventions import (
    ConventionError,
    Conventions,
    extra_startup_events,
    from_query,
    levels_created,
    request_from_adapter,
    self_activation,
    to_adapter,
    unknown_to_adapter,
)
from ..core.extras import extended
from ..core.messages import Malformed, Request, classify_value, encode, preview
from ..core.simulate import FactError, IdFactory, Platform, Refusal, channel_seeds, parse_facts
from ..core.testcontrol import STIMULATE, stimulus_request
from ..spec.catalogue import Catalogue
from .faults import Fault, UnknownFault, parse_fault
from .misbehave import Turn, deaf, unreadable
from .transport import Delivery, request_of

log = logging.getLogger("mbconform.reference")
MEDIA = ("telephony", "chat")  # the reference adapter gives the agent a phone channel and a chat channel

MAX_ORIGINAL_TEXT = 1000
# Bounds a hostile media bar cannot push further (with core.backpressure: unread pongs over 1 MiB, or a send
# not read within ``send_timeout``, drop it): frames waiting to be read, bytes written before a send waits, and
# the live objects of one session (a client creating more is closed with 1008)
MAX_QUEUE = 16
WRITE_LIMIT = 1 << 16
MAX_SESSION_OBJECTS = 256
ADDRESSING = ("flat", "channelgroup")
SESSION_OPTIONS = ("fault", "platform", "fact", "addressing", "login", "conventions", "events_first")
LAB_PATH = "/lab/stimulate"  # how much of an unreadable frame is echoed back in "original"


@dataclass
class ReferenceAdapter:
    catalogue: Catalogue
    test_control: bool = False
    faults: Sequence[Fault] = ()
    channels: Sequence[Mapping[str, Any]] = ()  # start-up data per channel; default: one per media
    platform: str | None = None  # None: the default of specs/platforms.yaml
    facts: Mapping[str, Any] = field(default_factory=dict)  # overrides of the platform's facts
    addressing: str = "flat"  # or "channelgroup": every channel in a group of its own
    login: str | None = None  # a command the media bar must send (and get success for) before anything else
    lab_http: bool = False  # stimuli over HTTP: GET /lab/stimulate?stimulus=NAME&target=ADDRESS
    required_headers: Sequence[tuple[str, str]] = ()  # a handshake without each of these is refused (HTTP 401)
    subprotocols: Sequence[str] = ()  # accepted subprotocols; a handshake offering none of them is refused (400)
    max_frame_bytes: int = 1 << 20
    send_timeout: float = DRAIN_SECONDS  # a media bar that does not read what was sent within it is dropped
    conventions: Conventions = field(default_factory=Conventions)  # the adapter's own names, activation
    events_first: bool = False  # a request's events before its response (ERRATA R2: the seeds allow both)
    sessions: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    live: dict[str, LiveSession] = field(default_factory=dict)  # session id -> its open session

    def __post_init__(self) -> None:
        self.platform = self.platform or self.catalogue.default_platform
        if self.platform not in self.catalogue.platforms:
            raise UnknownFault(
                f"unknown platform {self.platform!r} (known: {', '.join(sorted(self.catalogue.platforms))})"
            )
        if not self.channels:
            self.channels = channel_seeds(self.catalogue, MEDIA)
        if self.addressing not in ADDRESSING:
            raise UnknownFault(f"unknown addressing {self.addressing!r} (known: {', '.join(ADDRESSING)})")

    def session_setup(self, path: str) -> SessionSetup:
        """How one session behaves, from the adapter's options and the connection URL's query: ``fault=NAME``
        (repeatable), ``platform=NAME``, ``fact=NAME=VALUE`` (repeatable), ``addressing=flat|channelgroup``,
        ``login=COMMAND``, ``conventions=BASE64`` (URL-safe base64 of the JSON of a profile's ``conventions:``
        section, :meth:`~harness.core.conventions.Conventions.to_query`: the adapter's own command and state
        names, extra start-up events, channels that activate themselves), ``events_first=1|0`` (a request's
        events before its response).

        The query is honoured only with test control on, so self-tests and profiles can run many kinds of
        session on one adapter.
        """
        query = parse_qs(urlsplit(path).query)
        if query and not self.test_control:
            raise UnknownFault("session options in the URL need the adapter started with --test-control")
        unknown = sorted(set(query) - set(SESSION_OPTIONS))
        if unknown:
            raise UnknownFault(f"unknown session options {unknown} (known: {', '.join(SESSION_OPTIONS)})")
        platform = query.get("platform", [self.platform or ""])[-1]
        if platform not in self.catalogue.platforms:
            raise UnknownFault(f"unknown platform {platform!r}")
        addressing = query.get("addressing", [self.addressing])[-1]
        if addressing not in ADDRESSING:
            raise UnknownFault(f"unknown addressing {addressing!r} (known: {', '.join(ADDRESSING)})")
        try:
            facts = {**self.facts, **parse_facts(self.catalogue, query.get("fact", []))}
        except FactError as exc:
            raise UnknownFault(str(exc)) from exc
        faults = [*self.faults, *(parse_fault(name, self.catalogue) for name in query.get("fault", []))]
        conventions = self.conventions
        if "conventions" in query:
            try:
                conventions = from_query(self.catalogue, query["conventions"][-1])
            except ConventionError as exc:
                raise UnknownFault(str(exc)) from exc
        first = query.get("events_first", ["1" if self.events_first else "0"])[-1]
        if first not in ("0", "1"):
            raise UnknownFault(f"events_first={first!r}: 1 or 0")
        return SessionSetup(
            faults,
            Platform(
                extended(self.catalogue, conventions.extras), ids=IdFactory(), platform=platform, facts=facts
            ),
            addressing,
            query.get("login", [self.login or ""])[-1] or None,
            conventions,
            first == "1",
        )

    def reply(self, setup: SessionSetup, frame: str | bytes) -> list[dict[str, Any]]:
        """The answer to one frame, as this session's adapter names things (its conventions): a command it
        does not know by that name is an unknown command."""
        conventions = setup.conventions
        request = request_of(frame) if not conventions.is_default else None
        if request is not None and isinstance(classify_value(request), Request):
            command = request.get("command")
            if unknown_to_adapter(conventions, self.catalogue, command):
                refusal = Refusal("unknown_command", f"unknown command {preview(repr(command))}")
                return [setup.platform.failure(request, refusal)]
            renamed = request_from_adapter(conventions, request)
            if renamed is not request:
                frame = encode(renamed)
        # the levels of the objects before the answer: an object it disposes is still named by its level
        before = {} if conventions.is_default else dict(self._levels(setup))
        return self.as_adapter(setup, self.answer(setup.platform, frame, setup.faults), before)

    @staticmethod
    def _levels(setup: SessionSetup) -> dict[str, str]:
        return {address: obj.level for address, obj in setup.platform.model.objects.items()}

    def as_adapter(
        self, setup: SessionSetup, messages: list[dict[str, Any]], before: dict[str, str] | None = None
    ) -> list[dict[str, Any]]:
        """The simulation's frames with the session's conventions' command and state names (``before``: the
        levels of the objects before the frames, for those the frames dispose)."""
        if setup.conventions.is_default:
            return messages
        known = {**(before or {}), **levels_created(self.catalogue, messages)}
        model = setup.platform.model

        def level_of(address: str) -> str | None:
            obj = model.get(address)
            return obj.level if obj is not None else known.get(address)

        return to_adapter(setup.conventions, self.catalogue, messages, level_of)

    def startup(self, setup: SessionSetup, session_id: str) -> list[dict[str, Any]]:
        """The session's start-up: the adapter's own announcements, each channel's events, the channels
        activating themselves (with activation ``self``), the ready event."""
        platform, conventions = setup.platform, setup.conventions
        events = platform.startup(list(self.channels), session_id, setup.addressing)
        ready = events.pop()
        activated = self_activation(conventions, platform)
        extra = extra_startup_events(conventions, platform, session_id)
        return self.as_adapter(setup, [*extra, *events, *activated, ready])

    @staticmethod
    def _skip(faults: Sequence[Fault], owner: str) -> Any:
        return lambda event: any(fault.drops(owner, event) for fault in faults)

    def answer(self, platform: Platform, frame: str | bytes, faults: Sequence[Fault] = ()) -> list[dict[str, Any]]:
        """Everything the adapter sends in reply to one frame: the response, then the events."""
        if deaf(platform):
            return []
        if isinstance(frame, bytes):
            refusal = Refusal("malformed_request", "binary frames are not part of the protocol; send JSON text")
            return [platform.failure({"text": repr(frame[:MAX_ORIGINAL_TEXT])}, refusal)]
        try:
            request = json.loads(frame)
        except (ValueError, RecursionError) as exc:
            refusal = Refusal("malformed_request", f"not JSON: {exc}"[:300])
            text = {"text": frame[:MAX_ORIGINAL_TEXT]}
            return unreadable(platform, faults, "not-json", text, [platform.failure(text, refusal)])
        if not isinstance(request, dict):
            refusal = Refusal("malformed_request", f"a request is a JSON object, not a {type(request).__name__}")
            text = {"text": frame[:MAX_ORIGINAL_TEXT]}
            return unreadable(platform, faults, "not-object", text, [platform.failure(text, refusal)])
        kind = classify_value(request)
        if not isinstance(kind, Request):  # ERRATA R1: with messageType it is an event, with result a response
            what = kind.reason if isinstance(kind, Malformed) else f"an {type(kind).__name__.lower()}"
            refusal = Refusal("malformed_request", f"not a request: {what} (ERRATA R1)")
            return [platform.failure(request, refusal)]
        if request.get("command") == STIMULATE and self.test_control:
            return self._stimulate(platform, request, faults)
        command = str(request.get("command"))
        target = platform.model.get(str(request.get("target")))
        state = target.state if target is not None else None
        lenient = frozenset().union(*(fault.skips(command, state) for fault in faults))
        turn = Turn.begin(platform, faults, command, request, lenient)
        if turn.instead is not None:
            answer = turn.finish(turn.instead, [])
        else:
            outcome = platform.handle(request, self._skip(faults, command), lenient)
            answer = turn.finish(outcome.response, outcome.events)
        if command not in platform.catalogue.commands:  # the catalogue's and the session's declared extras
            return unreadable(platform, faults, "unknown-command", request, answer)
        return answer

    def _stimulate(
        self, platform: Platform, request: dict[str, Any], faults: Sequence[Fault]
    ) -> list[dict[str, Any]]:
        data = request.get("data")
        name = data.get("stimulus") if isinstance(data, dict) else None
        target = request.get("target")
        try:
            if not isinstance(name, str) or not isinstance(target, str):
                raise Refusal("malformed_request", "test control needs data.stimulus and a target")
            turn = Turn.begin(platform, faults, name, request, stimulus=True)
            events = platform.stimulate(name, target)
        except Refusal as refusal:
            return [platform.failure(request, refusal)]
        return turn.finish(
            platform.respond(request, "success"), [e for e in events if not self._skip(faults, name)(e["name"])]
        )

    async def handler(self, socket: ServerConnection) -> None:
        number = next(self.sessions)
        session_id = f"S{number}"
        if isinstance(socket, BoundedServerConnection):
            socket.drain_seconds = self.send_timeout
        try:
            try:
                setup = self.session_setup(socket.request.path if socket.request else "")
            except UnknownFault as exc:
                await socket.close(1008, str(exc)[:120])
                return
            if setup.login is not None and not await self._logged_in(socket, setup):
                return
            live = LiveSession(socket, setup.platform, setup.faults, setup)
            self.live[session_id] = live
            transport = [f.transport for f in setup.faults if f.transport is not None]
            delivery = Delivery(socket, transport, setup.events_first)
            async with live.lock:
                announced = self.startup(setup, session_id)
                per_group = self.catalogue.startup.per_group if setup.addressing == "channelgroup" else None
                await delivery.startup(
                    Turn.startup(setup.platform, setup.faults, per_group, session_id, announced)
                )
            async for frame in socket:
                async with live.lock:
                    await delivery.answer(request_of(frame), self.reply(setup, frame))
                if len(setup.platform.model.objects) > MAX_SESSION_OBJECTS:
                    await socket.close(1008, f"over {MAX_SESSION_OBJECTS} live objects in one session")
                    return
        except ConnectionClosed:
            pass
        finally:
            self.live.pop(session_id, None)

    async def _logged_in(self, socket: ServerConnection, setup: SessionSetup) -> bool:
        """Log-in first: answer every request with a failure until the log-in command arrives."""
        platform = setup.platform
        async for frame in socket:
            request = request_of(frame)
            if request is not None and request.get("command") == setup.login:
                await socket.send(encode(platform.respond(request, "success")))
                return True
            refusal = Refusal("invalid_state", f"log in first: the adapter expects {setup.login} before anything")
            await socket.send(
                encode(platform.failure(request or {"text": str(frame)[:MAX_ORIGINAL_TEXT]}, refusal))
            )
        return False

    async def lab_request(self, connection: ServerConnection, request: HttpRequest) -> HttpResponse | None:
        """Stimuli over HTTP (``lab_http``): ``GET /lab/stimulate?stimulus=NAME&target=ADDRESS`` produces the
        stimulus in the session the target belongs to. Any other request goes on to the WebSocket handshake."""
        url = urlsplit(request.path)
        if self._before_session(request.path, "no-handshake"):
            await asyncio.Event().wait()  # never answered; websockets' open timeout ends the connection
        if not self.lab_http or url.path != LAB_PATH:
            return None
        query = parse_qs(url.query)
        name, target = query.get("stimulus", [""])[-1], query.get("target", [""])[-1]
        if not name or not target:
            return _http(connection, 400, "give stimulus=NAME and target=ADDRESS")
        live = self.live.get(target.split(".", 1)[0])
        if live is None:
            return _http(connection, 404, f"no open session for target {target!r}")
        async with live.lock:
            before = self._levels(live.setup)
            reply = self.as_adapter(
                live.setup, self._stimulate(live.platform, stimulus_request(name, target), live.faults), before
            )
            response, events = reply[0], reply[1:]
            if response.get("result") != "success":
                return _http(connection, 409, json.dumps(response.get("failure")))
            for event in events:
                await live.socket.send(encode(event))
        return _http(connection, 200, json.dumps({"stimulus": name, "target": target, "events": len(events)}))

    def _before_session(self, path: str, name: str) -> bool:
        """The adapter, or the session the URL asks for (with test control), has the transport fault ``name``."""
        asked = parse_qs(urlsplit(path).query).get("fault", []) if self.test_control else []
        return any(fault.name == name for fault in self.faults) or name in asked

    async def process_request(self, connection: ServerConnection, request: HttpRequest) -> HttpResponse | None:
        """Before the WebSocket handshake: the lab's HTTP stimuli, then the required headers (HTTP 401 without
        them; the lab endpoint does not ask for them)."""
        lab = await self.lab_request(connection, request)
        if lab is not None:
            return lab
        for name, value in self.required_headers:
            if request.headers.get(name) != value:
                return _http(connection, 401, f"the handshake needs the header {name}")
        return None

    async def serve(self, host: str, port: int, tls: ssl.SSLContext | None = None) -> Server | NotListening:
        if self._before_session("", "refuse-connections"):
            return NotListening.bind(host, port)
        return await serve(
            self.handler,
            host,
            port,
            ssl=tls,
            max_size=self.max_frame_bytes,
            compression=None,
            ping_interval=None,
            process_request=self.process_request,
            subprotocols=[Subprotocol(name) for name in self.subprotocols] or None,
            create_connection=BoundedServerConnection,  # a media bar that does not read is dropped
            write_limit=WRITE_LIMIT,
            max_queue=MAX_QUEUE,
            close_timeout=1,
        )


class NotListening:
    """A port bound but never listened on (transport fault ``refuse-connections``): every connection is
    refused, and no other program takes the port while it lasts."""

    def __init__(self, sock: net.socket) -> None:
        self.sockets = [sock]

    @classmethod
    def bind(cls, host: str, port: int) -> NotListening:
        sock = net.socket(net.AF_INET6 if ":" in host else net.AF_INET, net.SOCK_STREAM)
        sock.bind((host, port))
        return cls(sock)

    async def serve_forever(self) -> None:
        await asyncio.Event().wait()

    def close(self) -> None:
        self.sockets[0].close()

    async def wait_closed(self) -> None:
        return None

    async def __aenter__(self) -> NotListening:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()


@dataclass
class SessionSetup:
    faults: list[Fault]
    platform: Platform
    addressing: str
    login: str | None
    conventions: Conventions = field(default_factory=Conventions)
    events_first: bool = False


@dataclass
class LiveSession:
    socket: ServerConnection
    platform: Platform
    faults: Sequence[Fault]
    setup: SessionSetup
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)  # a stimulus never splits a request's events


def _http(connection: ServerConnection, status: int, text: str) -> HttpResponse:
    return connection.respond(HTTPStatus(status), text + "\n")


async def serve_forever(
    adapter: ReferenceAdapter, host: str, port: int, announce: bool, tls: ssl.SSLContext | None = None
) -> None:
    server = await adapter.serve(host, port, tls)
    bound = server.sockets[0].getsockname()
    url = f"{'wss' if tls is not None else 'ws'}://{bound[0]}:{bound[1]}"
    if announce:
        print(f"mbconform reference adapter listening on {url}", flush=True)
    await server.serve_forever()


def run(
    adapter: ReferenceAdapter, host: str, port: int, announce: bool = True, tls: ssl.SSLContext | None = None
) -> None:
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve_forever(adapter, host, port, announce, tls))
