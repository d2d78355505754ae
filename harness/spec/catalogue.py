"""The catalogue: the protocol as typed, immutable data, built from ``specs/`` by :mod:`.loader`.

Nothing in this module knows a command or an event by name; every such fact comes from a spec file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError


@dataclass(frozen=True)
class SpecRef:
    """Where a fact comes from: the spec file and line, and the seed passage it encodes."""

    file: str
    line: int
    seed: str | None = None
    section: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}"
        if self.seed:
            seed = f"seed {self.seed}" + (f" › {self.section}" if self.section else "")
            where += f" ({seed})"
        return where


@dataclass(frozen=True)
class EachAbout:
    """An entry about every existing object at ``level`` under the target (in ``in_state``, if given)."""

    level: str
    in_state: frozenset[str] | None = None

    def __str__(self) -> str:
        states = f" in {sorted(self.in_state)}" if self.in_state else ""
        return f"each {self.level}{states}"


@dataclass(frozen=True)
class EventEntry:
    """One entry of a secondary-event list."""

    event: str
    about: str | EachAbout  # "target", "parent", "session", or a name bound by an earlier entry
    binds: str | None
    data: Mapping[str, Any]
    optional: bool
    repeat: bool
    inferred: str | None
    ref: SpecRef

    def describe(self) -> str:
        text = f"{self.event} about {self.about}"
        if self.data:
            text += f" with {dict(self.data)}"
        if self.optional and self.repeat:
            text += " (zero or more)"
        elif self.repeat:
            text += " (one or more)"
        elif self.optional:
            text += " (optional)"
        return text


@dataclass(frozen=True)
class EventList:
    provenance: str
    complete: bool
    interleave_allowed: bool
    entries: tuple[EventEntry, ...]
    ref: SpecRef


@dataclass(frozen=True)
class Schema:
    """A JSON Schema with its compiled validator."""

    document: Mapping[str, Any]
    validator: Draft202012Validator = field(compare=False, repr=False)

    @classmethod
    def of(cls, document: Mapping[str, Any]) -> Schema:
        return cls(document, Draft202012Validator(document))

    def errors(self, instance: Any) -> list[str]:
        errors = sorted(self.validator.iter_errors(instance), key=lambda e: [str(p) for p in e.absolute_path])
        return [describe_error(error) for error in errors]


MAX_ERROR_CHARS = 300


def describe_error(error: ValidationError) -> str:
    """A JSON Schema error as one line: the path to the value, then what is wrong with it."""
    where = "/".join(str(p) for p in error.absolute_path)
    message = error.message if len(error.message) <= MAX_ERROR_CHARS else error.message[:MAX_ERROR_CHARS] + "…"
    return f"{where}: {message}" if where else message


@dataclass(frozen=True)
class LevelSpec:
    name: str
    code: str  # in test ids (MB-<code>-...)
    parents: tuple[str, ...]
    initial: str | None
    states: frozenset[str]
    states_in_order: tuple[str, ...] = ()


@dataclass(frozen=True)
class EventSpec:
    name: str
    levels: frozenset[str]
    provenance: str
    creates_level: str | None
    creates_id_path: str | None
    sets_state_path: str | None
    initializes: bool
    disposes: bool
    data: Schema
    example: Mapping[str, Any]
    ref: SpecRef


@dataclass(frozen=True)
class CommandSpec:
    name: str
    level: str
    platforms: frozenset[str]
    media: frozenset[str]
    provenance: str
    summary: str
    when_states: frozenset[str]  # empty: legal in any state
    request: Schema
    example: Mapping[str, Any]
    results: frozenset[str]
    events: EventList
    ref: SpecRef

    @property
    def marker(self) -> str:
        """A pytest marker name for this command (dots are not allowed in marker names)."""
        return self.name.replace(".", "_")


@dataclass(frozen=True)
class StimulusSpec:
    name: str
    level: str
    media: frozenset[str]
    provenance: str
    summary: str
    when_states: frozenset[str]
    events: EventList
    ref: SpecRef


@dataclass(frozen=True)
class StartupRequest:
    command: str
    target: str
    data: Mapping[str, Any]


@dataclass(frozen=True)
class StartupSpec:
    send: tuple[StartupRequest, ...]
    per_channel: EventList
    ready_event: str
    ref: SpecRef


@dataclass(frozen=True)
class EchoRule:
    response_path: str
    request_path: str


@dataclass(frozen=True)
class ResponseRule:
    result: str
    schema: Schema
    echo: tuple[EchoRule, ...]
    ref: SpecRef


@dataclass(frozen=True)
class Protocol:
    event_message_type: str  # the value of an event's messageType (from the event envelope)
    request_envelope: Schema
    event_envelope: Schema
    responses: Mapping[str, ResponseRule]
    failure_codes: Mapping[str, str]
    ref: SpecRef


@dataclass(frozen=True)
class Catalogue:
    root: Path
    version: str  # a digest of every spec file, so reports say which catalogue they ran
    protocol: Protocol
    levels: Mapping[str, LevelSpec]
    events: Mapping[str, EventSpec]
    commands: Mapping[str, CommandSpec]
    stimuli: Mapping[str, StimulusSpec]
    startup: StartupSpec

    def command(self, name: str) -> CommandSpec | None:
        return self.commands.get(name)

    def level_of_command(self, name: str) -> str | None:
        """The target level of a command: from the catalogue, else from its prefix (``conversation.x``)."""
        spec = self.commands.get(name)
        if spec is not None:
            return spec.level
        prefix = name.split(".", 1)[0]
        return prefix if prefix in self.levels else None
