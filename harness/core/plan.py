"""The planner: which steps bring some object into the situation a test needs?

A :class:`Goal` says what the test will send (a command with its data) and what the catalogue must
decide for it there (the default success, a named outcome, or a refusal for the object's state). The
planner searches breadth-first over the catalogue's commands and stimuli, simulating each on a copy of
the object model (:mod:`.simulate`), so a plan follows from the specs alone. The result names objects the
plan creates as ``$p<step>_<name>`` (bound from the real events when the plan runs) and objects that
already exist by their address.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import suppress
from dataclasses import dataclass, field, replace
from typing import Any

from ..spec.catalogue import Catalogue, with_facts
from .conditions import legal
from .objects import SEPARATOR, MbObject, ObjectModel
from .refusals import situation_of
from .simulate import DEFAULT, Platform, Refusal
from .steps import Step, StepKind

MAX_DEPTH = 6
MAX_NODES = 3000
GROWTH = 2  # objects of a level a plan may create beyond those at the start

REFUSED_STATE = "refused (invalid_state)"
LEGAL = "legal"  # any decision but a refusal: the precondition holds
PLANNED = frozenset({"envelope"})  # a planned request is well formed
PLANNED_VALID = frozenset({"envelope", "data"})  # ... and its data is a valid example


@dataclass(frozen=True)
class Goal:
    """An object of ``level`` on which ``command`` with ``data`` brings the decision named ``decision``
    ("default", an outcome's name, ``REFUSED_STATE``, or ``LEGAL``), optionally in ``state``. Without a
    command: any object of ``level`` in ``state`` (if given)."""

    level: str
    command: str | None = None
    data: Mapping[str, Any] | None = None  # None: the command's example for the platform
    decision: str = DEFAULT
    state: str | None = None
    description: str = field(default="", compare=False)
    address: str | None = None  # only this object (a flow that goes on with the call it works on)
    # only an object in this kind of situation as far as the command's precondition looks at it (a refusal
    # beyond the state: :mod:`.refusals`)
    situation: tuple[str, ...] | None = None

    def accepts(self, platform: Platform, obj: MbObject) -> bool:
        if obj.level != self.level or (self.state is not None and obj.state != self.state):
            return False
        if self.address is not None and obj.address != self.address:
            return False
        if self.command is None:
            return True
        spec = platform.catalogue.commands[self.command]
        if self.situation is not None and situation_of(spec.when, platform.model, obj) != self.situation:
            return False
        data = self.data if self.data is not None else spec.example_for(platform.platform)
        request = {"command": self.command, "target": obj.address, "data": with_facts(dict(data), platform.facts)}
        decision = platform.decide(request)
        if self.decision == LEGAL:
            return decision.refusal is None
        return decision.name == self.decision

    @property
    def key(self) -> str:
        """The goal without its description (equal goals are planned once)."""
        return repr((self.level, self.command, self.data, self.decision, self.state, self.address, self.situation))

    def describe(self) -> str:
        if self.description:
            return self.description
        where = f"{'an' if self.level[:1] in 'aeiou' else 'a'} {self.level}" + (
            f" in {self.state}" if self.state else ""
        )
        return where if self.command is None else f"{where} where {self.command} brings {self.decision}"


@dataclass(frozen=True)
class Plan:
    steps: tuple[Step, ...]
    target: str  # "$name" or an address: the object that meets the goal
    # Each address the plan names (objects that existed before it): which object that is, by its kind of
    # situation and rank, so the plan can be replayed on another model that starts out alike.
    anchors: Mapping[str, tuple[str, int]] = field(default_factory=dict)

    def relocate(self, model: ObjectModel) -> Plan | None:
        """This plan for ``model``: each anchored address replaced by the live object of the same kind and
        rank; None if ``model`` has no such object (then plan afresh)."""
        found: dict[str, str] = {}
        for address, place in self.anchors.items():
            there = anchored(model, place)
            if there is None:
                return None
            found[address] = there
        steps = tuple(replace(step, target=found.get(step.target, step.target)) for step in self.steps)
        return Plan(steps, found.get(self.target, self.target))


@dataclass
class _Node:
    platform: Platform
    steps: tuple[Step, ...]
    names: dict[str, str]  # simulated address -> "$name" for objects the plan created


class Explorer:
    """A breadth-first exploration from one situation, shared by every goal planned from it.

    Successors are simulated on copies of the platform. Situations alike in every object's level, state,
    facets, media and children are visited once, and no plan creates more than ``GROWTH`` objects of a
    level beyond those that exist at the start (a test never needs a third chat or a second channel group,
    and the bound keeps the search small)."""

    def __init__(
        self,
        platform: Platform,
        commands: Iterable[str] | None = None,
        stimuli: Iterable[str] | None = None,
        max_nodes: int = MAX_NODES,
        max_depth: int = MAX_DEPTH,
        within: str | None = None,
    ) -> None:
        self.within = within  # only steps on this object and on objects inside it (None: on any object)
        self.actions = list(_actions(platform.catalogue, platform.platform, commands, stimuli))
        root = _Node(platform.copy(), (), {})
        self.nodes = [root]
        self.visited = {situation(root.platform.model)}
        self.expanded = 0
        self.max_nodes = max_nodes
        self.max_depth = max_depth
        self.limits = {level: count + GROWTH for level, count in _counts(root.platform.model).items()}
        self.valid_examples = {
            name
            for kind, name, _ in self.actions
            if kind == "command"
            and not platform.catalogue.commands[name].request_errors(
                platform.platform, platform.catalogue.commands[name].example_for(platform.platform)
            )
        }

    def plan(self, goal: Goal, limit: int | None = None) -> Plan | None:
        """The shortest list of steps after which some object meets ``goal``; ``limit``: found among the first
        so many situations of the exploration (the same answer whatever was explored before)."""
        limit = self.max_nodes if limit is None else min(limit, self.max_nodes)
        index = 0
        while True:
            while index < min(len(self.nodes), limit):
                node = self.nodes[index]
                index += 1
                for obj in list(node.platform.model.of_level(goal.level)):
                    if goal.accepts(node.platform, obj):
                        return self._anchored(node.steps, node.names.get(obj.address, obj.address))
            if index >= limit or not self._expand_next():
                return None

    def walk(self, limit: int | None = None) -> Iterator[Platform]:
        """The situations of the exploration in breadth-first order (the first ``limit`` of them), exploring
        further as needed: the same order whatever was explored before."""
        limit = self.max_nodes if limit is None else min(limit, self.max_nodes)
        index = 0
        while True:
            while index < min(len(self.nodes), limit):
                yield self.nodes[index].platform
                index += 1
            if index >= limit or not self._expand_next():
                return

    def _anchored(self, steps: tuple[Step, ...], target: str) -> Plan:
        model = self.root
        anchors = {}
        for address in {step.target for step in steps} | {target}:
            place = anchor(model, address)
            if place is not None:
                anchors[address] = place
        return Plan(steps, target, anchors)

    @property
    def root(self) -> ObjectModel:
        """The model the exploration starts from (plans name its objects by their addresses)."""
        return self.nodes[0].platform.model

    def _expand_next(self) -> bool:
        while self.expanded < len(self.nodes) and len(self.nodes) < self.max_nodes:
            node = self.nodes[self.expanded]
            self.expanded += 1
            if len(node.steps) >= self.max_depth:
                continue
            before = len(self.nodes)
            representatives = _representatives(node.platform.model, self.within)
            for kind, name, level in self.actions:
                for obj in representatives.get(level, ()):
                    if not self._possible(node.platform, kind, name, obj):
                        continue
                    successor = _successor(node, kind, name, obj.address, self._trusted(name))
                    model = successor.platform.model
                    if any(count > self.limits.get(lvl, GROWTH) for lvl, count in _counts(model).items()):
                        continue
                    signature = situation(model)
                    if signature not in self.visited:
                        self.visited.add(signature)
                        self.nodes.append(successor)
            if len(self.nodes) > before:
                return True
        return False

    def _trusted(self, command: str) -> frozenset[str]:
        """The checks a simulated request of the planner needs not pass: it is well formed, and its data is
        the command's example (valid, if the example is)."""
        return PLANNED_VALID if command in self.valid_examples else PLANNED

    def _possible(self, platform: Platform, kind: StepKind, name: str, obj: MbObject) -> bool:
        if kind == "command":
            spec = platform.catalogue.commands[name]
            request = {"command": name, "target": obj.address, "data": dict(spec.example_for(platform.platform))}
            decision = platform.decide(request, self._trusted(name))
            return decision.refusal is None and decision.result == "success"
        stimulus = platform.catalogue.stimuli[name]
        return not legal(stimulus.when, platform.model, obj, platform.context())


def find_plan(
    platform: Platform,
    goal: Goal,
    commands: Iterable[str] | None = None,
    stimuli: Iterable[str] | None = None,
) -> Plan | None:
    """The shortest list of steps after which some object meets ``goal``, simulated on a copy of
    ``platform`` (its model, kind and facts)."""
    return Explorer(platform, commands, stimuli).plan(goal)


def _counts(model: ObjectModel) -> dict[str, int]:
    counts: dict[str, int] = {}
    for obj in model.objects.values():
        counts[obj.level] = counts.get(obj.level, 0) + 1
    return counts


def _object_keys(model: ObjectModel) -> dict[str, str]:
    """Each object's kind of situation, by address: what makes objects interchangeable for planning: level,
    state, facets (but not which child has the focus: ids differ between sessions), media, the parent's
    level, and the same of each child."""
    levels = model.catalogue.levels
    own: dict[str, str] = {}
    for address, o in model.objects.items():
        level = levels.get(o.level)
        facets = sorted((k, v) for k, v in o.facets.items() if not (level and level.facets[k].child))
        own[address] = f"{o.level}:{o.state}:{facets}"
    keys = {}
    for address, obj in model.objects.items():
        parent = model.parent_of(obj)
        children = sorted(own[c] for c in obj.children if c in own)
        keys[address] = f"{own[address]}:{model.media_of(obj)}:{parent.level if parent else None}:{children}"
    return keys


def anchor(model: ObjectModel, address: str) -> tuple[str, int] | None:
    """Which object ``address`` is, without its id: its kind of situation and its rank among the objects
    alike (None if the model has no such object). The same anchor names the same object in a model alike."""
    keys = _object_keys(model)
    if address not in keys:
        return None
    alike = [other for other, key in keys.items() if key == keys[address]]
    return keys[address], alike.index(address)


def anchored(model: ObjectModel, place: tuple[str, int]) -> str | None:
    """The address of the object at ``place`` (see :func:`anchor`) in ``model``, if there is one."""
    wanted, rank = place
    alike = [address for address, key in _object_keys(model).items() if key == wanted]
    return alike[rank] if rank < len(alike) else None


def situation(model: ObjectModel) -> tuple[str, ...]:
    """The kind of situation ``model`` is in: every object's level, state, facets, media and children, without
    ids. Models alike in it are interchangeable for planning (a plan found for one is relocated to the other)."""
    return tuple(sorted(_object_keys(model).values()))


def _representatives(model: ObjectModel, within: str | None = None) -> dict[str, list[MbObject]]:
    """One object per kind of situation: objects alike in level, state, facets, media and children are
    interchangeable for planning, and it keeps the search small however many objects the IUT announces.
    ``within``: only that object and the objects inside it."""
    chosen: dict[str, MbObject] = {}
    for address, key in _object_keys(model).items():
        if within is not None and address != within and not address.startswith(within + SEPARATOR):
            continue
        chosen.setdefault(key, model.objects[address])
    by_level: dict[str, list[MbObject]] = {}
    for key in sorted(chosen):  # by kind, not by the order the adapter announced them: the search is the same
        by_level.setdefault(chosen[key].level, []).append(chosen[key])
    return by_level


def _actions(
    catalogue: Catalogue, platform: str, commands: Iterable[str] | None, stimuli: Iterable[str] | None
) -> Iterator[tuple[StepKind, str, str]]:
    for name in sorted(catalogue.commands if commands is None else commands):
        command = catalogue.commands.get(name)
        if command is not None and platform in command.platforms:
            yield "command", name, command.level
    for name in sorted(catalogue.stimuli if stimuli is None else stimuli):
        stimulus = catalogue.stimuli.get(name)
        if stimulus is not None and (not stimulus.platforms or platform in stimulus.platforms):
            yield "stimulus", name, stimulus.level


def _successor(node: _Node, kind: StepKind, name: str, address: str, trusted: frozenset[str]) -> _Node:
    platform = node.platform.copy()
    index = len(node.steps) + 1
    if kind == "command":
        spec = platform.catalogue.commands[name]
        request = {"command": name, "target": address, "data": dict(spec.example_for(platform.platform))}
        platform.handle(request, skip_checks=trusted)
    else:
        with suppress(Refusal):
            platform.stimulate(name, address)
    names = dict(node.names)
    bind = {}
    for entry_name, created in platform.last_bound.items():
        variable = f"p{index}_{entry_name}"
        bind[variable] = entry_name
        names[created] = f"${variable}"
    step = Step(kind, name, node.names.get(address, address), None, bind=bind, setup=True)
    return _Node(platform, (*node.steps, step), names)
