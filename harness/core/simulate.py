"""The catalogue executed: what a conforming adapter answers and emits, computed from the specs alone.

The reference adapter is this simulation behind a WebSocket (plus faults and test control); the planner
runs it on a copy of the harness's object model to find the steps that bring an object into a state.
No event list, data shape or state transition is written here: they are all read from the catalogue.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ..jsonpaths import find, with_value
from ..spec.catalogue import Catalogue, EachAbout, EventEntry, EventList
from .messages import Event
from .objects import SEPARATOR, ObjectModel


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


@dataclass
class Outcome:
    response: dict[str, Any]
    events: list[dict[str, Any]] = field(default_factory=list)


class Refusal(Exception):
    """The simulated platform refuses a request: a failure response with this code and message."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass
class IdFactory:
    prefix: str = ""
    counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def __call__(self, level: str) -> str:
        return f"{self.prefix}{level[:4]}{next(self.counter)}"


class Platform:
    """A simulated contact-center platform for one session."""

    def __init__(self, catalogue: Catalogue, model: ObjectModel | None = None, ids: IdFactory | None = None):
        self.catalogue = catalogue
        self.model = model if model is not None else ObjectModel(catalogue)
        self.ids = ids or IdFactory()
        self.last_bound: dict[str, str] = {}  # names bound ('as') by the last list emitted -> addresses

    def copy(self) -> Platform:
        return Platform(self.catalogue, self.model.copy(), IdFactory(self.ids.prefix + "x"))

    # -- events ---------------------------------------------------------------------------------

    def event(self, name: str, target: str, data: Mapping[str, Any]) -> dict[str, Any]:
        kind = self.catalogue.protocol.event_message_type
        return {"messageType": kind, "target": target, "name": name, "data": dict(data)}

    def emit_list(
        self,
        event_list: EventList,
        target: str,
        skip: Callable[[str], bool] = lambda name: False,
    ) -> list[dict[str, Any]]:
        """Emit a spec's list about ``target``, applying each event to the model as it goes."""
        env = {"target": target}
        if SEPARATOR in target:
            env["parent"] = target.rsplit(SEPARATOR, 1)[0]
        if self.model.session is not None:
            env["session"] = self.model.session.address
        out = []
        for entry in event_list.entries:
            spec = self.catalogue.events[entry.event]
            if isinstance(entry.about, EachAbout):
                about_level = entry.about
                addresses = [
                    obj.address
                    for obj in self.model.descendants(target, about_level.level)
                    if about_level.in_state is None or obj.state in about_level.in_state
                ]
            else:
                addresses = [env[entry.about]]
            for address in addresses:
                data = deep_merge(spec.example, entry.data)
                if spec.creates_level and spec.creates_id_path:
                    new_id = self.ids(spec.creates_level)
                    data = with_value(data, spec.creates_id_path, new_id)
                    if entry.binds:
                        env[entry.binds] = address + SEPARATOR + new_id
                event = self.event(entry.event, address, data)
                self.model.apply(Event(entry.event, address, data, event))
                if not skip(entry.event):
                    out.append(event)
        self.last_bound = {k: v for k, v in env.items() if k not in ("target", "parent", "session")}
        return out

    def startup(self, channels: list[Mapping[str, Any]], session_id: str) -> list[dict[str, Any]]:
        """The session start-up: each channel's events, then the ready event (specs/session).

        Each item of ``channels`` is merged into the data of the event that creates that channel (the
        event's example supplies the rest), so this code knows nothing of the channel's data shape.
        """
        self.model.start_session(session_id)
        out: list[dict[str, Any]] = []
        per_channel = self.catalogue.startup.per_channel
        for channel in channels:
            overrides = EventList(
                per_channel.provenance,
                per_channel.complete,
                per_channel.interleave_allowed,
                tuple(_with_data(entry, channel) if entry.binds else entry for entry in per_channel.entries),
                per_channel.ref,
            )
            out.extend(self.emit_list(overrides, session_id))
        ready = self.catalogue.events[self.catalogue.startup.ready_event]
        event = self.event(ready.name, session_id, ready.example)
        self.model.apply(Event(ready.name, session_id, event["data"], event))
        out.append(event)
        return out

    # -- requests -------------------------------------------------------------------------------

    def check(self, request: Any, skip_checks: frozenset[str] = frozenset()) -> tuple[str, str, Any]:
        """Validate a request against the catalogue and the model; raise :class:`Refusal` if it fails."""
        errors = self.catalogue.protocol.request_envelope.errors(request)
        if errors:
            raise Refusal("malformed_request", "; ".join(errors))
        command, target, data = request["command"], request["target"], request["data"]
        spec = self.catalogue.commands.get(command)
        if spec is None:
            raise Refusal("unknown_command", f"unknown command {command!r}")
        errors = [] if "data" in skip_checks else spec.request.errors(data)
        self._check_target(command, spec.level, target, spec.when_states, "state" in skip_checks, errors)
        return command, target, data

    def _check_target(
        self, name: str, level: str, target: str, when: frozenset[str], any_state: bool, data_errors: list[str]
    ) -> None:
        """The target is a live object of ``level``, the data is valid, and the object is in a ``when`` state."""
        obj, why = self.model.find_target(target, level)
        if obj is None:
            raise Refusal("invalid_target", why)
        if data_errors:
            raise Refusal("invalid_data", "; ".join(data_errors))
        if when and obj.state not in when and not any_state:
            raise Refusal("invalid_state", f"{name} needs the {level} in {sorted(when)}, it is {obj.state}")

    def respond(self, request: Mapping[str, Any], result: str, **extra: Any) -> dict[str, Any]:
        """A response built from the protocol's echo rules (specs/protocol.yaml)."""
        response: dict[str, Any] = {"result": result}
        for echo in self.catalogue.protocol.responses[result].echo:
            value = find(request, echo.request_path)
            response = with_value(response, echo.response_path, value)
        response.update(extra)
        return response

    def failure(self, request: Any, refusal: Refusal) -> dict[str, Any]:
        echoable = request if isinstance(request, dict) else {}
        safe = {
            **echoable,
            "command": echoable.get("command") if isinstance(echoable.get("command"), str) else "",
            "target": echoable.get("target") if isinstance(echoable.get("target"), str) else "",
        }
        code = self.catalogue.protocol.failure_codes.get(refusal.reason, refusal.reason.upper())
        response = self.respond(safe, "failure", failure={"code": code, "message": refusal.message})
        response["original"] = request if isinstance(request, dict) else {"text": str(request)}
        return response

    def handle(
        self,
        request: Any,
        skip: Callable[[str], bool] = lambda name: False,
        skip_checks: frozenset[str] = frozenset(),
    ) -> Outcome:
        """Answer a request; ``skip`` names events not to send and ``skip_checks`` checks not to make
        (both for the reference adapter's faults)."""
        try:
            command, target, _ = self.check(request, skip_checks)
        except Refusal as refusal:
            return Outcome(self.failure(request, refusal))
        spec = self.catalogue.commands[command]
        response = self.respond(request, "success")
        return Outcome(response, self.emit_list(spec.events, target, skip))

    def stimulate(self, name: str, target: str) -> list[dict[str, Any]]:
        spec = self.catalogue.stimuli.get(name)
        if spec is None:
            raise Refusal("unknown_command", f"unknown stimulus {name!r}")
        self._check_target(name, spec.level, target, spec.when_states, False, [])
        return self.emit_list(spec.events, target)


def _with_data(entry: EventEntry, data: Mapping[str, Any]) -> EventEntry:
    return replace(entry, data=deep_merge(data, entry.data))
