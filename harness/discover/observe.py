"""What discovery learns from the frames of its sessions, sans I/O: a listener fed the run events.

Nothing here names an event, a state or a level: every judgement reads the catalogue (an event's spec says
whether it creates an object and where its data carries a state; a level's spec names its states) and the
session's own shadow model (which object a target is) and oracle (what the catalogue predicts a request
brings). What the adapter sent is untrusted: every piece of it kept as evidence is bounded and escaped.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..core.messages import Event, Request, classify
from ..core.objects import SEPARATOR, ObjectModel, catalogue_spelling
from ..core.runevents import FrameReceived, FrameSent, RunEvent, StepFinished, StepStarted
from ..core.simulate import Refusal
from ..core.testcontrol import STIMULATE
from ..jsonpaths import find, with_value
from ..spec.catalogue import Catalogue

if TYPE_CHECKING:
    from ..runner.session import MediaBarSession

EVIDENCE_CHARS = 240  # of one frame quoted as evidence
EVIDENCE_FRAMES = 3  # frames quoted for one observation
STARTUP_FRAMES = 200  # start-up frames kept in order
MOST_NAMES = 50  # distinct event names, state values per level, mappings per level kept
NAME_CHARS = 120  # an adapter's event or state name longer than this is not kept as a name
REPORTED = 32  # states kept per object and step
STEP_EVENTS = 30  # event names kept of one step
STARTUP_STEP = "session.startup"  # the name of the start-up's step (runner/session.py)


def shown(text: str, limit: int = EVIDENCE_CHARS) -> str:
    """A frame as evidence in a YAML comment: one line, ASCII, control characters escaped, bounded."""
    escaped = json.dumps(text, ensure_ascii=True)[1:-1].replace('\\"', '"')
    return escaped if len(escaped) <= limit else escaped[:limit] + f"... ({len(text)} chars)"


def normalized(value: str, states: frozenset[str]) -> str | None:
    """The catalogue state ``value`` names, exactly or spelled another way (case, separators), else None
    (the object model follows the same spellings: core/objects.py)."""
    if value in states:
        return value
    key = catalogue_spelling(value)
    return key if key in states else None


@dataclass
class Seen:
    """One observation and the frames that show it (the first few)."""

    evidence: list[str] = field(default_factory=list)
    count: int = 0

    def add(self, frame: str) -> None:
        self.count += 1
        quoted = shown(frame)
        if len(self.evidence) < EVIDENCE_FRAMES and quoted not in self.evidence:
            self.evidence.append(quoted)


@dataclass
class Mapping_:
    """A state the adapter names its own way, where the catalogue expected one of its states."""

    level: str
    adapter: str
    catalogue: str
    after: str  # the request or stimulus after which it was seen
    seen: Seen = field(default_factory=Seen)
    followed: int = 0  # frames of later sessions read with this mapping


@dataclass
class _Pending:
    """What the catalogue predicts for the step under way (simulated before its request went out)."""

    label: str
    before: dict[str, str | None]  # address -> state of every object before the step
    predicted: ObjectModel
    reported: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # address -> [(state, frame)]


class Observer:
    """A listener for the sessions discovery drives; ``session`` is the one under way."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self.session: MediaBarSession | None = None
        self.in_startup = False
        self.startup_frames: list[tuple[str, str]] = []  # (summary, frame) in order, the first session's
        self.startup_done = False  # the first session's start-up is over (later ones are not recorded)
        self.extra_events: dict[str, Seen] = {}  # events the catalogue does not know
        self.startup_extra: set[str] = set()  # of which, seen during a start-up
        self.states: dict[str, dict[str, Seen]] = {}  # level -> the adapter's state value -> frames
        self.startup_states: list[tuple[str, str, str, str]] = []  # (level, address, state, frame) at start-up
        self.mappings: dict[tuple[str, str], Mapping_] = {}  # (level, adapter's name) -> the catalogue's state
        self.other_states: dict[str, Seen] = {}  # "after X, the catalogue expects A; the adapter said B"
        self.creation: dict[tuple[str, str], Seen] = {}  # (event, "parent" | "new object") -> frames
        self.areas: dict[str, Seen] = {}  # convention area -> the warnings that show a difference there
        self.created_first: dict[str, str] = {}  # level -> the first frame that created an object of it
        self._pending: _Pending | None = None
        self.step_events: list[str] = []  # the events of the step under way (or the last one), in order

    # -- the listener ------------------------------------------------------------------------------

    def __call__(self, event: RunEvent) -> None:
        if isinstance(event, StepStarted):
            self.in_startup = event.step.name == STARTUP_STEP and not self.startup_done
            self.step_events = []
        elif isinstance(event, FrameSent):
            self._sent(event.text)
        elif isinstance(event, FrameReceived):
            self._received(event.text)
        elif isinstance(event, StepFinished):
            if event.step.name == STARTUP_STEP:
                self.startup_done = self.startup_done or self.in_startup
                self.in_startup = False
            self._finished()
            for violation in event.violations:
                if violation.is_convention and violation.area is not None:
                    seen = self.areas.setdefault(violation.area, Seen())
                    seen.add(f"{violation.title}: {violation.message}")

    def _sent(self, text: str) -> None:
        """A request goes out: what does the catalogue predict it brings (simulated on a copy)?"""
        session = self.session
        message = classify(text)
        if session is None or not session.ready or not isinstance(message, Request):
            return
        request = message.raw
        predicted = session.oracle.copy()
        try:
            if message.command == STIMULATE and isinstance(message.data, Mapping):
                predicted.stimulate(str(message.data.get("stimulus")), message.target)
            else:
                decision = session.oracle.decide(request)
                if decision.refusal is not None or decision.events is None:
                    return
                predicted.handle(request)
        except (Refusal, KeyError, ValueError, TypeError):
            return  # the catalogue predicts nothing usable here: nothing to compare with
        before = {address: obj.state for address, obj in session.model.objects.items()}
        self._pending = _Pending(f"{message.command} on {message.target}", before, predicted.model)

    def _received(self, text: str) -> None:
        message = classify(text)
        session = self.session
        if not isinstance(message, Event):
            if self.in_startup and len(self.startup_frames) < STARTUP_FRAMES:
                self.startup_frames.append(("a frame that is no event", text))
            return
        if self.in_startup and len(self.startup_frames) < STARTUP_FRAMES:
            self.startup_frames.append((f"{message.name} about {message.target}", text))
        if len(self.step_events) < STEP_EVENTS:
            self.step_events.append(f"{shown(message.name, NAME_CHARS)} about {shown(message.target, NAME_CHARS)}")
        spec = self.catalogue.events.get(message.name)
        if spec is None:
            if len(message.name) <= NAME_CHARS and (
                message.name in self.extra_events or len(self.extra_events) < MOST_NAMES
            ):
                self.extra_events.setdefault(message.name, Seen()).add(text)
                if self.in_startup:
                    self.startup_extra.add(message.name)
            return
        model = session.model if session is not None else None
        obj = model.get(message.target) if model is not None else None  # before the event is applied
        data = message.data if isinstance(message.data, dict) else {}
        if spec.creates_level and spec.creates_id_path:
            new_id = find(data, spec.creates_id_path)
            about = "new object" if obj is None and message.target.rsplit(SEPARATOR, 1)[-1] == new_id else "parent"
            self.creation.setdefault((message.name, about), Seen()).add(text)
            self.created_first.setdefault(spec.creates_level, shown(text))
        path = spec.sets.get("state")
        value = find(data, path) if path is not None else None
        if obj is None or not isinstance(value, str) or len(value) > NAME_CHARS:
            return
        values = self.states.setdefault(obj.level, {})
        if value in values or len(values) < MOST_NAMES:
            values.setdefault(value, Seen()).add(text)
        if self.in_startup and len(self.startup_states) < STARTUP_FRAMES:
            self.startup_states.append((obj.level, obj.address, value, text))
        if self._pending is not None:
            reported = self._pending.reported.setdefault(obj.address, [])
            if len(reported) >= REPORTED:
                del reported[1:-1]  # a flood: keep the first and the latest (the one a mapping would take)
            reported.append((value, text))

    def _finished(self) -> None:
        """A step ended: where the catalogue predicted a state and the adapter named another, note it, and
        propose a mapping where the adapter's name is none of the catalogue's states."""
        pending, session = self._pending, self.session
        self._pending = None
        if pending is None or session is None:
            return
        pairs = [(address, address) for address in pending.before if address in pending.predicted.objects]
        pairs += _new_objects(pending, session.model)
        for real, simulated in pairs:
            predicted = pending.predicted.objects[simulated].state
            reported = pending.reported.get(real)
            if predicted is None or not reported or (real == simulated and pending.before.get(real) == predicted):
                continue
            level = pending.predicted.objects[simulated].level
            states = self.catalogue.levels[level].states if level in self.catalogue.levels else frozenset()
            if any(normalized(value, states) == predicted for value, _ in reported):
                continue
            value, frame = reported[-1]
            if normalized(value, states) is not None:
                note = (
                    f"after {pending.label}, the catalogue expects {level} {predicted}; the adapter said {value}"
                )
                if note in self.other_states or len(self.other_states) < MOST_NAMES:
                    self.other_states.setdefault(note, Seen()).add(frame)
                continue
            key = (level, value)
            if key not in self.mappings and len(self.mappings) < MOST_NAMES:
                self.mappings[key] = Mapping_(level, value, predicted, pending.label)
            if key in self.mappings:
                self.mappings[key].seen.add(frame)

    def learn_startup_states(self, level: str, usable: str | None) -> None:
        """A state the adapter gave an object of ``level`` by itself at start-up in a name the catalogue does
        not know: proposed as its name for ``usable`` (the state a command would have brought it into)."""
        if usable is None:
            return
        spec = self.catalogue.levels.get(level)
        states = spec.states if spec is not None else frozenset()
        for at, _address, value, frame in self.startup_states:
            if at != level or normalized(value, states) is not None:
                continue
            key = (level, value)
            if key not in self.mappings and len(self.mappings) < MOST_NAMES:
                self.mappings[key] = Mapping_(level, value, usable, "the start-up (the state it became by itself)")
            if key in self.mappings:
                self.mappings[key].seen.add(frame)

    # -- following what was learned -----------------------------------------------------------------

    def translated(self, text: str) -> str | None:
        """The frame with a state the adapter names its own way replaced by the catalogue's state it was
        learned to mean (a mapping proposed in an earlier session), so that later sessions' set-ups follow
        the adapter (a call it calls ON_HOLD is held); None if there is nothing to replace."""
        if not self.mappings or self.session is None:
            return None
        message = classify(text)
        if not isinstance(message, Event) or not isinstance(message.data, dict):
            return None
        spec = self.catalogue.events.get(message.name)
        path = spec.sets.get("state") if spec is not None else None
        obj = self.session.model.get(message.target)
        value = find(message.data, path) if path is not None else None
        mapping = self.mappings.get((obj.level, value)) if obj is not None and isinstance(value, str) else None
        if mapping is None or path is None:
            return None
        mapping.followed += 1
        return json.dumps({**message.raw, "data": with_value(message.data, path, mapping.catalogue)})

    # -- what the start-up showed -------------------------------------------------------------------

    def startup_state_changes(self, level: str) -> list[tuple[str, str, str]]:
        """(address, state, frame) of each state the adapter gave an object of ``level`` during the start-up
        that is not the level's initial state (spelled the catalogue's way or not)."""
        spec = self.catalogue.levels.get(level)
        states = spec.states if spec is not None else frozenset()
        initial = spec.initial if spec is not None else None
        return [
            (address, value, frame)
            for at, address, value, frame in self.startup_states
            if at == level and normalized(value, states) != initial
        ]


def _new_objects(pending: _Pending, model: ObjectModel) -> list[tuple[str, str]]:
    """The objects the step created, the adapter's paired with the simulation's by level, in order."""
    real: dict[str, list[str]] = {}
    for address, obj in model.objects.items():
        if address not in pending.before:
            real.setdefault(obj.level, []).append(address)
    pairs: list[tuple[str, str]] = []
    taken: dict[str, int] = {}
    for address, obj in pending.predicted.objects.items():
        if address in pending.before:
            continue
        index = taken.get(obj.level, 0)
        if index < len(real.get(obj.level, [])):
            pairs.append((real[obj.level][index], address))
            taken[obj.level] = index + 1
    return pairs


def frames_of(seen: Seen | None) -> list[str]:
    return list(seen.evidence) if seen is not None else []


def describe_values(values: Mapping[str, Any]) -> str:
    return ", ".join(sorted(values)) or "none"
