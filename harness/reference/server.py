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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from ..core.messages import encode
from ..core.simulate import FactError, IdFactory, Platform, Refusal, channel_seeds, parse_facts
from ..core.testcontrol import STIMULATE
from ..jsonpaths import without
from ..spec.catalogue import Catalogue
from .faults import Fault, UnknownFault, parse_fault

log = logging.getLogger("mbconform.reference")
MEDIA = ("telephony", "chat")  # the reference adapter gives the agent a phone channel and a chat channel

MAX_ORIGINAL_TEXT = 1000  # how much of an unreadable frame is echoed back in "original"


@dataclass
class ReferenceAdapter:
    catalogue: Catalogue
    test_control: bool = False
    faults: Sequence[Fault] = ()
    channels: Sequence[Mapping[str, Any]] = ()  # start-up data per channel; default: one per media
    platform: str | None = None  # None: the default of specs/platforms.yaml
    facts: Mapping[str, Any] = field(default_factory=dict)  # overrides of the platform's facts
    max_frame_bytes: int = 1 << 20
    sessions: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def __post_init__(self) -> None:
        self.platform = self.platform or self.catalogue.default_platform
        if self.platform not in self.catalogue.platforms:
            raise UnknownFault(
                f"unknown platform {self.platform!r} (known: {', '.join(sorted(self.catalogue.platforms))})"
            )
        if not self.channels:
            self.channels = channel_seeds(self.catalogue, MEDIA)

    def session_setup(self, path: str) -> tuple[list[Fault], Platform]:
        """Faults and platform for one session, from the connection URL's query: ``fault=NAME`` (repeatable),
        ``platform=NAME``, ``fact=NAME=VALUE`` (repeatable).

        Honoured only with test control on, so self-tests and profiles can run many kinds of session on one
        adapter.
        """
        query = parse_qs(urlsplit(path).query)
        if query and not self.test_control:
            raise UnknownFault("session options in the URL need the adapter started with --test-control")
        unknown = sorted(set(query) - {"fault", "platform", "fact"})
        if unknown:
            raise UnknownFault(f"unknown session options {unknown} (known: fault, platform, fact)")
        platform = query.get("platform", [self.platform or ""])[-1]
        if platform not in self.catalogue.platforms:
            raise UnknownFault(f"unknown platform {platform!r}")
        try:
            facts = {**self.facts, **parse_facts(self.catalogue, query.get("fact", []))}
        except FactError as exc:
            raise UnknownFault(str(exc)) from exc
        faults = [*self.faults, *(parse_fault(name, self.catalogue) for name in query.get("fault", []))]
        return faults, Platform(self.catalogue, ids=IdFactory(), platform=platform, facts=facts)

    @staticmethod
    def _skip(faults: Sequence[Fault], owner: str) -> Any:
        return lambda event: any(fault.drops(owner, event) for fault in faults)

    def answer(self, platform: Platform, frame: str | bytes, faults: Sequence[Fault] = ()) -> list[dict[str, Any]]:
        """Everything the adapter sends in reply to one frame: the response, then the events."""
        if isinstance(frame, bytes):
            refusal = Refusal("malformed_request", "binary frames are not part of the protocol; send JSON text")
            return [platform.failure({"text": repr(frame[:MAX_ORIGINAL_TEXT])}, refusal)]
        try:
            request = json.loads(frame)
        except (ValueError, RecursionError) as exc:
            refusal = Refusal("malformed_request", f"not JSON: {exc}"[:300])
            return [platform.failure({"text": frame[:MAX_ORIGINAL_TEXT]}, refusal)]
        if not isinstance(request, dict):
            refusal = Refusal("malformed_request", f"a request is a JSON object, not a {type(request).__name__}")
            return [platform.failure({"text": frame[:MAX_ORIGINAL_TEXT]}, refusal)]
        if request.get("command") == STIMULATE and self.test_control:
            return self._stimulate(platform, request, faults)
        command = str(request.get("command"))
        lenient = frozenset().union(*(fault.skips(command) for fault in faults))
        outcome = platform.handle(request, self._skip(faults, command), lenient)
        for fault in faults:
            member = fault.strips(command)
            if member is not None:
                outcome.response = without(outcome.response, "$." + member)
        return [outcome.response, *outcome.events]

    def _stimulate(
        self, platform: Platform, request: dict[str, Any], faults: Sequence[Fault]
    ) -> list[dict[str, Any]]:
        data = request.get("data")
        name = data.get("stimulus") if isinstance(data, dict) else None
        target = request.get("target")
        try:
            if not isinstance(name, str) or not isinstance(target, str):
                raise Refusal("malformed_request", "test control needs data.stimulus and a target")
            events = platform.stimulate(name, target)
        except Refusal as refusal:
            return [platform.failure(request, refusal)]
        return [
            platform.respond(request, "success"),
            *[e for e in events if not self._skip(faults, name)(e["name"])],
        ]

    async def handler(self, socket: ServerConnection) -> None:
        number = next(self.sessions)
        session_id = f"S{number}"
        try:
            try:
                faults, platform = self.session_setup(socket.request.path if socket.request else "")
            except UnknownFault as exc:
                await socket.close(1008, str(exc)[:120])
                return
            for event in platform.startup(list(self.channels), session_id):
                await socket.send(encode(event))
            async for frame in socket:
                for message in self.answer(platform, frame, faults):
                    await socket.send(encode(message))
        except ConnectionClosed:
            pass

    async def serve(self, host: str, port: int) -> Server:
        return await serve(
            self.handler, host, port, max_size=self.max_frame_bytes, compression=None, ping_interval=None
        )


async def serve_forever(adapter: ReferenceAdapter, host: str, port: int, announce: bool) -> None:
    server = await adapter.serve(host, port)
    bound = server.sockets[0].getsockname()
    url = f"ws://{bound[0]}:{bound[1]}"
    if announce:
        print(f"mbconform reference adapter listening on {url}", flush=True)
    await server.serve_forever()


def run(adapter: ReferenceAdapter, host: str, port: int, announce: bool = True) -> None:
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve_forever(adapter, host, port, announce))
