"""The object model: sessions, channel groups, channels, interactions and conversations, as events say.

One class serves three users: the reference adapter keeps its platform in it, the harness learns the IUT's
objects with it (the shadow model), and the planner simulates call flows on a copy of it. What an event
does to the model (create a child, set a state, initialize, dispose) is read from the event's spec
(``effect``); which states a level has comes from ``specs/states.yaml``.

Addressing (ERRATA R7): a target is ``<session-id>[.<channel-group-id>].<channel-id>...``, ids never
contain ``.``, and the level of a target is never guessed from its length: an address is looked up among
the objects the model knows, each of which was created with its level.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from ..jsonpaths import MISSING, find
from ..spec.catalogue import Catalogue
from .messages import Event

SEPARATOR = "."
DISPOSED_REMEMBERED = 4096


@dataclass
class MbObject:
    level: str
    address: str
    state: str | None = None
    initialized: bool = False
    info: dict[str, Any] = field(default_factory=dict)  # the data of the event that created it (never mutated)
    children: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.address.rsplit(SEPARATOR, 1)[-1]

    @property
    def parent_address(self) -> str | None:
        return self.address.rsplit(SEPARATOR, 1)[0] if SEPARATOR in self.address else None


@dataclass(frozen=True)
class Applied:
    """What applying one event did: the object it created (if any) and problems it revealed."""

    created: MbObject | None = None
    problems: tuple[str, ...] = ()


class ObjectModel:
    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self.objects: dict[str, MbObject] = {}
        self.session: MbObject | None = None
        # Addresses of disposed objects, remembered (boundedly) so a late event can be named precisely.
        self.disposed: dict[str, None] = {}

    def copy(self) -> ObjectModel:
        clone = ObjectModel(self.catalogue)
        clone.objects = {
            address: replace(obj, children=list(obj.children)) for address, obj in self.objects.items()
        }
        clone.session = clone.objects.get(self.session.address) if self.session else None
        clone.disposed = dict(self.disposed)
        return clone

    # -- look-ups -------------------------------------------------------------------------------

    def get(self, address: str) -> MbObject | None:
        return self.objects.get(address)

    def find_target(self, address: str, level: str) -> tuple[MbObject | None, str]:
        """The live object at ``address`` if it is at ``level``; else None and why not."""
        obj = self.objects.get(address)
        if obj is None:
            if address in self.disposed:
                return None, f"{address!r} was disposed"
            return None, f"no {level} {address!r} is known"
        if obj.level != level:
            return None, f"{address!r} is a {obj.level}, not a {level}"
        return obj, ""

    def of_level(self, level: str) -> Iterator[MbObject]:
        return (obj for obj in self.objects.values() if obj.level == level)

    def descendants(self, address: str, level: str | None = None) -> Iterator[MbObject]:
        prefix = address + SEPARATOR
        for obj in self.objects.values():
            if obj.address.startswith(prefix) and (level is None or obj.level == level):
                yield obj

    def unknown_address(self, level: str) -> str:
        """An address at ``level`` that names no object, under a live parent where there is one."""
        missing = "mbconform-missing"
        parents = self.catalogue.levels[level].parents if level in self.catalogue.levels else ()
        for parent_level in parents:
            for obj in self.of_level(parent_level):
                return obj.address + SEPARATOR + missing
        for parent_level in parents:
            return self.unknown_address(parent_level) + SEPARATOR + missing
        return missing

    # -- changes --------------------------------------------------------------------------------

    def start_session(self, session_id: str) -> MbObject:
        session = MbObject("session", session_id, initialized=False)
        self.objects[session_id] = session
        self.session = session
        return session

    def apply(self, event: Event) -> Applied:
        """Apply one event's effect (from its spec). Never raises; problems are returned."""
        spec = self.catalogue.events.get(event.name)
        if spec is None:
            return Applied(problems=(f"{event.name!r} is not an event of the catalogue",))
        if self.session is None and event.target and SEPARATOR not in event.target:
            self.start_session(event.target)  # ERRATA R10: the first event names the session
        elif self.session is None:
            self.start_session(event.target.split(SEPARATOR, 1)[0])
        obj = self.objects.get(event.target)
        if obj is None:
            why = "a disposed object" if event.target in self.disposed else "an unknown object"
            return Applied(problems=(f"{event.name} for {why} {event.target!r}",))
        problems: list[str] = []
        if obj.level not in spec.levels:
            problems.append(f"{event.name} cannot be about a {obj.level} (its levels: {sorted(spec.levels)})")
        data = event.data if isinstance(event.data, dict) else {}
        created = None
        if spec.creates_level and spec.creates_id_path:
            new_id = find(data, spec.creates_id_path)
            if not isinstance(new_id, str) or not new_id or SEPARATOR in new_id:
                problems.append(f"{event.name} carries no usable id at {spec.creates_id_path} (got {new_id!r})")
            else:
                created, problem = self._create(obj, spec.creates_level, new_id, data)
                if problem:
                    problems.append(problem)
        if spec.sets_state_path:
            state = find(data, spec.sets_state_path)
            level = self.catalogue.levels.get(obj.level)
            if state is MISSING:
                problems.append(f"{event.name} for {obj.address} has no state at {spec.sets_state_path}")
            elif not isinstance(state, str) or (level is not None and state not in level.states):
                problems.append(f"{event.name}: {state!r} is not a state of a {obj.level}")
            else:
                obj.state = state
        if spec.initializes:
            obj.initialized = True
        if spec.disposes:
            self._dispose(obj)
        return Applied(created, tuple(problems))

    def _create(self, parent: MbObject, level: str, new_id: str, data: dict[str, Any]) -> tuple[MbObject, str]:
        address = parent.address + SEPARATOR + new_id
        level_spec = self.catalogue.levels.get(level)
        problem = ""
        if level_spec is not None and parent.level not in level_spec.parents:
            problem = f"a {level} cannot be created in a {parent.level} ({parent.address})"
        if address in self.objects:
            problem = f"{address!r} is created a second time"
        obj = MbObject(level, address, state=level_spec.initial if level_spec else None, info=data)
        self.objects[address] = obj
        parent.children.append(address)
        return obj, problem

    def _dispose(self, obj: MbObject) -> None:
        for gone in [*self.descendants(obj.address), obj]:
            self.objects.pop(gone.address, None)
            self.disposed[gone.address] = None
            if len(self.disposed) > DISPOSED_REMEMBERED:
                del self.disposed[next(iter(self.disposed))]
        parent = self.objects.get(obj.parent_address or "")
        if parent is not None and obj.address in parent.children:
            parent.children.remove(obj.address)
