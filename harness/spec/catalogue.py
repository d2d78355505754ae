"""The catalogue: the protocol as typed, immutable data, built from ``specs/`` by :mod:`.loader`.

Nothing in this module knows a command or an event by name; every such fact comes from a spec file.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from ..jsonpaths import MISSING, find


@dataclass(frozen=True)
class SpecRef:
    """Where a fact comes from: the spec file and line, and the seed passage it encodes."""

    file: str
    line: int
    seed: str | None = None
    section: str | None = None
    requirements: tuple[str, ...] = ()  # the ids (specs/requirements.yaml) this element encodes

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
class Count:
    """How many descendants of a level (in ``states``, and initialized or not, if given) an object may have."""

    states: frozenset[str] | None
    min: int | None
    max: int | None
    initialized: bool | None = None  # count only those initialized (True) or not yet initialized (False)

    def describe(self, level: str) -> str:
        what = f"{level}s" + (f" in {'/'.join(sorted(self.states))}" if self.states else "")
        if self.initialized is not None:
            what += " initialized" if self.initialized else " not yet initialized"
        if self.min is not None and self.max is not None:
            return f"{self.min} to {self.max} {what}" if self.min != self.max else f"{self.min} {what}"
        return f"at least {self.min} {what}" if self.min is not None else f"at most {self.max} {what}"


@dataclass(frozen=True, eq=False)
class Condition:
    """What must hold of an object (and of the request and platform) for a rule to apply. Every part that
    is given must hold; :mod:`harness.core.conditions` evaluates it."""

    state: frozenset[str] | None = None
    facets: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    media: frozenset[str] | None = None
    count: Mapping[str, tuple[Count, ...]] = field(default_factory=dict)
    parent: Condition | None = None
    platform: frozenset[str] | None = None
    facts: Mapping[str, Schema] = field(default_factory=dict)
    data: Schema | None = None
    inferred: str | None = None  # why this alternative is the catalogue's reading (None: the seeds describe it)
    refusal_seed: bool = False  # the seeds say a failure is generated where this does not hold
    # where the seeds' own condition is weaker (refusal: {seed: ...}): a refusal where it holds and this does
    # not is the catalogue's reading (the seeds say consult fails only where the interaction has not started)
    seed_condition: Condition | None = None

    def describe(self) -> str:
        parts = []
        if self.media is not None:
            parts.append("/".join(sorted(self.media)))
        if self.state is not None:
            parts.append("in " + " or ".join(sorted(self.state)))
        parts += [f"{name} {'/'.join(str(v) for v in values)}" for name, values in self.facets.items()]
        parts += [f"with {count.describe(level)}" for level, counts in self.count.items() for count in counts]
        if self.parent is not None:
            parts.append(f"whose parent is {self.parent.describe()}")
        if self.platform is not None:
            parts.append("on " + "/".join(sorted(self.platform)))
        parts += [f"where {name} is {dict(schema.document)}" for name, schema in self.facts.items()]
        if self.data is not None:
            parts.append(f"with data {dict(self.data.document)}")
        return ", ".join(parts) or "any state"


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
    only_if: Condition | None = None  # the entry applies only if this holds of the target before the request
    swap: Mapping[str, str] = field(default_factory=dict)  # state before the request -> state it sets
    refer: Mapping[str, str] = field(default_factory=dict)  # data path -> name of a bound object (its id)
    group: int = 0  # entries with the same non-zero group arrive in any order among themselves (any_order)
    printed: bool = False  # the seeds print the entry; only its data is inferred (``inferred`` says why)

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
    settle: bool = False  # after the last entry nothing more happens (checked for the profile's settle window)
    reason: str | None = None  # why an inferred list is what it is
    nonempty: bool = False  # the seeds say the request generates secondary events, though they cut the list

    @property
    def inferred(self) -> str | None:
        """Why the list is a convention (None: the seeds print it)."""
        if self.provenance != "inferred":
            return None
        return self.reason or "the seeds do not print this list (ERRATA R5)"

    def basis(self, entry: EventEntry, data: bool = False) -> str | None:
        """Why an entry of this list is a convention (None: the seeds print it): its own reason, else the
        list's. ``data``: of the entry's data (an entry the seeds print may have inferred data)."""
        if entry.printed and not data:
            return self.inferred
        return entry.inferred or self.inferred


MEMO_ENTRIES = 2048  # instances whose errors a schema remembers
MEMO_CHARS = 4096  # the largest instance (as JSON) remembered


@dataclass(frozen=True)
class Schema:
    """A JSON Schema with its compiled validator. The errors of small instances are remembered: the simulator
    and the planner check the same requests and examples again and again."""

    document: Mapping[str, Any]
    validator: Draft202012Validator = field(compare=False, repr=False)
    memo: dict[str, list[str]] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def of(cls, document: Mapping[str, Any]) -> Schema:
        return cls(document, Draft202012Validator(document))

    @cached_property
    def names_facts(self) -> bool:
        """The schema names a platform fact (``$fact:NAME``), to be filled in before use."""
        return FACT_PREFIX in repr(self.document)

    def errors(self, instance: Any) -> list[str]:
        key: str | None = None
        if _plain_json(instance, 0):  # a tuple, or a dict with other keys than strings, has no key of its own
            key = json.dumps(instance, sort_keys=True, separators=(",", ":"))
        if key is not None and len(key) > MEMO_CHARS:
            key = None
        if key is not None and key in self.memo:
            return list(self.memo[key])
        errors = sorted(self.validator.iter_errors(instance), key=lambda e: [str(p) for p in e.absolute_path])
        described = [describe_error(error) for error in errors]
        if key is not None:
            if len(self.memo) >= MEMO_ENTRIES:
                self.memo.clear()
            self.memo[key] = described
        return list(described)


MAX_ERROR_CHARS = 300


def _plain_json(value: Any, depth: int) -> bool:
    """The value is made of dicts with string keys, lists, strings, numbers, booleans and None only (so its
    JSON text names it alone), and is small and shallow enough to be worth remembering."""
    if depth > 8:
        return False
    if value is None or isinstance(value, str | int | float):  # bool is an int
        return True
    if type(value) is list:
        return len(value) <= 64 and all(_plain_json(item, depth + 1) for item in value)
    if type(value) is dict:
        return len(value) <= 64 and all(type(k) is str and _plain_json(v, depth + 1) for k, v in value.items())
    return False


def describe_error(error: ValidationError) -> str:
    """A JSON Schema error as one line: the path to the value, then what is wrong with it."""
    where = "/".join(str(p) for p in error.absolute_path)
    message = error.message if len(error.message) <= MAX_ERROR_CHARS else error.message[:MAX_ERROR_CHARS] + "…"
    return f"{where}: {message}" if where else message


@dataclass(frozen=True)
class FacetSpec:
    """A facet of an object besides its state (hold is a state; mute, recording and focus are facets)."""

    name: str
    values: tuple[Any, ...] | None  # None: the id of a child (``child``)
    initial: Any
    child: str | None = None


@dataclass(frozen=True)
class LevelSpec:
    name: str
    code: str  # in test ids (MB-<code>-...)
    parents: tuple[str, ...]
    initial: str | None
    states: frozenset[str]
    states_in_order: tuple[str, ...] = ()
    facets: Mapping[str, FacetSpec] = field(default_factory=dict)
    media_path: str | None = None  # where the data of its creating event names its media
    most: Mapping[str, int] = field(default_factory=dict)  # child level -> most live children at once
    live: frozenset[str] | None = None  # states in which it counts as live (None: all)
    transitions: Mapping[str, frozenset[str]] | None = None  # state -> states it may change to (None: any)


@dataclass(frozen=True)
class EventSpec:
    name: str
    levels: frozenset[str]
    provenance: str
    creates_level: str | None
    creates_id_path: str | None
    sets: Mapping[str, str]  # "state" or a facet -> where the data carries its new value
    initializes: bool
    disposes: bool
    data: Schema
    example: Mapping[str, Any]
    ref: SpecRef
    requires: tuple[Condition, ...] = ()  # the event is possible only where one of these holds of its object
    reason: str | None = None  # why an inferred event is what it is

    @property
    def inferred(self) -> str | None:
        """Why the event's shape (its data, its levels, what it does) is a convention (None: printed)."""
        if self.provenance != "inferred":
            return None
        return f"{self.name}: {self.reason or 'the seeds do not print this event'}"

    @property
    def sets_state_path(self) -> str | None:
        return self.sets.get("state")


@dataclass(frozen=True)
class FollowUp:
    """What the media bar does after a needinfo: send the command again with other data, or wait for a
    stimulus (the agent acting in the platform's own UI)."""

    title: str
    data: Mapping[str, Any] | None
    stimulus: str | None
    on: str  # "target" or "parent" (for a stimulus)


@dataclass(frozen=True)
class OutcomeSpec:
    """A result other than the default: when ``when`` holds, the adapter answers ``result`` (with
    ``response`` members) and emits ``events``."""

    name: str
    summary: str
    when: Condition
    result: str
    failure: str | None
    response: Schema | None
    response_example: Mapping[str, Any]
    events: EventList | None
    then: tuple[FollowUp, ...]
    ref: SpecRef
    example: Mapping[str, Any] | None = None  # request data that brings it (None: the command's example)
    inferred: str | None = None  # why the outcome is the catalogue's reading (None: the seeds print it)
    should: bool = False  # the seeds word it as a should ("this should successfully return")


FACT_PREFIX = "$fact:"


def with_facts(value: Any, facts: Mapping[str, Any]) -> Any:
    """``value`` with every string ``$fact:NAME`` replaced by that fact's value (an unknown fact stays)."""
    if isinstance(value, str) and value.startswith(FACT_PREFIX):
        return facts.get(value[len(FACT_PREFIX) :], value)
    if isinstance(value, Mapping):
        return {key: with_facts(item, facts) for key, item in value.items()}
    if isinstance(value, list):
        return [with_facts(item, facts) for item in value]
    return value


RESPONSE_PREFIX = "$response:"


def with_response(value: Any, response: Any) -> Any:
    """``value`` with every string ``$response:PATH`` replaced by the member at ``PATH``
    (``uiExtension.skills[0].id``) of ``response``, the answer to the request before (a follow-up's choice
    among what a needinfo offered); a member the response lacks stays as written (the adapter then refuses
    it, and says so)."""
    if isinstance(value, str) and value.startswith(RESPONSE_PREFIX):
        found = find(response, "$." + value[len(RESPONSE_PREFIX) :]) if isinstance(response, Mapping) else MISSING
        return value if found is MISSING else found
    if isinstance(value, Mapping):
        return {key: with_response(item, response) for key, item in value.items()}
    if isinstance(value, list):
        return [with_response(item, response) for item in value]
    return value


MAX_FACT_SCAN = 10_000  # values of one request searched for platform data (a fuzzed frame may be huge)


def facts_in(value: Any) -> set[str]:
    """The facts a value names (``$fact:NAME`` strings, at any depth)."""
    if isinstance(value, str):
        return {value[len(FACT_PREFIX) :]} if value.startswith(FACT_PREFIX) else set()
    if isinstance(value, Mapping):
        return {name for item in value.values() for name in facts_in(item)}
    if isinstance(value, list):
        return {name for item in value for name in facts_in(item)}
    return set()


def facts_sent(value: Any, facts: Mapping[str, Any]) -> set[str]:
    """The facts whose value ``value`` carries (a string or a number, at any depth): data whose ``$fact:``
    names were already replaced (a fuzzer's request, a frame) still shows which platform data it sends."""
    wanted: dict[Any, set[str]] = {}
    for name, fact in facts.items():
        if (isinstance(fact, str) and fact) or (isinstance(fact, int) and not isinstance(fact, bool) and fact):
            wanted.setdefault(fact, set()).add(name)
    found: set[str] = set()
    stack, seen = [value], 0
    while stack and seen < MAX_FACT_SCAN:
        item = stack.pop()
        seen += 1
        if isinstance(item, Mapping):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str | int) and not isinstance(item, bool) and item in wanted:
            found |= wanted[item]
    return found


def states_of(when: tuple[Condition, ...]) -> frozenset[str]:
    """The states a precondition names (empty: it names none, any state will do)."""
    return frozenset(state for condition in when for state in (condition.state or ()))


@dataclass(frozen=True)
class CommandSpec:
    name: str
    level: str
    platforms: frozenset[str]
    media: frozenset[str]
    provenance: str
    summary: str
    when: tuple[Condition, ...]  # alternatives; empty: legal in any state
    request: Schema
    example: Mapping[str, Any]
    results: frozenset[str]
    events: EventList
    ref: SpecRef
    outcomes: tuple[OutcomeSpec, ...] = ()
    platform_requests: Mapping[str, tuple[Schema | None, Mapping[str, Any] | None]] = field(default_factory=dict)
    reason: str | None = None  # why an inferred command is what it is

    @cached_property
    def reads_media(self) -> bool:
        """What the command brings depends on its channel's media (the command's own, a precondition's or an
        outcome's condition): the oracle decides it thousands of times, so it is worked out once."""
        conditions = [*self.when, *(outcome.when for outcome in self.outcomes)]
        return bool(self.media) or any(_reads_media(condition) for condition in conditions)

    @cached_property
    def lists_read_media(self) -> bool:
        """Which events an event list of the command expects depends on the channel's media."""
        lists = [self.events, *(outcome.events for outcome in self.outcomes)]
        return any(_reads_media(e.only_if) for events in lists if events is not None for e in events.entries)

    @property
    def marker(self) -> str:
        """A pytest marker name for this command (dots are not allowed in marker names)."""
        return self.name.replace(".", "_")

    @property
    def when_states(self) -> frozenset[str]:
        return states_of(self.when)

    def example_for(self, platform: str) -> Mapping[str, Any]:
        example = self.platform_requests.get(platform, (None, None))[1]
        return example if example is not None else self.example

    def request_errors(self, platform: str, data: Any) -> list[str]:
        errors = self.request.errors(data)
        extra = self.platform_requests.get(platform, (None, None))[0]
        return errors if extra is None else errors + extra.errors(data)


@dataclass(frozen=True)
class StimulusSpec:
    name: str
    level: str
    media: frozenset[str]
    provenance: str
    summary: str
    when: tuple[Condition, ...]
    events: EventList
    ref: SpecRef
    platforms: frozenset[str] = frozenset()  # empty: every platform

    @property
    def when_states(self) -> frozenset[str]:
        return states_of(self.when)


@dataclass(frozen=True)
class PlatformSpec:
    name: str
    summary: str
    facts: Mapping[str, Any]  # what the platform is like where the seeds depend on it (skills, ACW...)


@dataclass(frozen=True)
class StartupRequest:
    command: str
    target: str
    data: Mapping[str, Any]


@dataclass(frozen=True)
class StartupSpec:
    send: tuple[StartupRequest, ...]
    per_channel: EventList  # about the session, or with channel-group addressing about the channel's group
    ready_event: str
    ref: SpecRef
    per_group: str | None = None  # the command whose list announces a group and its channel (group addressing)
    activation: str | None = None  # the command that makes an announced channel usable (ERRATA R10)


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
class RequirementSpec:
    """A normative statement of the seeds: its stable id, exact quote and seed section, its provenance
    (``seed``, or ``ruling`` with the ERRATA ruling that decides how a contradiction reads) and strength."""

    id: str
    strength: str  # MUST or SHOULD, as the seed words it
    provenance: str  # seed or ruling
    ruling: str | None
    seed: str
    section: str
    quote: str
    summary: str
    ref: SpecRef  # where specs/requirements.yaml defines it
    unchecked: str | None = None  # why no check enforces it (it binds the media bar, or nothing shows it)


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
    platforms: Mapping[str, PlatformSpec] = field(default_factory=dict)
    facts: Mapping[str, Schema] = field(default_factory=dict)  # fact -> the schema of its value
    default_platform: str = ""  # the platform of an adapter or simulation that names none
    requirements: Mapping[str, RequirementSpec] = field(default_factory=dict)  # id -> requirement

    def command(self, name: str) -> CommandSpec | None:
        return self.commands.get(name)

    @cached_property
    def initialized_levels(self) -> frozenset[str]:
        """The levels an event initializes: an object at one of them is not ready until that event."""
        return frozenset(level for spec in self.events.values() if spec.initializes for level in spec.levels)

    def level_of_command(self, name: str) -> str | None:
        """The target level of a command: from the catalogue, else from its prefix (``conversation.x``)."""
        spec = self.commands.get(name)
        if spec is not None:
            return spec.level
        prefix = name.split(".", 1)[0]
        return prefix if prefix in self.levels else None


def _reads_media(condition: Condition | None) -> bool:
    while condition is not None:
        if condition.media:
            return True
        condition = condition.parent
    return False
