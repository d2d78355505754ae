"""The planner: which steps bring an object of a level into one of the given states?

It searches breadth-first over the catalogue's commands and stimuli, simulating each on a copy of the
object model (:mod:`.simulate`), so a plan follows from the specs alone. The result names objects the
plan creates as ``$p<step>_<name>`` (bound from the real events when the plan runs) and objects that
already exist by their address.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from ..spec.catalogue import Catalogue
from .objects import ObjectModel
from .simulate import Platform
from .steps import Step, StepKind

MAX_DEPTH = 6
MAX_NODES = 2000


@dataclass(frozen=True)
class Plan:
    steps: tuple[Step, ...]
    target: str  # "$name" or an address: the object that is in the wanted state


@dataclass
class _Node:
    platform: Platform
    steps: tuple[Step, ...]
    names: dict[str, str]  # simulated address -> "$name" for objects the plan created


def find_plan(
    model: ObjectModel,
    level: str,
    states: Iterable[str],
    commands: Iterable[str] | None = None,
    stimuli: Iterable[str] | None = None,
) -> Plan | None:
    """The shortest list of steps after which some ``level`` object is in one of ``states`` (no states:
    any object of that level)."""
    catalogue = model.catalogue
    wanted = frozenset(states)
    command_names = sorted(catalogue.commands if commands is None else commands)
    stimulus_names = sorted(catalogue.stimuli if stimuli is None else stimuli)
    queue = deque([_Node(Platform(catalogue, model.copy()), (), {})])
    seen = 0
    while queue and seen < MAX_NODES:
        node = queue.popleft()
        seen += 1
        for obj in node.platform.model.of_level(level):
            if obj.state in wanted or not wanted:
                return Plan(node.steps, node.names.get(obj.address, obj.address))
        if len(node.steps) >= MAX_DEPTH:
            continue
        representatives = _representatives(node.platform.model)
        for kind, name, spec_level, when in _actions(catalogue, command_names, stimulus_names):
            any_state = [state for (lvl, state) in representatives if lvl == spec_level]
            legal_in: list[str | None] = list(sorted(when)) if when else any_state
            for state in legal_in:
                address = representatives.get((spec_level, state))
                if address is not None:
                    queue.append(_successor(node, kind, name, address))
    return None


def _representatives(model: ObjectModel) -> dict[tuple[str, str | None], str]:
    """One object per (level, state): objects alike in both are interchangeable for planning, and it keeps
    the search small however many objects the IUT announces."""
    chosen: dict[tuple[str, str | None], str] = {}
    for obj in model.objects.values():
        chosen.setdefault((obj.level, obj.state), obj.address)
    return chosen


def _actions(
    catalogue: Catalogue, commands: list[str], stimuli: list[str]
) -> Iterator[tuple[StepKind, str, str, frozenset[str]]]:
    for name in commands:
        command = catalogue.commands[name]
        yield "command", name, command.level, command.when_states
    for name in stimuli:
        stimulus = catalogue.stimuli[name]
        yield "stimulus", name, stimulus.level, stimulus.when_states


def _successor(node: _Node, kind: StepKind, name: str, address: str) -> _Node:
    platform = node.platform.copy()
    index = len(node.steps) + 1
    if kind == "command":
        spec = platform.catalogue.commands[name]
        platform.handle({"command": name, "target": address, "data": dict(spec.example)})
    else:
        platform.stimulate(name, address)
    names = dict(node.names)
    bind = {}
    for entry_name, created in platform.last_bound.items():
        variable = f"p{index}_{entry_name}"
        bind[variable] = entry_name
        names[created] = f"${variable}"
    step = Step(kind, name, node.names.get(address, address), None, bind=bind, setup=True)
    return _Node(platform, (*node.steps, step), names)
