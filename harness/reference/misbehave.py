"""The hooks through which the reference adapter's named faults act on one answer.

The adapter asks :meth:`Turn.begin` before it handles a request (or produces a stimulus): the turn notes
what its faults need to know of the platform as it was, and may answer in the simulation's place (a
refusal, an ignored request, a repeated needinfo). :meth:`Turn.finish` then changes what the simulation
answered and emitted, and what the platform keeps. Everything here transforms the catalogue-driven answer;
no event list or state transition is written down.

A session's faults remember a little between requests (how many legal requests of their commands came, an
event held back for the next answer, the last needinfo): that memory lives as long as the session's
platform.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from weakref import WeakKeyDictionary

from ..core.objects import SEPARATOR, MbObject, ObjectModel
from ..core.simulate import IdFactory, Platform, Refusal
from ..jsonpaths import MISSING, with_value, without
from .actions import (
    Deaf,
    Duplicate,
    Extra,
    Forget,
    Ghost,
    Ignore,
    Refuse,
    RepeatNeedinfo,
    Replay,
    Reset,
    Retarget,
    ReuseId,
    ShortEcho,
    Silent,
    Stale,
    Strip,
    Swap,
    Unreported,
)
from .faults import Fault

Message = dict[str, Any]
REFUSAL_MESSAGE = "the platform refused the request"


@dataclass
class Memory:
    """What the faults of one session remember between requests."""

    counts: dict[str, int] = field(default_factory=dict)  # fault -> requests of its owners that succeeded
    ghosts: list[Message] = field(default_factory=list)  # events to send (again) with the next answer
    needinfo: dict[str, Message] = field(default_factory=dict)  # command -> its last needinfo response
    deaf: bool = False  # nothing is answered any more (a fault's reader got stuck on a bad frame)


_MEMORY: WeakKeyDictionary[Platform, Memory] = WeakKeyDictionary()


def memory_of(platform: Platform) -> Memory:
    if platform not in _MEMORY:
        _MEMORY[platform] = Memory()
    return _MEMORY[platform]


@dataclass
class _ReusedIds(IdFactory):
    """An id factory that hands out ``reused`` for every object (while one request is handled)."""

    reused: str = ""

    def __call__(self, level: str) -> str:
        fresh = super().__call__(level)
        return self.reused or fresh


class Turn:
    """One request (or stimulus) with the faults that act on it."""

    def __init__(self, platform: Platform, request: Mapping[str, Any], owner: str, active: list[Fault]) -> None:
        self.platform = platform
        self.request = request
        self.owner = owner
        self.active = active
        self.memory = memory_of(platform)
        target = request.get("target")
        self.target = target if isinstance(target, str) else ""
        self.before: ObjectModel | None = None
        self.ids: IdFactory | None = None
        self.instead: Message | None = None  # the answer in the simulation's place

    @classmethod
    def begin(
        cls,
        platform: Platform,
        faults: Sequence[Fault],
        owner: str,
        request: Mapping[str, Any],
        lenient: frozenset[str] = frozenset(),
        stimulus: bool = False,
    ) -> Turn:
        """Before the request is handled: which faults act on it, and what they need to remember."""
        candidates = [fault for fault in faults if fault.acts_on(owner, stimulus, platform.platform)]
        memory = memory_of(platform)
        target = request.get("target")
        obj = platform.model.get(target) if isinstance(target, str) else None
        decision = platform.decide(request, lenient) if candidates and not stimulus else None
        legal = decision is None or decision.refusal is None
        succeeds = decision is None or decision.result == "success"  # a needinfo places no call yet
        active = []
        for fault in candidates:
            if not legal and not isinstance(fault.action, Strip | ShortEcho):
                continue
            if fault.states and (obj is None or obj.state not in fault.states):
                continue
            if fault.from_nth > 1:  # counts the requests that succeed: the nth hold, the nth call
                if not succeeds:
                    continue
                memory.counts[fault.name] = memory.counts.get(fault.name, 0) + 1
                if memory.counts[fault.name] < fault.from_nth:
                    continue
            active.append(fault)
        turn = cls(platform, request, owner, active)
        turn._prepare(obj)
        return turn

    def _prepare(self, obj: MbObject | None) -> None:
        platform = self.platform
        for fault in self.active:
            action = fault.action
            if isinstance(action, Stale | Forget) and self.before is None:
                self.before = platform.model.copy()
            elif isinstance(action, Refuse):
                self.instead = platform.failure(dict(self.request), Refusal(action.reason, REFUSAL_MESSAGE))
            elif isinstance(action, Ignore):
                self.instead = platform.respond(self.request, "success")
            elif isinstance(action, RepeatNeedinfo) and self.owner in self.memory.needinfo:
                self.instead = {**self.memory.needinfo[self.owner], **platform.respond(self.request, "needinfo")}
            elif isinstance(action, ReuseId) and obj is not None:
                first = next(platform.model.children_of(obj, action.level), None)
                if first is not None:
                    self.ids = platform.ids
                    platform.ids = _ReusedIds(platform.ids.prefix, platform.ids.counter, first.id)

    @classmethod
    def startup(
        cls, platform: Platform, faults: Sequence[Fault], owner: str | None, session: str, events: list[Message]
    ) -> list[Message]:
        """The start-up's announcements, changed by the faults of ``owner`` (the command whose list announces
        each channel group at start-up, ERRATA R33; None: no command's list) as one of its answers would be."""
        if owner is None:
            return events
        turn = cls.begin(platform, faults, owner, {"command": owner, "target": session}, stimulus=True)
        return turn.finish({}, events)[1:]

    def finish(self, response: Message, events: list[Message]) -> list[Message]:
        """After the request was handled (or answered in its place): the response, then the events."""
        if self.ids is not None:
            self.platform.ids = self.ids
        events = [*self.memory.ghosts, *events]
        self.memory.ghosts.clear()
        for fault in self.active:
            response, events = self._apply(fault, response, events)
        return [response, *events]

    def _apply(self, fault: Fault, response: Message, events: list[Message]) -> tuple[Message, list[Message]]:
        action = fault.action
        platform = self.platform
        if isinstance(action, Swap):
            events = _swapped(events, action.first, action.second)
        elif isinstance(action, Duplicate):
            at = _index(events, action.event)
            if at is not None:
                events.insert(at + 1, dict(events[at]))
        elif isinstance(action, Extra):
            example = platform.catalogue.events[action.event].example
            events.insert(0, platform.event(action.event, self.target, example))
        elif isinstance(action, Retarget):
            at = _index(events, action.event, about=self.target)
            if at is not None and SEPARATOR in self.target:
                events[at] = {**events[at], "target": self.target.rsplit(SEPARATOR, 1)[0]}
        elif isinstance(action, Stale):
            events = self._stale(events, action)
        elif isinstance(action, ShortEcho):
            value = response.get(action.member)
            if isinstance(value, str):
                response = {**response, action.member: value.rsplit(".", 1)[-1]}
        elif isinstance(action, Strip):
            if action.result is None or response.get("result") == action.result:
                response = without(response, "$." + action.member)
        elif isinstance(action, Forget):
            self._forget(action)
        elif isinstance(action, Reset):
            obj = platform.model.get(self.target)
            level = platform.catalogue.levels.get(obj.level) if obj is not None else None
            if obj is not None and level is not None and action.key in level.facets:
                obj.facets[action.key] = level.facets[action.key].initial
        elif isinstance(action, Unreported):
            events = []
        elif isinstance(action, Ghost):
            events = self._ghosts(events, action.later)
        elif isinstance(action, Replay) and events:
            self.memory.ghosts.append(dict(events[-1]))
        elif isinstance(action, RepeatNeedinfo) and response.get("result") == "needinfo":
            self.memory.needinfo[self.owner] = response
        return response, events

    def _stale(self, events: list[Message], action: Stale) -> list[Message]:
        at = _index(events, action.event)
        spec = self.platform.catalogue.events[action.event]
        path = spec.sets.get(action.key)
        if at is None or path is None or self.before is None:
            return events
        obj = self.before.get(str(events[at].get("target")))
        if obj is None:
            return events
        value = obj.state if action.key == "state" else obj.facets.get(action.key, MISSING)
        if value is None or value is MISSING:
            return events
        events[at] = {**events[at], "data": with_value(events[at].get("data", {}), path, value)}
        return events

    def _forget(self, action: Forget) -> None:
        """Put back what the platform had before, for the object and key the fault names."""
        before, model = self.before, self.platform.model
        if before is None:
            return
        if action.key is None:
            self.platform.model = before
            return
        address = self.target if action.whom == "target" else self.target.rsplit(SEPARATOR, 1)[0]
        old, now = before.get(address), model.get(address)
        if old is None or now is None:
            return
        if action.key == "state":
            now.state = old.state
        elif action.key in old.facets:
            now.facets[action.key] = old.facets[action.key]

    def _ghosts(self, events: list[Message], later: bool) -> list[Message]:
        """The last event about each disposed object, again after its disposal (or held for later)."""
        out: list[Message] = []
        for index, event in enumerate(events):
            out.append(event)
            spec = self.platform.catalogue.events.get(str(event.get("name")))
            if spec is None or not spec.disposes:
                continue
            earlier = [e for e in events[:index] if e.get("target") == event.get("target")]
            if not earlier:
                continue
            ghost = dict(earlier[-1])
            if later:
                self.memory.ghosts.append(ghost)
            else:
                out.append(ghost)
        return out


def _index(events: list[Message], name: str, about: str | None = None, start: int = 0) -> int | None:
    for index in range(start, len(events)):
        if events[index].get("name") == name and (about is None or events[index].get("target") == about):
            return index
    return None


def _swapped(events: list[Message], first: str, second: str) -> list[Message]:
    i = _index(events, first)
    j = _index(events, second, start=i + 1 if i is not None and first == second else 0)
    if i is None or j is None:
        return events
    events = list(events)
    events[i], events[j] = events[j], events[i]
    return events


def deaf(platform: Platform) -> bool:
    """The session answers nothing any more (see :class:`~.actions.Deaf`)."""
    return memory_of(platform).deaf


def unreadable(
    platform: Platform, faults: Sequence[Fault], kind: str, request: Mapping[str, Any], answer: list[Message]
) -> list[Message]:
    """The answer to a frame the catalogue cannot carry out (``kind``, one of ``faults.FRAMES``), as the faults
    that act on such frames have it: none at all, a success, or the answer and then nothing more."""
    for fault in faults:
        if kind not in fault.frames:
            continue
        if isinstance(fault.action, Silent):
            answer = []
        elif isinstance(fault.action, Ignore):
            answer = [platform.respond(request, "success")]
        elif isinstance(fault.action, Deaf):
            memory_of(platform).deaf = True
    return answer
