"""The catalogue executed: what a conforming adapter answers and emits, computed from the specs alone.

The reference adapter is this simulation behind a WebSocket (plus faults and test control); the planner
runs it on a copy of the harness's object model to find the steps that bring an object into a state.
No event list, data shape or state transition is written here: they are all read from the catalogue.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, cast

from ..jsonpaths import MISSING, find, with_value, without
from ..spec.catalogue import (
    Catalogue,
    CommandSpec,
    Condition,
    EventEntry,
    EventList,
    EventSpec,
    OutcomeSpec,
    with_facts,
)
from .conditions import Context, holds, legal
from .lists import base_env, bound_names, resolve
from .media import mentions_media
from .messages import Event, preview
from .objects import SEPARATOR, MbObject, ObjectModel


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


MAX_MESSAGE_CHARS = 500  # of a failure's message


@dataclass
class Outcome:
    response: dict[str, Any]
    events: list[dict[str, Any]] = field(default_factory=list)


class Refusal(Exception):
    """The simulated platform refuses a request: a failure response with this code and message.
    ``inferred``: why refusing it is the catalogue's reading rather than the seeds' (None: the seeds say a
    failure is generated there)."""

    def __init__(self, reason: str, message: str, inferred: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.inferred = inferred


DEFAULT = "default"  # the name of a decision that is the command's main path (no outcome of its spec)


@dataclass(frozen=True)
class Decision:
    """What the catalogue says a request brings, decided on the model before the request is applied."""

    result: str
    outcome: OutcomeSpec | None  # None: the default (success with the command's list) or a refusal
    events: EventList | None
    refusal: Refusal | None = None
    inferred: str | None = None  # why the result is the catalogue's reading (None: the seeds decide it)
    should: bool = False  # the seeds word this result as a should
    # why the result alone is a guess (the media of a channel the adapter does not name): the events the request
    # brings where it is carried out are judged as ``inferred`` says
    guess: str | None = None

    @property
    def name(self) -> str:
        if self.refusal is not None:
            return f"refused ({self.refusal.reason})"
        return self.outcome.name if self.outcome is not None else DEFAULT


@dataclass
class IdFactory:
    prefix: str = ""
    counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def __call__(self, word: str) -> str:
        """A new id: the level's code in lower case (``chan``, ``grp``, ``intr``) and a number."""
        return f"{self.prefix}{word}{next(self.counter)}"


class Platform:
    """A simulated contact-center platform for one session: its objects, its kind and its facts."""

    def __init__(
        self,
        catalogue: Catalogue,
        model: ObjectModel | None = None,
        ids: IdFactory | None = None,
        platform: str | None = None,
        facts: Mapping[str, Any] | None = None,
    ):
        """``platform``: a name from specs/platforms.yaml; None: its default."""
        self.catalogue = catalogue
        self.model = model if model is not None else ObjectModel(catalogue)
        self.ids = ids or IdFactory()
        platform = platform or catalogue.default_platform
        self.platform = platform
        spec = catalogue.platforms.get(platform)
        self.facts: dict[str, Any] = {**(spec.facts if spec else {}), **(facts or {})}
        self.last_bound: dict[str, str] = {}  # names bound ('as') by the last list emitted -> addresses

    def copy(self) -> Platform:
        return Platform(
            self.catalogue, self.model.copy(), IdFactory(self.ids.prefix + "x"), self.platform, self.facts
        )

    def context(self, data: Any = MISSING) -> Context:
        return Context(self.platform, self.facts, data)

    # -- events ---------------------------------------------------------------------------------

    def event(self, name: str, target: str, data: Mapping[str, Any]) -> dict[str, Any]:
        kind = self.catalogue.protocol.event_message_type
        return {"messageType": kind, "target": target, "name": name, "data": dict(data)}

    def emit_list(
        self,
        event_list: EventList,
        target: str,
        skip: Callable[[str], bool] = lambda name: False,
        data: Any = MISSING,
    ) -> list[dict[str, Any]]:
        """Emit a spec's list about ``target``, applying each event to the model as it goes."""
        resolved = resolve(self.catalogue, event_list, target, self.model, self.context(data))
        env = base_env(self.model, target)
        out = []
        for item in resolved:
            entry = item.entry
            spec = self.catalogue.events[entry.event]
            address = env.get(item.about, item.about)
            event_data = deep_merge(_example_for(spec, item.data), item.data)
            for path, name in entry.refer.items():
                if name in env:
                    event_data = with_value(event_data, path, env[name].rsplit(SEPARATOR, 1)[-1])
            if spec.creates_level and spec.creates_id_path:
                level = self.catalogue.levels.get(spec.creates_level)
                new_id = self.ids(level.code.lower() if level is not None else spec.creates_level[:4])
                event_data = with_value(event_data, spec.creates_id_path, new_id)
                if entry.binds:
                    env[entry.binds] = address + SEPARATOR + new_id
            event = self.event(entry.event, address, event_data)
            self.model.apply(Event(entry.event, address, event_data, event))
            if not skip(entry.event):
                out.append(event)
        self.last_bound = bound_names(env)
        return out

    def startup(
        self, channels: list[Mapping[str, Any]], session_id: str, addressing: str = "flat"
    ) -> list[dict[str, Any]]:
        """The session start-up: each channel's events, then the ready event (specs/session).

        Each item of ``channels`` is merged into the data of the event that creates that channel (the
        event's example supplies the rest), so this code knows nothing of the channel's data shape. With
        ``addressing="channelgroup"`` each channel comes in a group of its own, announced by the list of the
        start-up's ``per_group`` command.
        """
        startup = self.catalogue.startup
        self.model.start_session(session_id)
        creates_channel = {entry.event for entry in startup.per_channel.entries if entry.binds}
        event_list = startup.per_channel
        if addressing == "channelgroup":
            if startup.per_group is None:
                raise ValueError("the catalogue's start-up names no per_group command for channel groups")
            event_list = self.catalogue.commands[startup.per_group].events
        out: list[dict[str, Any]] = []
        for channel in channels:
            entries = tuple(
                _with_data(entry, channel) if entry.binds and entry.event in creates_channel else entry
                for entry in event_list.entries
            )
            out.extend(self.emit_list(replace(event_list, entries=entries), session_id))
        ready = self.catalogue.events[startup.ready_event]
        event = self.event(ready.name, session_id, ready.example)
        self.model.apply(Event(ready.name, session_id, event["data"], event))
        out.append(event)
        return out

    # -- requests -------------------------------------------------------------------------------

    def decide(self, request: Any, skip_checks: frozenset[str] = frozenset()) -> Decision:
        """What the catalogue says this request brings, from the model as it is (nothing is changed)."""
        try:
            spec, obj, data = self._check(request, skip_checks)
        except Refusal as refusal:
            return Decision("failure", None, None, refusal, refusal.inferred)
        context = self.context(data)
        guessed = _guessed(self.model, obj)
        media = _media_guessed(self.model, spec, obj)  # the result a guess; the events too if a list reads it
        if media and spec.lists_read_media:
            guessed = guessed or media
        for outcome in spec.outcomes:
            if holds(outcome.when, self.model, obj, context):
                inferred = outcome.inferred or command_basis(spec) or guessed
                return Decision(
                    outcome.result, outcome, outcome.events, inferred=inferred, should=outcome.should, guess=media
                )
        basis = self._success_basis(spec, obj, context) or guessed
        return Decision("success", None, spec.events, inferred=basis, guess=media)

    def _success_basis(self, spec: CommandSpec, obj: MbObject, context: Context) -> str | None:
        """Why success is the catalogue's reading: the command is inferred, or every alternative of its
        precondition that holds is (None: the seeds describe the command succeeding here)."""
        if spec.provenance == "inferred":
            return command_basis(spec)
        if all(condition.inferred is None for condition in spec.when):
            return None  # every alternative is the seeds' (the planner decides thousands of times: be quick)
        holding = [condition for condition in spec.when if holds(condition, self.model, obj, context)]
        if not holding or any(condition.inferred is None for condition in holding):
            return None
        return f"{spec.name} succeeding here: {holding[0].inferred}"

    def _check(self, request: Any, skip_checks: frozenset[str]) -> tuple[CommandSpec, MbObject, Any]:
        errors = [] if "envelope" in skip_checks else self.catalogue.protocol.request_envelope.errors(request)
        if errors:
            raise Refusal("malformed_request", "; ".join(errors))
        command, target, data = request["command"], request["target"], request["data"]
        spec = self.catalogue.commands.get(command)
        if spec is None:
            raise Refusal("unknown_command", f"unknown command {preview(repr(command))}")
        if self.platform not in spec.platforms:
            raise Refusal(
                "unsupported",
                f"{command} is not supported on the {self.platform} platform",
                f"which platform has {command} is the catalogue's reading (specs/platforms.yaml)",
            )
        errors = [] if "data" in skip_checks else spec.request_errors(self.platform, data)
        when = _lenient_counts(spec.when, skip_checks)
        try:
            obj = self._check_target(
                spec.name, spec.level, target, when, "state" in skip_checks, errors, data, spec.media
            )
        except Refusal as refusal:
            if refusal.inferred is None and refusal.reason == "invalid_data" and spec.provenance == "inferred":
                refusal.inferred = f"{command_basis(spec)}: its request data is the catalogue's reading"
            raise
        return spec, obj, data

    def _check_target(
        self,
        name: str,
        level: str,
        target: str,
        when: tuple[Condition, ...],
        any_state: bool,
        data_errors: list[str],
        data: Any = MISSING,
        media: frozenset[str] = frozenset(),
    ) -> MbObject:
        """The target is a live object of ``level`` on a channel of ``media``, the data is valid, and the
        precondition holds."""
        obj, why = self.model.find_target(target, level)
        if obj is None:
            raise Refusal("invalid_target", why)
        kind = self.model.media_of(obj)
        if media and kind is not None and kind not in media:
            raise Refusal(
                "invalid_target",
                f"{name} is for {'/'.join(sorted(media))}; {target} is {kind}",
                "the media of a channel and which media a request is for are the catalogue's reading (ERRATA R23)",
            )
        if data_errors:
            raise Refusal("invalid_data", "; ".join(data_errors))
        reasons = [] if any_state else legal(when, self.model, obj, self.context(data))
        if reasons:
            inferred = _guessed(self.model, obj)
            if inferred is None and (kind is None or self.model.media_unsure(obj)) and mentions_media(when):
                inferred = (
                    f"the adapter does not say (where the catalogue reads it, ERRATA R23) which media the channel "
                    f"of {target} has, so whether {name} is legal there is a guess"
                )
            if inferred is None and not all(condition.refusal_seed for condition in when):
                inferred = (
                    f"where {name} fails is the catalogue's reading: the seeds do not say it fails "
                    f"{'here' if obj.state is None else 'in ' + obj.state} (ERRATA R20)"
                )
            weaker = [c.seed_condition for c in when if c.seed_condition is not None]
            if inferred is None and any(not legal((c,), self.model, obj, self.context(data)) for c in weaker):
                seeds = " or ".join(c.describe() for c in weaker)
                inferred = (
                    f"the seeds say {name} fails only where it is not {seeds}; that {'; or '.join(reasons)} is "
                    "the catalogue's reading (ERRATA R20)"
                )
            raise Refusal("invalid_state", f"{name} is not possible now: {'; or '.join(reasons)}", inferred)
        return obj

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
        message = refusal.message  # bounded: the response already echoes the request twice
        if len(message) > MAX_MESSAGE_CHARS:
            message = message[:MAX_MESSAGE_CHARS] + f"… ({len(refusal.message)} chars)"
        response = self.respond(safe, "failure", failure={"code": code, "message": message})
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
        decision = self.decide(request, skip_checks)
        if decision.refusal is not None:
            return Outcome(self.failure(request, decision.refusal))
        outcome = decision.outcome
        extra = with_facts(dict(outcome.response_example), self.facts) if outcome is not None else {}
        if decision.result == "failure":
            reason = outcome.failure if outcome is not None and outcome.failure else "failed"
            refusal = Refusal(reason, outcome.summary if outcome is not None else "the request failed")
            response = self.failure(request, refusal)
        else:
            response = self.respond(request, decision.result, **extra)
        events = []
        if decision.events is not None:
            events = self.emit_list(decision.events, request["target"], skip, request["data"])
        return Outcome(response, events)

    def stimulate(self, name: str, target: str) -> list[dict[str, Any]]:
        spec = self.catalogue.stimuli.get(name)
        if spec is None:
            raise Refusal("unknown_command", f"unknown stimulus {name!r}")
        if spec.platforms and self.platform not in spec.platforms:
            raise Refusal("unsupported", f"the stimulus {name} does not exist on the {self.platform} platform")
        self._check_target(name, spec.level, target, spec.when, False, [], MISSING, spec.media)
        return self.emit_list(spec.events, target)


def _guessed(model: ObjectModel, obj: MbObject) -> str | None:
    """Why a decision about ``obj`` is a convention because a state it reads is the adapter's own name."""
    if not model.guesses:
        return None
    if obj.doubted:  # only the object itself: a doubt about a call says nothing of its channel's state
        return f"{obj.doubted}: what the catalogue predicts from the state of {obj.address} is a convention"
    other = model.guessed_near(obj)
    if other is None:
        return None
    return (
        f"the adapter names the state of {other.address} {other.state!r} its own way: what the catalogue predicts "
        "from it is a convention (a profile declares the adapter's state names)"
    )


def _media_guessed(model: ObjectModel, spec: CommandSpec, obj: MbObject) -> str | None:
    """Why a decision's result is a guess because it reads the media of a channel the adapter names no media
    for where the profile says (core/media.py); None if it reads no media or the media is known."""
    if not spec.reads_media or not model.media_unsure(obj):
        return None
    return (
        f"the adapter does not name the media of the channel of {obj.address} where the profile says (the "
        f"catalogue's channel.media, ERRATA R23; conventions.media), so what {spec.name} brings there is a guess"
    )


def command_basis(spec: CommandSpec) -> str | None:
    """Why a command as a whole is the catalogue's reading (None: the seeds print it)."""
    if spec.provenance != "inferred":
        return None
    return f"{spec.name} is the catalogue's reading: {spec.reason or 'the seeds do not print it'}"


def _example_for(spec: EventSpec, data: Mapping[str, Any]) -> Mapping[str, Any]:
    """The event's example as the base of an entry's data, without the state and facets the example sets
    when the entry sets any of them (a facet change does not repeat the example's state)."""
    paths = list(spec.sets.values())
    if not any(find(data, path) is not MISSING for path in paths):
        return spec.example
    base: Any = spec.example
    for path in paths:
        if find(base, path) is not MISSING and find(data, path) is MISSING:
            base = without(base, path)
    return cast(Mapping[str, Any], base)


def channel_seeds(catalogue: Catalogue, media: Sequence[str]) -> list[dict[str, Any]]:
    """Start-up data for one channel per media, at the path states.yaml names for a channel's media (the
    event that creates the channel fills in the rest from its example)."""
    path = catalogue.levels["channel"].media_path if "channel" in catalogue.levels else None
    if path is None:
        return [{} for _ in media]
    return [with_value({}, path, kind) for kind in media]


class FactError(ValueError):
    pass


def parse_facts(catalogue: Catalogue, items: Sequence[str]) -> dict[str, Any]:
    """``NAME=VALUE`` items (VALUE is JSON, or else a string), each checked against its fact's schema."""
    facts: dict[str, Any] = {}
    for item in items:
        name, sep, text = item.partition("=")
        if not sep or name not in catalogue.facts:
            known = ", ".join(sorted(catalogue.facts))
            raise FactError(f"fact {item!r}: expected NAME=VALUE with NAME one of {known}")
        try:
            value = json.loads(text)
        except ValueError:
            value = text
        errors = catalogue.facts[name].errors(value)
        if errors:
            raise FactError(f"fact {name}: {'; '.join(errors)}")
        facts[name] = value
    return facts


def _with_data(entry: EventEntry, data: Mapping[str, Any]) -> EventEntry:
    return replace(entry, data=deep_merge(data, entry.data))


COUNT_AS = "count-as:"  # a check to skip: "count-as:STATE=OTHER", children in STATE also count as in OTHER


def _lenient_counts(when: tuple[Condition, ...], skip_checks: frozenset[str]) -> tuple[Condition, ...]:
    """The precondition as a reference adapter's fault checks it: without its counts of children
    ("count"), or counting children in STATE as in OTHER too ("count-as:STATE=OTHER")."""
    if "count" in skip_checks:
        return tuple(replace(condition, count={}) for condition in when)
    counted_as = [
        check.removeprefix(COUNT_AS).partition("=") for check in skip_checks if check.startswith(COUNT_AS)
    ]
    if not counted_as:
        return when

    def widened(states: frozenset[str] | None) -> frozenset[str] | None:
        if states is None:
            return None
        return states | {state for state, _, other in counted_as if other in states}

    return tuple(
        replace(
            condition,
            count={
                level: tuple(replace(c, states=widened(c.states)) for c in counts)
                for level, counts in condition.count.items()
            },
        )
        for condition in when
    )
